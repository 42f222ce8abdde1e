"""Gradio chat page: ask about “Soundtrack #1” in English or German and read the cited passages."""

from __future__ import annotations

import html
import logging
import re
from functools import partial
from typing import TYPE_CHECKING, Any

from rag.answer import Answer, Passage
from rag.errors import RagError

if TYPE_CHECKING:
    import gradio as gr

    from rag.assistant import Assistant

log = logging.getLogger("rag.ui")

LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
NO_PASSAGE = {"en": "No relevant English passage.", "de": "Keine passende deutsche Textstelle."}
EXAMPLES = ["Wer führte Regie?", "Who plays Seon-woo?", "Wie viele Folgen hat die Serie?",
            "What do critics say about the music?"]
GENERIC_ERROR = "Something went wrong while answering. Please try again in a moment."
NO_LANGUAGE = "Tick at least one language under “Options” to search."
PLACEHOLDER = "Ask in English or German, e.g. “Wer führte Regie?” — then press Enter"
WELCOME = "Ask about *Soundtrack #1* in English or German — or click an example below."
CONCURRENCY = 4  # questions answered at the same time; the rest wait in the queue

# Inline styles: the chat content is self-contained HTML (every text in it escaped first).
CARD = ("margin:6px 0;padding:8px 10px;border-left:3px solid var(--color-accent);"
        "border-radius:6px;background:var(--background-fill-secondary)")
META = "font-size:0.85em;color:var(--body-text-color-subdued);margin-bottom:4px"
HEADING = "font-weight:600;margin:10px 0 2px;border-bottom:1px solid var(--border-color-primary)"
TEXT = "font-size:0.95em;line-height:1.5"
GRID = "display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:0 16px"
MARK = "background:#fde68a;color:#1f2937;padding:0 2px;border-radius:3px"
ERROR = "margin:0;color:var(--error-text-color, #b91c1c)"
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


def _passage_card(number: int, passage: Passage) -> str:
    """One cited passage: citation number, source, lines, score, then the highlighted text."""
    lines = (f"line {passage.line_start}" if passage.line_start == passage.line_end
             else f"lines {passage.line_start}–{passage.line_end}")
    meta = f"<b>[{number}]</b> {html.escape(passage.source)} · {lines} · score {passage.score:.2f}"
    body = f'<div style="{TEXT}">{_highlighted(passage)}</div>'
    return f'<div style="{CARD}"><div style="{META}">{meta}</div>{body}</div>'


def format_answer(answer: Answer, languages: list[str] | None = None) -> str:
    """Render an answer as safe HTML: the short answer, then the passages grouped by language.

    Args:
        answer: the assistant's answer.
        languages: the languages to give a section (default: those with passages).

    Returns:
        HTML in which every question and corpus text is escaped.
    """
    text = re.sub(r"\s*\[(\d+)\]", r"<sup><b>[\1]</b></sup>", html.escape(answer.text))
    text = re.sub(r"</sup>\s+", "</sup><br>", text)  # one line per cited sentence
    if not answer.passages:
        return f"<p>{text}</p>"
    grouped = answer.by_language()
    wanted = languages or list(grouped)
    order = sorted(wanted, key=lambda lang: (lang != answer.lang, wanted.index(lang)))
    sections = []
    for lang in order:
        name = html.escape(LANGUAGE_NAMES.get(lang, lang))
        cards = "".join(_passage_card(n, p) for n, p in grouped.get(lang, []))
        none = NO_PASSAGE.get(lang, f"No relevant {lang} passage.")
        cards = cards or f"<p><i>{html.escape(none)}</i></p>"
        sections.append(f'<section><div style="{HEADING}">{name}</div>{cards}</section>')
    grid = f'<div style="{GRID}">{"".join(sections)}</div>'
    return f'<div><p style="margin:0 0 4px">{text}</p>{grid}</div>'


def _sentence(message: str) -> str:
    """An error message as a sentence: capital first letter."""
    return message[:1].upper() + message[1:]


def format_error(message: str) -> str:
    """Render an error message for the chat as escaped HTML."""
    return f'<p style="{ERROR}">⚠ {html.escape(_sentence(message))}</p>'


def _shown_question(question: str, limit: int = 300) -> str:
    """The question as escaped HTML for the user's chat bubble, shortened when very long."""
    text = question.strip()
    return html.escape(text if len(text) <= limit else text[:limit] + "…")


