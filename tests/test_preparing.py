"""A page that opens before its index: progress while the index is built behind it, then answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import rag.embedding
from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import IndexNotReadyError
from rag.serve.preparing import Preparing, open_or_prepare
from tests.conftest import hashing_settings


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Embedding waits at its first batch until the test sets the gate (a build that takes as long as we like)."""
    opened = threading.Event()
    real = rag.embedding.HashingEmbedder.embed_batch

    def waiting(self: rag.embedding.HashingEmbedder, texts: list[str], kind: rag.embedding.Kind = "passage") -> object:
        assert opened.wait(30), "the test never opened the gate"
        return real(self, texts, kind)

    monkeypatch.setattr(rag.embedding.HashingEmbedder, "embed_batch", waiting)
    yield opened
    opened.set()


def prepare(corpus_dir: Path, tmp_path: Path) -> Preparing:
    assistant = open_or_prepare(hashing_settings(corpus_dir, tmp_path / "index"))
    assert isinstance(assistant, Preparing)
    return assistant


def test_questions_wait_with_progress_then_get_answers(corpus_dir: Path, tmp_path: Path,
                                                       gate: threading.Event) -> None:
    assistant = prepare(corpus_dir, tmp_path)
    assert assistant.languages == ["de", "en"]  # the page's choices, before anything is embedded
    with pytest.raises(IndexNotReadyError, match="Preparing the index.*ask again in a moment"):
        assistant.ask("Wer führte Regie?")
    with pytest.raises(IndexNotReadyError):
        assistant.index  # noqa: B018 - the viewer and the votes ask for it
    assert assistant.status().startswith("Preparing the index")
    gate.set()
    ready = assistant.wait(30)
    assert isinstance(ready, Assistant) and assistant.status() == ""
    answer = assistant.ask("Wer führte Regie?", k=2)
    assert answer.passages and assistant.index is ready.index


def test_the_estimate_counts_down_from_what_was_embedded(corpus_dir: Path, tmp_path: Path,
                                                         gate: threading.Event) -> None:
    assistant = prepare(corpus_dir, tmp_path)
    assistant._heard(0, 1000)
    assert assistant.status() == "Preparing the index: 0%"
    assistant._embedding = (assistant._embedding[0] - 10.0, 0, 1000)  # type: ignore[index]  # 10 s ago
    assistant._heard(250, 1000)
    assert assistant.status().startswith("Preparing the index: 25%, about 3") and "s left" in assistant.status()
    assistant._heard(1000, 1000)
    assert assistant.status() == "Preparing the index: saving it…"


def test_a_build_that_fails_says_why_and_what_to_do(corpus_dir: Path, tmp_path: Path) -> None:
    settings = hashing_settings(corpus_dir, tmp_path / "index")
    (tmp_path / "index").write_text("a file where the index folder should be")
    assistant = Preparing(settings)
    assert assistant.wait(30) is None
    assert assistant.status().startswith("⚠ The index could not be prepared")
    with pytest.raises(IndexNotReadyError, match="rag index"):
        assistant.ask("Wer führte Regie?")


def test_a_fresh_index_opens_without_preparing(hashing_index: Settings) -> None:
    assert type(open_or_prepare(hashing_index)) is Assistant
