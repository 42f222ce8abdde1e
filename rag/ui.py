"""Gradio chat page: ask about “Soundtrack #1” in English or German and read the cited passages."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any

from rag.answer import Answer
from rag.api import GENERIC_ERROR, brief, fill_defaults, make_ask
from rag.errors import RagError
from rag.serve import feedback
from rag.serve.feedback import feedback_panel
from rag.serve.request import MAX_HISTORY, check_k
from rag.serve.sources import (
    LANGUAGE_NAMES,
    MARK,
    format_error,
    format_reply,
    format_sources,
    shown_question,
)

if TYPE_CHECKING:
    import gradio as gr

    from rag.assistant import Assistant
    from rag.config import Settings

log = logging.getLogger("rag.ui")

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

INTRO = ("## Soundtrack #1 — questions & answers\nAsk about the K-drama *Soundtrack #1* in "
         "**English** or **German**. Every answer cites passages from an English review and a "
         "German article; in the passages that score near their language's best, the sentence closest to "
         f'the question is <mark style="{MARK}">highlighted</mark>.')


def respond(assistant: Assistant, question: Any, messages: Any, asked: Any, k: Any = 3,
            languages: Any = None) -> tuple[list[dict], list[str], str, str]:
    """Answer a chat question (see answer_turn): the chat, the earlier questions, the sources, "" for the box."""
    shown, asked, sources, _ = answer_turn(assistant, question, messages, asked, k, languages)
    return shown, asked, sources, ""


def answer_turn(assistant: Assistant, question: Any, messages: Any, asked: Any, k: Any = 3,
                languages: Any = None) -> tuple[list[dict], list[str], str, Answer | None]:
    """Answer a chat question; every input arrives unprocessed from the browser and is checked here.

    Args:
        assistant: the shared assistant.
        question: the text typed by the user.
        messages: the chat so far (this visitor's server-side state).
        asked: the earlier questions (server-side state), passed on as the history.
        k: passages per language (the slider).
        languages: the ticked languages.

    Returns:
        The chat messages, the earlier questions, the sources panel, and the Answer (None on an error).
    """
    messages = list(messages) if isinstance(messages, list) else []
    answer = None
    asked = list(asked) if isinstance(asked, list) else []
    if isinstance(question, str) and question.strip():
        messages.append({"role": "user", "content": html.escape(shown_question(question), quote=False)})
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
    return messages[-MAX_MESSAGES:], asked, sources, answer


def create_app(assistant: Assistant, learning: bool = False) -> gr.Blocks:
    """Build the chat page around one shared assistant (nothing is launched).

    Args:
        assistant: the loaded assistant, shared by every visitor.
        learning: offer "Learn from votes" (only for a page on this machine or behind a login).

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
                votes = feedback_panel(assistant, learning)
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
        def chat_fn(*args: Any) -> tuple[Any, ...]:
            shown, asked_now, panel, answer = answer_turn(assistant, *args)
            # the chat, and its copy in this visitor's state; the passages to vote on
            return shown, shown, asked_now, panel, "", feedback.shown(answer), gr.update(
                choices=feedback.choices(answer), value=None)

        chat = {"fn": chat_fn, "inputs": [question, messages, asked, k, langs],
                "outputs": [chatbot, messages, asked, sources, question, votes.last, votes.choice],
                "preprocess": False, "api_visibility": "private"}
        gr.on([question.submit, ask.click], **chat)
        examples.load_input_event.then(**chat)  # an example click asks it
        clear.click(lambda: ([], [], [], "", "", {}, gr.update(choices=[], value=None)), None,
                    [chatbot, messages, asked, sources, question, votes.last, votes.choice],
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

    local = host in ("127.0.0.1", "localhost", "::1")
    demo = create_app(assistant or default_assistant(), learning=local or auth is not None)
    mcp = auth is None and importlib.util.find_spec("mcp") is not None
    if auth is None and not mcp:
        log.warning("MCP server off: install it with pip install -e \".[ui]\" (gradio[mcp])")
    demo.launch(server_name=host, server_port=port, auth=auth, mcp_server=mcp)
