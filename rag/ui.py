"""Gradio chat page: ask about “Soundtrack #1” in English or German and read the cited passages."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any

from rag.answer import Answer, Passage
from rag.api import GENERIC_ERROR, as_sentence, brief, fill_defaults, make_ask
from rag.errors import RagError
from rag.serve.request import MAX_HISTORY, check_k
from rag.terminal import printable

if TYPE_CHECKING:
    import gradio as gr

    from rag.assistant import Assistant
    from rag.config import Settings

log = logging.getLogger("rag.ui")

LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
NO_PASSAGE = {"en": "No relevant English passage.", "de": "Keine passende deutsche Textstelle."}
# Questions of the eval set (tests/test_real_model.py checks each cites its answer first in both languages).
EXAMPLES = ["Wer spielt Eun-soo?", "Who plays the composer Kang Woo-il?", "Wofür ist Regisseurin Kim Hee-won bekannt?",
            "How's the cinematography?"]
NO_LANGUAGE = "Tick at least one language under “Options” to search."
PLACEHOLDER = "Ask in English or German, e.g. “Wer führte Regie?” — then press Enter"
WELCOME = "Ask about *Soundtrack #1* in English or German — or click an example below."
CONCURRENCY = 4  # questions answered at the same time; the rest wait in the queue
MAX_MESSAGES = 100  # chat messages kept per visitor (the oldest go first)
SLIDER_MAX = 10


def default_k(settings: Settings) -> int:
    """The slider's starting value: RAG_K, within the slider's range."""
    return min(settings.k, SLIDER_MAX)

# The chat holds plain text (what screen readers announce); the sources panel is HTML built here
# from escaped text, with inline styles.
CARD = ("margin:6px 0;padding:8px 10px;border-left:3px solid var(--color-accent);"
        "border-radius:6px;background:var(--background-fill-secondary)")
META = "font-size:0.85em;color:var(--body-text-color-subdued);margin-bottom:4px"
HEADING = "font-weight:600;margin:10px 0 2px;border-bottom:1px solid var(--border-color-primary)"
TEXT = "font-size:0.95em;line-height:1.5"
GRID = "display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:0 16px"
MARK = "background:#fde68a;color:#1f2937;padding:0 2px;border-radius:3px"
INTRO = ("## Soundtrack #1 — questions & answers\nAsk about the K-drama *Soundtrack #1* in "
         "**English** or **German**. Every answer cites passages from an English review and a "
         "German article; the sentence that answers best is "
         f'<mark style="{MARK}">highlighted</mark>.')


def _highlighted(passage: Passage) -> str:
    """The passage text as escaped HTML with its highlight sentence wrapped in <mark>."""
    if not passage.highlight or passage.highlight not in passage.text:
        return html.escape(passage.text)
    before, found, after = passage.text.partition(passage.highlight)
    return (f"{html.escape(before)}<mark style=\"{MARK}\">{html.escape(found)}</mark>"
            f"{html.escape(after)}")


def _lines(passage: Passage) -> str:
    if passage.line_start == passage.line_end:
        return f"line {passage.line_start}"
    return f"lines {passage.line_start}–{passage.line_end}"


def _passage_card(number: int, passage: Passage) -> str:
    """One cited passage as a list item: citation number, source, lines, score, then the highlighted text."""
    meta = (f"<b>[{number}]</b> {html.escape(printable(passage.source))} · {_lines(passage)} · "
            f"score {passage.score:.2f}")
    body = f'<div style="{TEXT}">{_highlighted(passage)}</div>'
    return f'<li style="{CARD}"><div style="{META}">{meta}</div>{body}</li>'


def format_sources(answer: Answer, languages: list[str] | None = None) -> str:
    """The sources panel: the passages grouped by language, as safe, structured HTML.

    Args:
        answer: the assistant's answer.
        languages: the languages to give a section (default: those with passages).

    Returns:
        HTML (headings and lists, for screen readers too) in which every text is escaped; "" without passages.
    """
    if not answer.passages:
        return ""
    grouped = answer.by_language()
    wanted = languages or list(grouped)
    order = sorted(wanted, key=lambda lang: (lang != answer.lang, wanted.index(lang)))
    sections = []
    for lang in order:
        name = html.escape(LANGUAGE_NAMES.get(lang, lang))
        cards = "".join(_passage_card(n, p) for n, p in grouped.get(lang, []))
        none = NO_PASSAGE.get(lang, f"No relevant {lang} passage.")
        cards = (f'<ol style="list-style:none;padding:0;margin:0">{cards}</ol>' if cards
                 else f"<p><i>{html.escape(none)}</i></p>")
        sections.append(f'<section lang="{html.escape(lang)}"><h3 style="{HEADING}">{name}</h3>{cards}</section>')
    title = f"Sources for “{html.escape(_shown_question(answer.question, 120))}”"
    return (f'<div role="region" aria-label="Sources"><h2 style="font-size:1.05em;margin:4px 0">{title}</h2>'
            f'<div style="{GRID}">{"".join(sections)}</div></div>')


def format_reply(answer: Answer) -> str:
    """The chat reply: the short answer and where its [n] citations come from, as escaped plain text."""
    lines = [answer.text]
    if answer.passages:
        cited = "; ".join(f"[{n}] {printable(p.source)}, {_lines(p)}" for n, p in enumerate(answer.passages, start=1))
        lines.append(f"Sources (below): {cited}")
    return html.escape("\n".join(lines), quote=False)


def format_error(message: str) -> str:
    """An error message for the chat, as escaped plain text."""
    return html.escape(f"⚠ {as_sentence(message)}", quote=False)


def _shown_question(question: str, limit: int = 300) -> str:
    """The question as plain text for the chat, shortened when very long."""
    text = " ".join(question.split())
    return text if len(text) <= limit else text[:limit] + "…"


def respond(assistant: Assistant, question: Any, messages: Any, asked: Any, k: Any = 3,
            languages: Any = None) -> tuple[list[dict], list[str], str, str]:
    """Answer a chat question; every input arrives unprocessed from the browser and is checked here.

    Args:
        assistant: the shared assistant.
        question: the text typed by the user.
        messages: the chat so far (this visitor's server-side state).
        asked: the earlier questions (server-side state), passed on as the history.
        k: passages per language (the slider).
        languages: the ticked languages.

    Returns:
        The chat messages, the earlier questions, the sources panel, and "" to clear the input box.
    """
    messages = list(messages) if isinstance(messages, list) else []
    asked = list(asked) if isinstance(asked, list) else []
    if isinstance(question, str) and question.strip():
        messages.append({"role": "user", "content": html.escape(_shown_question(question), quote=False)})
    sources = ""
    try:
        if isinstance(languages, list) and not languages:
            reply = format_error(NO_LANGUAGE)
        else:
            answer = assistant.ask(question, k=check_k(k, SLIDER_MAX), languages=languages,
                                   history=asked[-MAX_HISTORY:])
            reply, sources = format_reply(answer), format_sources(answer, languages or assistant.languages)
            asked = [*asked, answer.question][-MAX_HISTORY:]
    except RagError as exc:
        reply = format_error(str(exc))
    except Exception:
        log.exception("answering %s failed", brief(question))
        reply = format_error(GENERIC_ERROR)
    messages.append({"role": "assistant", "content": reply})
    return messages[-MAX_MESSAGES:], asked, sources, ""


def create_app(assistant: Assistant) -> gr.Blocks:
    """Build the chat page around one shared assistant (nothing is launched).

    Args:
        assistant: the loaded assistant, shared by every visitor.

    Returns:
        The Gradio Blocks app, with its queue enabled, the `/ask` API and (when launched with
        mcp_server=True) the MCP tool `ask_soundtrack`.
    """
    import gradio as gr

    choices = [(LANGUAGE_NAMES.get(lang, lang), lang) for lang in assistant.languages]
    with gr.Blocks(title="Soundtrack #1 — Q&A", analytics_enabled=False) as demo:
        gr.Markdown(INTRO)
        messages, asked = gr.State([]), gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                # Plain-text messages (escaped): screen readers announce words, not markup.
                chatbot = gr.Chatbot(label="Chat", show_label=False, height=360, elem_id="chat",
                                     render_markdown=False, sanitize_html=True, latex_delimiters=[],
                                     allow_tags=False, feedback_options=None,
                                     group_consecutive_messages=False, placeholder=WELCOME)
                with gr.Row():
                    question = gr.Textbox(show_label=False, scale=5, autofocus=True,
                                          elem_id="question", placeholder=PLACEHOLDER)
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                    clear = gr.Button("Clear", scale=1, min_width=80)
                examples = gr.Examples([[q] for q in EXAMPLES], inputs=question, label="Try an example",
                                       api_visibility="private")
                sources = gr.HTML(elem_id="sources")
            with gr.Column(scale=1, min_width=240):
                with gr.Accordion("Options", open=True):
                    k = gr.Slider(1, SLIDER_MAX, value=default_k(assistant.settings), step=1,
                                  label="Passages per language")
                    langs = gr.CheckboxGroup(choices, value=list(assistant.languages),
                                             label="Languages to show")
                with gr.Accordion("API (JSON)", open=False):
                    gr.Markdown('`Client(url).predict("Wer führte Regie?", k=3, languages=["en", "de"], '
                                'history=[], api_name="/ask")`')
                    api_question = gr.Textbox(label="Question", value=EXAMPLES[0])
                    api_button = gr.Button("Get JSON", size="sm")
                    api_answer = gr.JSON(label="Answer.to_dict()", max_height=400)
        # preprocess=False: the handler sees what the browser sent (no coercion of lists or numbers to text).
        def chat_fn(*args: Any) -> tuple[list[dict], list[dict], list[str], str, str]:
            shown, asked_now, panel, box = respond(assistant, *args)
            return shown, shown, asked_now, panel, box  # the chat, and its copy in this visitor's state

        chat = {"fn": chat_fn, "inputs": [question, messages, asked, k, langs],
                "outputs": [chatbot, messages, asked, sources, question], "preprocess": False,
                "api_visibility": "private"}
        gr.on([question.submit, ask.click], **chat)
        examples.load_input_event.then(**chat)  # an example click asks it
        clear.click(lambda: ([], [], [], "", ""), None, [chatbot, messages, asked, sources, question],
                    api_visibility="private", queue=False)
        ask_api = make_ask(assistant)
        api_button.click(ask_api, api_question, api_answer, api_visibility="private")
        gr.api(ask_api, api_name="ask")
    fill_defaults(demo, ask_api)  # `/ask` with only a question: k, languages and history take their defaults
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=64)
    return demo


def launch(assistant: Assistant | None = None, host: str = "127.0.0.1", port: int | None = None,
           auth: tuple[str, str] | None = None) -> None:
    """Serve the chat page, its `/ask` API and (without auth) its MCP server until interrupted.

    Args:
        assistant: the assistant to share (default: the default index, built when missing).
        host: the address to listen on; 127.0.0.1 keeps the page private to this machine.
        port: the port (default: GRADIO_SERVER_PORT, else 7860).
        auth: (user, password) to ask for before showing the page. Gradio's MCP route does not ask for
            a login, so with auth the MCP server stays off.
    """
    import importlib.util

    from rag.assistant import default_assistant

    demo = create_app(assistant or default_assistant())
    mcp = auth is None and importlib.util.find_spec("mcp") is not None
    if auth is None and not mcp:
        log.warning("MCP server off: install it with pip install -e \".[ui]\" (gradio[mcp])")
    demo.launch(server_name=host, server_port=port, auth=auth, mcp_server=mcp)
