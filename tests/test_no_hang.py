"""A corpus file swapped for a named pipe after the listing never blocks `rag index` or the freshness check.

Each test runs its work in a thread with a time limit; if the work blocks, the test opens the pipe's
other end to free it and fails, instead of hanging the suite.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rag.corpus
from rag.cli import main
from rag.corpus import Skipped, read_document
from rag.index import build_index
from rag.ingest.tree import Listing, read_source
from tests.conftest import hashing_settings

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")

LIMIT = 30  # seconds; each of these takes well under one


def within_limit(work: Callable[[], Any], fifo: Path) -> Any:
    """Run work in a thread; fail (after unblocking it) if it is still running after LIMIT seconds."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(LIMIT)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # a writer arrives: the blocked open() returns
        thread.join(LIMIT)
        pytest.fail(f"blocked on the named pipe {fifo.name} for {LIMIT} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.fixture
def swap_after_listing(monkeypatch: pytest.MonkeyPatch, corpus_dir: Path) -> Path:
    """After the walk lists the corpus, its English review becomes a named pipe (the race)."""
    victim = corpus_dir / "soundtrack1_review_en.txt"
    real_walk = rag.corpus.walk

    def walk(folder: Path) -> Listing:
        found = real_walk(folder)
        if victim.is_file() and not victim.is_symlink():
            victim.unlink()
            os.mkfifo(victim)
        return found

    monkeypatch.setattr(rag.corpus, "walk", walk)
    return victim


@pytest.mark.parametrize("read", [lambda p: read_source(p.parent, p.name), lambda p: read_document(p.parent, p.name)],
                         ids=["read_source", "read_document"])
def test_reading_a_named_pipe_returns_at_once(tmp_path: Path, read: Callable[[Path], object]) -> None:
    fifo = tmp_path / "notes.txt"
    os.mkfifo(fifo)
    try:
        result = within_limit(lambda: read(fifo), fifo)
    except OSError as exc:
        assert "not a regular file" in str(exc)
    else:
        assert isinstance(result, Skipped) and "not a regular file" in result.reason  # read_document


def test_index_skips_a_file_that_became_a_pipe(swap_after_listing: Path, corpus_dir: Path, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    settings = hashing_settings(corpus_dir, tmp_path / "index")
    with caplog.at_level(logging.WARNING, logger="rag"):
        report = within_limit(lambda: build_index(settings), swap_after_listing)
    assert set(report.languages) == {"de"}  # the English review is gone: only the German article is left
    assert "not a regular file" in caplog.text and swap_after_listing.name in caplog.text


def test_rag_index_cli_does_not_hang(swap_after_listing: Path, corpus_dir: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_MODEL", "hashing")
    code = within_limit(lambda: main(["index", "--corpus", str(corpus_dir), "--index", str(tmp_path / "i")]),
                        swap_after_listing)
    assert code == 0


def test_freshness_check_does_not_hang(corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "index"
    build_index(hashing_settings(corpus_dir, index))
    victim = corpus_dir / "soundtrack1_review_en.txt"
    real_walk = rag.corpus.walk

    def walk(folder: Path) -> Listing:
        found = real_walk(folder)
        victim.unlink(missing_ok=True)
        os.mkfifo(victim)
        return found

    monkeypatch.setattr(rag.corpus, "walk", walk)
    args = ["ask", "Wer führte Regie?", "--index", str(index), "--corpus", str(corpus_dir)]
    code = within_limit(lambda: main(args), victim)
    assert code == 2  # the review cannot be read any more: the index no longer matches the corpus
    err = capsys.readouterr().err
    assert "stale" in err and "soundtrack1_review_en.txt" in err and err.count("\n") == 1


@pytest.mark.parametrize("name", ["manifest.json", "passages.jsonl", "vectors.faiss"])
def test_an_index_file_that_is_a_pipe_is_refused_at_once(hashing_index, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from rag.errors import IndexCorruptError
    from rag.store import load_index, read_manifest

    index = tmp_path / "index"
    shutil.copytree(hashing_index.index_dir, index)
    path = index / name if name == "manifest.json" else index / read_manifest(index)["data"] / name
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(IndexCorruptError, match="not a regular file"):
        within_limit(lambda: load_index(index), path)
