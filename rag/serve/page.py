"""The chat page: ask about “Soundtrack #1” in English or German; the answer first, its citations linked to
cards that open in their document; the conversation kept in the browser across a reload."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from rag.api import fill_defaults, make_ask
from rag.errors import ConfigError
from rag.ingest.intake import MAX_FILES
from rag.ingest.readers import SUFFIXES
from rag.ingest.tree import MAX_FILE_BYTES
from rag.profiles import profile
from rag.serve import feedback
from rag.serve.chat import MAX_TURNS, SLIDER_MAX, Turn, asked, conversation_html, take_turn
from rag.serve.feedback import feedback_panel
from rag.serve.look import CSS, JS, PAGE_CSS
from rag.serve.preparing import Preparing
from rag.serve.upload import Uploads
from rag.serve.viewer import MARK, VIEWER
from rag.serve.viewer import view as view_passage

if TYPE_CHECKING:
    import gradio as gr

    from rag.assistant import Assistant
    from rag.config import Settings

log = logging.getLogger("rag.ui")

# Questions of the eval set (tests/test_real_model.py checks each cites its answer first in both languages).
EXAMPLES = ["Wer spielt Eun-soo?", "Who plays the composer Kang Woo-il?", "Wofür ist Regisseurin Kim Hee-won bekannt?",
            "How's the cinematography?"]
PLACEHOLDER = "Ask in English or German, e.g. “Wer führte Regie?” — then press Enter"
# The colour inline as well: the page's first paint may come before the component's stylesheet (axe caught
# the theme's grey prose colour on it once, in a fresh-clone CI run).
WELCOME = ('<p class="rag-welcome" style="color: var(--body-text-color)">Ask about <i>Soundtrack #1</i> in English '
           "or German — or click an example below. Each answer cites its passages; click a citation to see it, and "
           "open it in its document.</p>")
CONCURRENCY = 4  # questions answered at the same time; the rest wait in the queue
SAVED = "soundtrack1-conversation"  # the browser's local storage key: the questions of this conversation


def default_k(settings: Settings) -> int:
    """The slider's starting value: RAG_K, within the slider's range."""
    return min(settings.k, SLIDER_MAX)


INTRO = ("# Soundtrack #1 — questions & answers\nAsk about the K-drama *Soundtrack #1* in "
         "**English** or **German**. Every answer cites passages from an English review and a "
         "German article; in each passage the sentence closest to the question is "
         f'<mark style="{MARK}">highlighted</mark>.')


def shown(turns: list[Turn]) -> str:
    """The conversation's HTML, or the welcome line when it is empty."""
    return conversation_html(turns) or WELCOME


def should_replay(saved: Any, current: Any) -> bool:
    """Whether a page load should replay the kept questions: only when some were kept and nothing was asked
    since the page opened (the load event may be answered after a first question, and must not wipe it)."""
    kept = isinstance(saved, list) and any(isinstance(q, str) for q in saved)
    return kept and not (isinstance(current, list) and current)


def replay(assistant: Assistant, saved: Any, k: Any, languages: Any) -> list[Turn]:
    """The conversation again from the questions the browser kept (a reload): each answered anew, in order.

    The browser keeps only the questions; answers, passages and viewers come from the index, never from it.
    """
    turns: list[Turn] = []
    questions = saved if isinstance(saved, list) else []
    for question in [q for q in questions if isinstance(q, str)][-MAX_TURNS:]:
        turns = take_turn(assistant, question, turns, k, languages)
    return [turn for turn in turns if turn.answer is not None]


def preparing_status(assistant: Assistant) -> None:
    """While the index is built behind the page: its progress, refreshed each second, then gone."""
    import gradio as gr

    if not isinstance(assistant, Preparing) or not assistant.status():
        return
    status = gr.Markdown(assistant.status(), elem_id="preparing")
    timer = gr.Timer(1.0)

    def tick() -> tuple[Any, Any]:
        now = assistant.status()
        return gr.update(value=now, visible=bool(now)), gr.Timer(active=bool(now))

    timer.tick(tick, None, [status, timer], api_visibility="private", queue=False)


