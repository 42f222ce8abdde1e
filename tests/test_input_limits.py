"""Oversized corpus files and questions, and any text given to `rag ask`: a clear refusal, never a crash."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rag.assistant
import rag.corpus
import rag.ingest.tree
import rag.serve.request
from rag.assistant import Assistant
from rag.cli import main
from rag.config import Settings
from rag.corpus import load_corpus
from rag.errors import CorpusError, InvalidQuestionError
from rag.serve.request import MAX_QUESTION_CHARS, clean_question

LIMIT = 4096  # bytes: stands in for the real 50 MiB, so no test writes 50 MB


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(rag.ingest.tree, "MAX_FILE_BYTES", LIMIT)
    return LIMIT


def review(size: int) -> bytes:
    """size bytes of plain English review text."""
    text = "The piano scenes of the drama are moving and the songs stay with you for days. "
    return (text * (size // len(text) + 1)).encode()[:size]


def test_file_over_the_size_limit_is_skipped_with_a_warning(tmp_path: Path, small_limit: int,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "huge_dump.txt").write_bytes(review(small_limit + 1))
    (tmp_path / "at_limit.txt").write_bytes(review(small_limit))  # the limit itself is allowed
    with caplog.at_level(logging.WARNING, logger="rag"):
        docs = load_corpus(tmp_path)
    assert [d.source for d in docs] == ["at_limit.txt"]
    assert "huge_dump.txt" in caplog.text and "larger than" in caplog.text
    with pytest.raises(CorpusError, match="huge_dump.txt"):
        load_corpus(tmp_path, strict=True)


def test_rag_index_skips_or_with_strict_refuses_a_huge_file(corpus_dir: Path, tmp_path: Path, small_limit: int,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str],
                                                             caplog: pytest.LogCaptureFixture) -> None:
    # The real corpus files are larger than the stand-in limit: index a small corpus instead.
    corpus = tmp_path / "small"
    corpus.mkdir()
    (corpus / "ok.txt").write_bytes(review(1000))
    (corpus / "huge_dump.txt").write_bytes(review(small_limit * 3))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_MODEL", "hashing")
    assert main(["index", "--strict"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "huge_dump.txt" in err and "larger than" in err
    assert not (tmp_path / "index" / "manifest.json").exists()
    with caplog.at_level(logging.WARNING, logger="rag"):
        assert main(["index"]) == 0
    assert "passages (en:" in capsys.readouterr().out
    assert "skipping" in caplog.text and "huge_dump.txt" in caplog.text


# --- questions far over the limit -------------------------------------------------------------------

HUGE = "Wer führte Regie bei Soundtrack #1? " * 5600  # about 200 KB


@pytest.mark.parametrize("question", [HUGE, "x" * 200_000, " " * 200_000 + "Wer führte Regie?"],
                         ids=["words", "one-word", "padded"])
def test_a_200_kb_question_is_refused_before_it_is_read(hashing_assistant: Assistant, question: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused on its length alone: not one character is examined, nothing is searched."""
    examined = counting_characters(monkeypatch)
    with pytest.raises(InvalidQuestionError, match=str(MAX_QUESTION_CHARS)):
        hashing_assistant.ask(question)
    assert examined == []


def test_a_question_over_the_limit_after_cleaning_is_refused_before_search(hashing_assistant: Assistant,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    examined = counting_characters(monkeypatch)
    with pytest.raises(InvalidQuestionError, match=str(MAX_QUESTION_CHARS)):
        hashing_assistant.ask("Wer führte Regie? " * 1000)  # 18,000 characters: read, then refused
    assert len(examined) == 18_000


def counting_characters(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every character clean_question examines; fail the test if a search starts."""
    import unicodedata

    examined: list[str] = []

    def category(ch: str) -> str:
        examined.append(ch)
        return unicodedata.category(ch)

    def search(*args: object, **kwargs: object) -> None:
        raise AssertionError("a refused question reached the search")

    monkeypatch.setattr(rag.serve.request, "unicodedata", SimpleNamespace(category=category))
    monkeypatch.setattr(rag.assistant.Retriever, "search", search)
    return examined


def test_a_question_just_under_the_limit_is_answered(hashing_assistant: Assistant) -> None:
    question = ("Wer führte Regie? " * 200)[: MAX_QUESTION_CHARS - 1] + "?"
    answer = hashing_assistant.ask(question)
    assert answer.question == question and len(question) == MAX_QUESTION_CHARS  # kept whole, not cut
    assert answer.lang == "de" and "Regie von Kim Hee-won" in answer.by_language()["de"][0][1].text


# --- the CLI with any text ------------------------------------------------------------------------


@pytest.fixture
def cli_env(hashing_index: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("RAG_CORPUS_DIR", str(hashing_index.corpus_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(hashing_index.index_dir))
    monkeypatch.setenv("RAG_MODEL", "hashing")
    monkeypatch.setenv("RAG_MIN_QUESTION_SCORE", "0.1")
    return hashing_index


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: --help, or an argument it cannot parse
        code = exc.code  # type: ignore[assignment]
    out, err = capsys.readouterr()
    return int(code or 0), out, err


def test_cli_refuses_a_200_kb_question_in_one_line(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["ask", HUGE], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(MAX_QUESTION_CHARS) in err and len(err) < 300


# Any text, with control characters, lone surrogates and text that looks like an option.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=60) | st.sampled_from(
    ["-", "--", "-k", "--json", "-h", "--k=0", "\x00", "\x1b[31mred\x1b[0m", "a\nb\r\nc", "\udcff", "\ud800x"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ANY_TEXT)
def test_cli_ask_with_any_text_exits_0_or_2_without_a_traceback(cli_env: Settings, text: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["ask", text], capsys)
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err and "Traceback" not in out
    if code == 2:
        assert err.startswith("rag: error: ") and err.endswith("\n")
    elif text not in ("-h",):
        assert out.strip()  # an answer, or a "found nothing" sentence


@pytest.mark.parametrize("question", ["\u200b", "\u200b\u200c\u200d\u2060\ufeff", " \u200b \ufeff ", "\u2060\n"])
def test_a_question_of_zero_width_characters_is_empty(hashing_assistant: Assistant, question: str) -> None:
    # Zero-width space, non-joiner, joiner, word joiner, BOM: invisible, so the question is empty.
    with pytest.raises(InvalidQuestionError, match="empty"):
        hashing_assistant.ask(question)
    assert clean_question("Wer\u200bführte Regie?") == "Wer\u200bführte Regie?"  # inside a question: kept
