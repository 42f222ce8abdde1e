"""The chat page without a browser: construction, safe HTML, error messages and the /ask API."""

from __future__ import annotations

from collections.abc import Iterator

import gradio as gr
import pytest

from rag.answer import Answer, Passage
from rag.assistant import MAX_QUESTION_CHARS, Assistant
from rag.ui import CONCURRENCY, NO_PASSAGE, create_app, format_answer, respond
from tests.conftest import serving

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


def test_create_app_builds_with_ask_endpoint(assistant: Assistant) -> None:
    demo = create_app(assistant)
    assert isinstance(demo, gr.Blocks)
    api_names = [fn.api_name for fn in demo.fns.values()]
    assert "ask" in api_names
    assert demo._queue.default_concurrency_limit == CONCURRENCY  # shared by every visitor


@pytest.mark.parametrize("evil", XSS)
def test_format_answer_escapes_question_and_passages(evil: str) -> None:
    text = f"Before. {evil} is the answer. After."
    cited = passage(text, highlight=f"{evil} is the answer.")
    answer = Answer(evil, f"{evil} is the answer. [1]", [cited])
    html = format_answer(answer, ["en", "de"])
    assert "<script" not in html and "<img" not in html
    assert "&lt;" in html and "<mark" in html
    assert "soundtrack1_review_en.txt" in html and "lines 3–4" in html
    assert NO_PASSAGE["de"] in html  # German section says it has nothing


def test_format_answer_groups_by_language_with_labels() -> None:
    cited = [passage("Regie: Kim.", "de", "Regie: Kim."), passage("Directed by Kim.", "en")]
    answer = Answer("Wer führte Regie?", "Kim [1] Kim [2]", cited, lang="de")
    html = format_answer(answer, ["en", "de"])
    assert html.index("Deutsch") < html.index("English")  # the question's language first
    assert "Kim<sup><b>[1]</b></sup><br>Kim<sup><b>[2]</b></sup>" in html and "<mark" in html
    assert NO_PASSAGE["en"] not in html


@pytest.mark.parametrize("evil", XSS)
def test_chat_shows_a_script_question_as_text(assistant: Assistant, evil: str) -> None:
    history, box = respond(assistant, evil, [], 3, ["en", "de"])
    assert box == ""
    shown = " ".join(message["content"] for message in history)
    assert "<script" not in shown and "<img" not in shown
    assert history[0] == {"role": "user", "content": evil.replace("<", "&lt;").replace(">", "&gt;")}


@pytest.mark.parametrize(("question", "words"), [
    ("", "empty"), ("   \n ", "empty"), ("x" * (MAX_QUESTION_CHARS + 1), str(MAX_QUESTION_CHARS))])
def test_invalid_question_gets_a_clear_message(assistant: Assistant, question: str,
                                               words: str) -> None:
    history, _ = respond(assistant, question, [], 3, None)
    assert words in reply_of(history) and "Traceback" not in reply_of(history)


def test_no_language_ticked_gets_a_clear_message(assistant: Assistant) -> None:
    history, _ = respond(assistant, "Who plays Seon-woo?", [], 3, [])
    assert "at least one language" in reply_of(history)


def test_unexpected_error_is_generic(assistant: Assistant,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> Answer:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(assistant, "ask", broken)
    history, _ = respond(assistant, "Who plays Seon-woo?", [], 3, None)
    assert "Something went wrong" in reply_of(history) and "secret" not in reply_of(history)


def test_history_is_kept(assistant: Assistant) -> None:
    history, _ = respond(assistant, "Who plays Seon-woo?", [], 2, ["en", "de"])
    history, _ = respond(assistant, "Wie viele Folgen hat die Serie?", history, 2, ["de"])
    assert [m["role"] for m in history] == ["user", "assistant"] * 2
    assert "English" not in reply_of(history)  # only German was ticked


@pytest.fixture
def server(assistant: Assistant) -> Iterator[str]:
    with serving(assistant) as url:
        yield url


def test_api_ask_returns_the_answer_as_json(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    result = client.predict("Wer führte Regie?", api_name="/ask")
    assert result["question"] == "Wer führte Regie?" and result["lang"] == "de"
    assert {p["lang"] for p in result["passages"]} == {"en", "de"}

    with pytest.raises(Exception, match="empty"):
        client.predict("", api_name="/ask")