def upload_panel(assistant: Assistant, langs: Any) -> None:
    """"Add documents": files checked and copied into the corpus, the index updated behind the page."""
    import gradio as gr

    uploads = Uploads(assistant)
    with gr.Accordion("Add documents", open=False, elem_id="add-documents"):
        files = gr.File(label=f"PDF, Word, HTML or text (at most {MAX_FILES}, each at most 50 MB)",
                        file_count="multiple", file_types=sorted(SUFFIXES), elem_id="upload")
        add = gr.Button("Add to the sources", size="sm", elem_id="add")
        status = gr.Markdown("", elem_id="upload-status")
    timer = gr.Timer(1.0, active=False)

    def start(paths: Any) -> tuple[Any, ...]:
        said = uploads.add([p for p in paths or [] if isinstance(p, str)])
        return said, None, gr.Timer(active=uploads.busy)

    def tick(chosen: Any) -> tuple[Any, ...]:
        if uploads.busy:
            return uploads.status(), gr.skip(), gr.skip()
        shown = [lang for lang in (chosen or [])] + [x for x in assistant.languages if x not in (chosen or [])]
        choices = [(profile(lang).name, lang) for lang in assistant.languages]
        return uploads.status(), gr.update(choices=choices, value=shown), gr.Timer(active=False)

    add.click(start, files, [status, files, timer], api_visibility="private")
    timer.tick(tick, langs, [status, langs, timer], api_visibility="private", queue=False)


def create_app(assistant: Assistant, learning: bool = False, uploads: bool = False) -> gr.Blocks:
    """Build the chat page around one shared assistant (nothing is launched).

    Args:
        assistant: the loaded assistant, shared by every visitor.
        learning: offer "Learn from votes" (only for a page on this machine or behind a login).
        uploads: offer "Add documents" (`app.py --allow-upload`; only on this machine or behind a login).

    Returns:
        The Gradio Blocks app, with its queue enabled, the `/ask` API and (when launched with
        mcp_server=True) the MCP tool `ask_soundtrack`.
    """
    import gradio as gr

    choices = [(profile(lang).name, lang) for lang in assistant.languages]
    with gr.Blocks(title="Soundtrack #1 — Q&A", analytics_enabled=False) as demo:
        gr.Markdown(INTRO)
        preparing_status(assistant)
        turns = gr.State([])
        saved = gr.BrowserState([], storage_key=SAVED)
        with gr.Row():
            with gr.Column(scale=3):
                def view(request: Any) -> dict[str, str]:  # the JS calls server.view(source, start, end)
                    return view_passage(assistant.index, request)

                # The page-wide style rides in this component's head: create_app works under any launch().
                conversation = gr.HTML(WELCOME, elem_id="conversation", html_template="${value}" + VIEWER,
                                       js_on_load=JS, css_template=CSS, server_functions=[view],
                                       head=f"<style>{PAGE_CSS}</style>", container=False, padding=False)
                with gr.Row():
                    question = gr.Textbox(show_label=False, scale=5, autofocus=True, elem_id="question",
                                          placeholder=PLACEHOLDER, label="Question")
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                    clear = gr.Button("Clear", scale=1, min_width=80, elem_id="clear")
                examples = gr.Examples([[q] for q in EXAMPLES], inputs=question, label="Try an example",
                                       api_visibility="private")
                votes = feedback_panel(assistant, learning)
            with gr.Column(scale=1, min_width=240):
                with gr.Accordion("Options", open=False, elem_id="options"):
                    k = gr.Slider(1, SLIDER_MAX, value=default_k(assistant.settings), step=1,
                                  label="Passages per language")
                    langs = gr.CheckboxGroup(choices, value=list(assistant.languages),
                                             label="Languages to show")
                if uploads:
                    upload_panel(assistant, langs)
                with gr.Accordion("API (JSON)", open=False):
                    gr.Markdown(f'`Client(url).predict("Wer führte Regie?", k=3, '
                                f'languages={list(assistant.languages)!r}, history=[], api_name="/ask")`')
                    api_question = gr.Textbox(label="Question", value=EXAMPLES[0])
                    api_button = gr.Button("Get JSON", size="sm")
                    api_answer = gr.JSON(label="Answer.to_dict()", max_height=400)

        # preprocess=False: the handler sees what the browser sent (no coercion of lists or numbers to text).
        def chat_fn(*args: Any) -> tuple[Any, ...]:
            now = take_turn(assistant, *args)
            answer = now[-1].answer
            return (shown(now), now, asked(now), "", feedback.shown(answer),
                    gr.update(choices=feedback.choices(answer), value=None))

        def restore(kept: Any, current: Any, k_now: Any, languages: Any) -> tuple[Any, ...]:
            if not should_replay(kept, current):
                return (gr.skip(),) * 4  # leave the conversation as it is
            now = replay(assistant, kept, k_now, languages)
            answer = now[-1].answer if now else None
            return (shown(now), now, feedback.shown(answer),
                    gr.update(choices=feedback.choices(answer), value=None))

        chat = {"fn": chat_fn, "inputs": [question, turns, k, langs],
                "outputs": [conversation, turns, saved, question, votes.last, votes.choice],
                "preprocess": False, "api_visibility": "private"}
        gr.on([question.submit, ask.click], **chat)
        examples.load_input_event.then(**chat)  # an example click asks it
        # The one clear: the conversation, its history, what the browser kept and the vote's passages.
        clear.click(lambda: (WELCOME, [], [], "", {}, gr.update(choices=[], value=None)), None,
                    [conversation, turns, saved, question, votes.last, votes.choice],
                    api_visibility="private", queue=False)
        # No progress overlay: it would dim the welcome while a fresh page's load event is pending.
        demo.load(restore, [saved, turns, k, langs], [conversation, turns, votes.last, votes.choice],
                  api_visibility="private", preprocess=False, show_progress="hidden")
        ask_api = make_ask(assistant)
        api_button.click(ask_api, api_question, api_answer, api_visibility="private")
        gr.api(ask_api, api_name="ask")
    fill_defaults(demo, ask_api)  # `/ask` with only a question: k, languages and history take their defaults
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=64)
    return demo