def respond(assistant: Assistant, question: Any, history: list[dict] | None, k: float = 3,
            languages: list[str] | None = None) -> tuple[list[dict], str]:
    """Answer a chat question and append the exchange to the history.

    Args:
        assistant: the shared assistant.
        question: the text typed by the user.
        history: the chat so far (messages with role and content).
        k: passages per language.
        languages: the languages to search; None means all.

    Returns:
        The new history and an empty string to clear the input box.
    """
    history = list(history or [])
    if isinstance(question, str) and question.strip():
        history.append({"role": "user", "content": _shown_question(question)})
    try:
        if languages is not None and not languages:
            reply = format_error(NO_LANGUAGE)
        else:
            answer = assistant.ask(question, k=int(k), languages=languages or None)
            reply = format_answer(answer, languages or assistant.languages)
    except RagError as exc:
        reply = format_error(str(exc))
    except Exception:
        log.exception("answering %r failed", question)
        reply = format_error(GENERIC_ERROR)
    history.append({"role": "assistant", "content": reply})
    return history, ""


def ask_json(assistant: Assistant, question: str) -> dict[str, Any]:
    """API endpoint `/ask`: the answer to a question as Answer.to_dict().

    Args:
        assistant: the shared assistant.
        question: the question in English or German.

    Returns:
        The answer as a JSON-serialisable dict.
    """
    import gradio as gr

    try:
        return assistant.ask(question).to_dict()
    except RagError as exc:
        raise gr.Error(_sentence(str(exc)), print_exception=False) from None
    except Exception:
        log.exception("API question %r failed", question)
        raise gr.Error(GENERIC_ERROR, print_exception=False) from None


def create_app(assistant: Assistant) -> gr.Blocks:
    """Build the chat page around one shared assistant (nothing is launched).

    Args:
        assistant: the loaded assistant, shared by every visitor.

    Returns:
        The Gradio Blocks app, with its queue enabled.
    """
    import gradio as gr

    choices = [(LANGUAGE_NAMES.get(lang, lang), lang) for lang in assistant.languages]
    with gr.Blocks(title="Soundtrack #1 — Q&A", analytics_enabled=False) as demo:
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column(scale=3):
                # Messages are HTML built here from escaped text: no markdown, LaTeX or custom tags.
                chatbot = gr.Chatbot(label="Chat", show_label=False, height=720, elem_id="chat",
                                     render_markdown=False, sanitize_html=True, latex_delimiters=[],
                                     allow_tags=False, feedback_options=None,
                                     group_consecutive_messages=False, placeholder=WELCOME)
                with gr.Row():
                    question = gr.Textbox(show_label=False, scale=5, autofocus=True,
                                          elem_id="question", placeholder=PLACEHOLDER)
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                    gr.ClearButton([chatbot, question], value="Clear", scale=1, min_width=80)
                gr.Examples([[q] for q in EXAMPLES], inputs=question, label="Try an example")
            with gr.Column(scale=1, min_width=240):
                with gr.Accordion("Options", open=True):
                    k = gr.Slider(1, 10, value=3, step=1, label="Passages per language")
                    langs = gr.CheckboxGroup(choices, value=list(assistant.languages),
                                             label="Languages to show")
                with gr.Accordion("API (JSON)", open=False):
                    gr.Markdown('`Client(url).predict("Wer führte Regie?", api_name="/ask")`')
                    api_question = gr.Textbox(label="Question", value=EXAMPLES[0])
                    api_button = gr.Button("Get JSON", size="sm")
                    api_answer = gr.JSON(label="Answer.to_dict()", max_height=400)
        gr.on([question.submit, ask.click], partial(respond, assistant),
              [question, chatbot, k, langs], [chatbot, question], api_visibility="private")
        api_button.click(partial(ask_json, assistant), api_question, api_answer, api_name="ask")
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=64)
    return demo


def launch(assistant: Assistant | None = None, host: str = "127.0.0.1", port: int | None = None,
           auth: tuple[str, str] | None = None) -> None:
    """Serve the chat page until interrupted.

    Args:
        assistant: the assistant to share (default: the default index, built when missing).
        host: the address to listen on; 127.0.0.1 keeps the page private to this machine.
        port: the port (default: GRADIO_SERVER_PORT, else 7860).
        auth: (user, password) to ask for before showing the page.
    """
    from rag.assistant import default_assistant

    demo = create_app(assistant or default_assistant())
    demo.launch(server_name=host, server_port=port, auth=auth)
