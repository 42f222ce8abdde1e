"""The chat page without a browser: construction, the conversation's safe HTML, cited-first sources with
confidence words, the viewer's context, reload replay and error messages."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import gradio as gr
import pytest

from rag.answer import Answer, Passage
from rag.assistant import Assistant
from rag.chunking import Chunk
from rag.profiles import profile
from rag.search.confidence import Confidence
from rag.serve.chat import MAX_TURNS, NO_LANGUAGE, Turn, asked, conversation_html, take_turn
from rag.serve.page import CONCURRENCY, WELCOME, create_app, replay, should_replay, shown
from rag.serve.request import MAX_QUESTION_CHARS
from rag.serve.sources import cited, format_sources, linked_text
from rag.serve.viewer import REACH, Documents, view

# gradio's queue calls a pandas API that pandas 3 deprecates: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")
XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


@pytest.fixture(scope="module")
def assistant(hashing_assistant: Assistant) -> Assistant:
    return hashing_assistant


def passage(text: str, lang: str = "en", highlight: str = "", start: int = 0) -> Passage:
    source = "soundtrack1_review_en.txt" if lang == "en" else "soundtrack1_article_de.txt"
    return Passage(text, lang, source, start, start + len(text), 0.5, 3, 4, highlight)


def chunk(start: int, line: int, text: str = "", heading: str = "") -> Chunk:
    text = text or f"chunk at {start}"
    return Chunk("doc.txt", start, start + len(text), "en", text, heading, line, line)


@dataclass
class FakeIndex:
    chunks: list[Chunk]


def test_create_app_builds_with_ask_endpoint(assistant: Assistant) -> None:
    demo = create_app(assistant)
    assert isinstance(demo, gr.Blocks)
    api_names = [fn.api_name for fn in demo.fns.values()]
    assert "ask" in api_names
    assert demo._queue.default_concurrency_limit == CONCURRENCY  # shared by every visitor


@pytest.mark.parametrize("evil", XSS)
def test_the_conversation_escapes_question_answer_and_passages(evil: str) -> None:
    text = f"Before. {evil} is the answer. After."
    answer = Answer(evil, f"{evil} is the answer. [1]", [passage(text, highlight=f"{evil} is the answer.")])
    html = conversation_html([Turn(evil, answer, languages=("en", "de"))])
    assert "<script" not in html and "<img" not in html
    assert "&lt;" in html and "<mark" in html
    assert "soundtrack1_review_en.txt" in html and "lines 3–4" in html
    assert profile("de").no_passage in html  # the German column says it has nothing


def test_sources_show_cited_passages_first_and_the_rest_as_further_reading() -> None:
    passages = [passage("Regie: Kim.", "de", "Regie: Kim."), passage("Other.", "de", start=50),
                passage("Directed by Kim.", "en", "Directed by Kim.")]
    sure = {"de": Confidence("answers", 0.9), "en": Confidence("related", 0.3)}
    answer = Answer("Wer führte Regie?", "Regie: Kim. [1] Möglicherweise: Directed by Kim. [3]", passages, "de", sure)
    assert cited(answer) == {1, 3}
    html = format_sources(answer, ["en", "de"], turn=2)
    assert html.index("Deutsch") < html.index("English")  # the question's language first
    german = html[:html.index("English")]
    assert german.index('id="t2-p1"') < german.index("Further reading") < german.index('id="t2-p2"')
    assert 'id="t2-p3" class="rag-card rag-card-related"' in html  # cited from a related side: said so
    # Confidence as words; the score and the probability only in tooltips.
    assert ">answers<" in html and ">related, may not answer<" in html and ">further reading<" in html
    assert 'title="90% likely that its top 3 answer"' in html and "score 0.50" in html
    assert re.search(r">[^<]*score", html) is None  # never a bare score as text


def test_citations_link_to_their_cards_and_nothing_else() -> None:
    answer = Answer("q", "A <b>bold</b> claim [1] and [7] and [2].", [passage("a"), passage("b", start=9)])
    text = linked_text(answer, 4)
    assert '<a href="#t4-p1" class="rag-cite"' in text and '<a href="#t4-p2" class="rag-cite"' in text
    assert "[7]" in text and 'href="#t4-p7"' not in text  # not a passage: left as text
    assert "&lt;b&gt;" in text


def test_each_passage_gets_a_copy_quote_and_asks_the_viewer_by_name_and_span() -> None:
    answer = Answer("q", "x [1]", [replace(passage("The passage.", start=10), source="bad\udcffname.txt")])
    html = format_sources(answer, ["en"], 1)
    assert 'data-quote="bad\\xffname.txt, lines 3–4"' in html
    assert 'data-view data-source="bad\\xffname.txt" data-start="10" data-end="22"' in html


def test_the_viewer_shows_the_passage_marked_between_its_neighbours() -> None:
    rows = [chunk(0, 1, "Intro."), chunk(10, 3, "The <passage>.", heading="Cast"), chunk(30, 5, "After it.")]
    found = view(FakeIndex(rows), ["doc.txt", 10, 24])
    assert found["title"] == "doc.txt · line 3"
    assert found["html"].index("Intro.") < found["html"].index("rag-here") < found["html"].index("After it.")
    assert "The &lt;passage&gt;." in found["html"] and '<p class="rag-heading">Cast</p>' in found["html"]


@pytest.mark.parametrize("request_", [["doc.txt", 10, 23], ["other.txt", 10, 24], ["doc.txt", "10", 24],
                                      ["doc.txt", True, 24], ["../../etc/passwd", 0, 10], "doc.txt", None,
                                      ["doc.txt", 10], ["x" * 5000, 10, 24]])
def test_the_viewer_shows_only_an_exact_passage_of_the_index(request_: object) -> None:
    found = view(FakeIndex([chunk(10, 3, "The <passage>.")]), request_)
    assert found["title"] == "Passage not found" and "no longer in the index" in found["html"]


def test_the_viewer_shows_the_paragraph_before_and_after_and_no_further() -> None:
    rows = [chunk(0, 1), chunk(20, 2), chunk(40, 2), chunk(60, 4), chunk(80, 4), chunk(100, 6), chunk(120, 8)]
    documents = Documents(list(reversed(rows)))  # any order in the index
    context = documents.context("doc.txt", 60, 71)
    assert context is not None
    assert [c.start for c in context.chunks] == [20, 40, 60, 80, 100]  # lines 2, 4 (own), 6
    assert context.chunks[context.at].start == 60
    long = [chunk(i * 20, 1) for i in range(30)]
    wide = Documents(long).context("doc.txt", 300, 312)
    assert wide is not None and len(wide.chunks) == 2 * REACH + 1  # a huge paragraph is cut, not shown whole


def test_older_turns_fold_their_sources_and_the_newest_shows_them(assistant: Assistant) -> None:
    turns = take_turn(assistant, "Who plays Seon-woo?", [], 2, ["en", "de"])
    turns = take_turn(assistant, "Wer führte Regie?", turns, 2, ["en", "de"])
    html = conversation_html(turns)
    assert html.count('<details class="rag-turn-sources">') == 1 and html.count("rag-turn-sources\" open") == 1
    assert html.index("Who plays Seon-woo?") < html.index("Wer führte Regie?")
    assert 'id="t1-p1"' in html and 'id="t2-p1"' in html and html.count("data-view ") == 8


@pytest.mark.parametrize("evil", XSS)
def test_a_script_question_stays_text(assistant: Assistant, evil: str) -> None:
    html = shown(take_turn(assistant, evil, [], 3, ["en", "de"]))
    assert "<script" not in html and "<img" not in html and evil.replace("<", "&lt;").replace(">", "&gt;") in html


@pytest.mark.parametrize(("question", "words"), [
    ("", "empty"), ("   \n ", "empty"), ("x" * (MAX_QUESTION_CHARS + 1), str(MAX_QUESTION_CHARS)),
    (["Wer"], "must be text")])
def test_invalid_question_gets_a_clear_message(assistant: Assistant, question: object, words: str) -> None:
    turns = take_turn(assistant, question, [], 3, None)
    assert turns[-1].answer is None and words in turns[-1].error
    html = conversation_html(turns)
    assert 'role="alert"' in html and "Traceback" not in html and "<details" not in html


def test_no_language_ticked_gets_a_clear_message(assistant: Assistant) -> None:
    assert take_turn(assistant, "Who plays Seon-woo?", [], 3, [])[-1].error == NO_LANGUAGE


def test_unexpected_error_is_generic(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> Answer:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(assistant, "ask", broken)
    error = take_turn(assistant, "Who plays Seon-woo?", [], 3, None)[-1].error
    assert "Something went wrong" in error and "secret" not in error


def test_history_is_kept_and_passed_on(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []
    real = assistant.ask

    def recording(*args: object, **kwargs: object) -> Answer:
        seen.append(kwargs.get("history"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(assistant, "ask", recording)
    turns = take_turn(assistant, "Who plays Seon-woo?", [], 2, ["en", "de"])
    turns = take_turn(assistant, "", turns, 2, ["en", "de"])  # an error turn is not history
    turns = take_turn(assistant, "  Wie viele Folgen\nhat die Serie?", turns, 2, ["de"])
    assert seen == [[], ["Who plays Seon-woo?"], ["Who plays Seon-woo?"]]  # the refused one asked too
    assert asked(turns) == ["Who plays Seon-woo?", "Wie viele Folgen hat die Serie?"]
    assert "English" not in format_sources(turns[-1].answer, list(turns[-1].languages))  # type: ignore[arg-type]


@pytest.mark.parametrize(("saved", "current", "expected"), [
    (["Who plays Seon-woo?"], [], True),  # a reload with kept questions and nothing asked yet
    ([], [], False), (None, None, False), ([42, None], [], False),  # nothing (usable) kept: nothing to change
    (["Who plays Seon-woo?"], ["a turn"], False),  # a question was asked since the page opened: keep its turn
])
def test_a_page_load_replays_only_when_it_cannot_wipe_a_new_turn(saved: Any, current: Any, expected: bool) -> None:
    assert should_replay(saved, current) is expected


def test_a_reload_replays_the_kept_questions_and_nothing_else(assistant: Assistant) -> None:
    turns = replay(assistant, ["Who plays Seon-woo?", 42, "", "Wie viele Folgen hat die Serie?"], 2, ["en", "de"])
    assert asked(turns) == ["Who plays Seon-woo?", "Wie viele Folgen hat die Serie?"]  # junk dropped
    assert replay(assistant, "not a list", 2, None) == [] and shown([]) == WELCOME
    many = replay(assistant, [f"Who plays {i}?" for i in range(MAX_TURNS + 5)], 1, ["en"])
    assert len(many) == MAX_TURNS and many[0].question == "Who plays 5?"