def launch(assistant: Assistant | None = None, host: str = "127.0.0.1", port: int | None = None,
           auth: tuple[str, str] | None = None, allow_upload: bool = False) -> None:
    """Serve the chat page, its `/ask` API and (without auth) its MCP server until interrupted.

    Args:
        assistant: the assistant to share (default: the default index, built when missing).
        host: the address to listen on; 127.0.0.1 keeps the page private to this machine.
        port: the port (default: GRADIO_SERVER_PORT, else 7860).
        auth: (user, password) to ask for before showing the page. Gradio's MCP route does not ask for
            a login, so with auth the MCP server stays off.
        allow_upload: offer "Add documents"; refused (ConfigError) on a public address without auth.

    Raises:
        ConfigError: allow_upload on an address other than this machine's, without auth.
    """
    import importlib.util

    from rag.assistant import default_assistant

    local = host in ("127.0.0.1", "localhost", "::1")
    if allow_upload and not (local or auth is not None):
        raise ConfigError(f"--allow-upload on {host} needs a login: add --auth-file FILE (or RAG_AUTH), or serve "
                          "on 127.0.0.1")
    demo = create_app(assistant or default_assistant(), learning=local or auth is not None, uploads=allow_upload)
    mcp = auth is None and importlib.util.find_spec("mcp") is not None
    if auth is None and not mcp:
        log.warning("MCP server off: install it with pip install -e \".[ui]\" (gradio[mcp])")
    demo.launch(server_name=host, server_port=port, auth=auth, mcp_server=mcp,
                max_file_size=MAX_FILE_BYTES if allow_upload else None)
