"""The chat page without a browser: construction, safe HTML and plain-text replies, error messages."""

from __future__ import annotations

import gradio as gr
import pytest

from rag.answer import Answer, Passage
from rag.assistant import Assistant
from rag.serve.request import MAX_QUESTION_CHARS
from rag.serve.sources import NO_PASSAGE, format_reply, format_sources
from rag.ui import CONCURRENCY, create_app, respond

# gradio's queue calls a pandas API that pandas 3 deprecates: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")
XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


@pytest.fixture(scope="module")
def assistant(hashing_assistant: Assistant) -> Assistant:
    return hashing_assistant



def passage(text: str, lang: str = "en", highlight: str = "") -> Passage:
    source = "soundtrack1_review_en.txt" if lang == "en" else "soundtrack1_article_de.txt"
    return Passage(text, lang, source, 0, len(text), 0.5, 3, 4, highlight)


def reply_of(history: list[dict]) -> str:
    assert history[-1]["role"] == "assistant"
    return history[-1]["content"]


def chat(assistant: Assistant, question: object, messages: list[dict] | None = None,
         k: object = 3, languages: object = None) -> tuple[list[dict], str]:
    """One chat turn: the messages after it, and the sources panel."""
    messages, _, sources, box = respond(assistant, question, messages or [], [], k, languages)
    assert box == ""
    return messages, sources


def test_create_app_builds_with_ask_endpoint(assistant: Assistant) -> None:
    demo = create_app(assistant)
    assert isinstance(demo, gr.Blocks)
    api_names = [fn.api_name for fn in demo.fns.values()]
    assert "ask" in api_names
    assert demo._queue.default_concurrency_limit == CONCURRENCY  # shared by every visitor


@pytest.mark.parametrize("evil", XSS)
def test_sources_and_reply_escape_question_and_passages(evil: str) -> None:
    text = f"Before. {evil} is the answer. After."
    cited = passage(text, highlight=f"{evil} is the answer.")
    answer = Answer(evil, f"{evil} is the answer. [1]", [cited])
    html = format_sources(answer, ["en", "de"])
    assert "<script" not in html and "<img" not in html
    assert "&lt;" in html and "<mark" in html
    assert "soundtrack1_review_en.txt" in html and "lines 3–4" in html and "score 0.50" in html
    assert NO_PASSAGE["de"] in html  # German section says it has nothing
    reply = format_reply(answer)
    assert "<" not in reply.replace("&lt;", "") and "[1] soundtrack1_review_en.txt, lines 3–4" in reply


def test_sources_are_grouped_by_language_as_headings_and_lists() -> None:
    cited = [passage("Regie: Kim.", "de", "Regie: Kim."), passage("Directed by Kim.", "en")]
    answer = Answer("Wer führte Regie?", "Kim [1] Kim [2]", cited, lang="de")
    html = format_sources(answer, ["en", "de"])
    assert html.index("Deutsch") < html.index("English")  # the question's language first
    assert html.count("<h3") == 2 and html.count("<li") == 2 and "<mark" in html
    assert 'role="region" aria-label="Sources"' in html and "Wer führte Regie?" in html
    assert NO_PASSAGE["en"] not in html


def test_the_chat_reply_is_plain_text_for_screen_readers(assistant: Assistant) -> None:
    messages, sources = chat(assistant, "Wer führte Regie?", languages=["en", "de"])
    reply = reply_of(messages)
    assert "<" not in reply and "style=" not in reply  # announced as words, not markup
    assert "[1]" in reply and "soundtrack1_article_de.txt" in reply
    assert "soundtrack1_review_en.txt" in sources and "<mark" in sources


@pytest.mark.parametrize("evil", XSS)
def test_chat_shows_a_script_question_as_text(assistant: Assistant, evil: str) -> None:
    messages, sources = chat(assistant, evil, languages=["en", "de"])
    shown = " ".join(message["content"] for message in messages) + sources
    assert "<script" not in shown and "<img" not in shown
    assert messages[0] == {"role": "user", "content": evil.replace("<", "&lt;").replace(">", "&gt;")}


@pytest.mark.parametrize(("question", "words"), [
    ("", "empty"), ("   \n ", "empty"), ("x" * (MAX_QUESTION_CHARS + 1), str(MAX_QUESTION_CHARS))])
def test_invalid_question_gets_a_clear_message(assistant: Assistant, question: str,
                                               words: str) -> None:
    messages, sources = chat(assistant, question)
    assert words in reply_of(messages) and "Traceback" not in reply_of(messages) and sources == ""


def test_no_language_ticked_gets_a_clear_message(assistant: Assistant) -> None:
    messages, _ = chat(assistant, "Who plays Seon-woo?", languages=[])
    assert "at least one language" in reply_of(messages)


def test_unexpected_error_is_generic(assistant: Assistant,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> Answer:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(assistant, "ask", broken)
    messages, _ = chat(assistant, "Who plays Seon-woo?")
    assert "Something went wrong" in reply_of(messages) and "secret" not in reply_of(messages)


def test_history_is_kept_and_passed_on(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []
    real = assistant.ask

    def recording(*args: object, **kwargs: object) -> Answer:
        seen.append(kwargs.get("history"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(assistant, "ask", recording)
    messages, asked, _, _ = respond(assistant, "Who plays Seon-woo?", [], [], 2, ["en", "de"])
    messages, asked, sources, _ = respond(assistant, "  Wie viele Folgen\nhat die Serie?", messages, asked, 2, ["de"])
    assert [m["role"] for m in messages] == ["user", "assistant"] * 2
    assert seen == [[], ["Who plays Seon-woo?"]] and asked == ["Who plays Seon-woo?", "Wie viele Folgen hat die Serie?"]
    assert "English" not in sources  # only German was ticked
