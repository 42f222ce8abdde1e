"""`rag index` killed with SIGKILL part-way, for real: the previous index keeps answering the same,
and the next `rag index` succeeds and removes what the killed build left behind.

Each kill is made to land mid-build: the build stops at a chosen point (embedding, between two files,
inside a file, at the manifest switch) and is killed there, so no test passes because the build had
already finished."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.cli import main
from rag.config import PROJECT_DIR
from rag.store import LOCK, MANIFEST, VECTORS, load_index, read_manifest
from tests.conftest import hashing_settings

pytestmark = [pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals"),
              pytest.mark.slow]  # builds killed in child processes: 11 s, kept out of the inner loop

QUESTIONS = ["Wer führte Regie?", "Who plays Seon-woo?", "What is the capital of Peru?"]

# `rag index` that stops at a chosen point of the build, says so on stdout and waits there to be killed:
# the test checks the build's state while it is stopped, then SIGKILLs it, so the kill lands mid-build.
PAUSE_AT = """
import sys, time
import faiss
import rag.embedding, rag.writer
from rag.cli import main

def pause():
    print("paused", flush=True)
    time.sleep(600)  # killed here

point = sys.argv[1]
if point == "embedding":  # nothing written yet
    rag.embedding.HashingEmbedder.embed_batch = lambda *args, **kwargs: pause()
elif point == "between-files":  # passages.jsonl written, no FAISS file yet
    rag.writer.write_faiss = lambda *args, **kwargs: pause()
elif point == "inside-a-file":  # vectors.faiss begun, not finished
    real_writer = faiss.PyCallbackIOWriter
    def writer(write, size):
        def write_then_pause(data):
            write(data)
            pause()
        return real_writer(write_then_pause, size)
    faiss.PyCallbackIOWriter = writer
sys.exit(main(sys.argv[2:]))
"""
# What the stopped build has in its new data folder at each point.
WRITTEN = {"embedding": None, "between-files": {"passages.jsonl"}, "inside-a-file": {"passages.jsonl", "vectors.faiss"}}


def env_for(corpus: Path, index: Path) -> dict[str, str]:
    return {**os.environ, "RAG_CORPUS_DIR": str(corpus), "RAG_INDEX_DIR": str(index), "RAG_MODEL": "hashing",
            "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(PROJECT_DIR)}


def answers(corpus: Path, index: Path, check_stale: bool = True) -> dict[str, dict]:
    assistant = Assistant.load(settings=hashing_settings(corpus, index), check_stale=check_stale)
    return {q: assistant.ask(q).to_dict() for q in QUESTIONS}


def leftovers(index: Path) -> set[str]:
    """Entries of the index folder besides the manifest, the data it names and the lock file."""
    keep = {MANIFEST, LOCK, read_manifest(index)["data"]}
    return {p.name for p in index.iterdir()} - keep


def data_folders(index: Path) -> set[str]:
    return {p.name for p in index.glob("data-*")}


def rag_index(corpus: Path, index: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
              *args: str) -> str:
    """Run `rag index` in-process (saves the interpreter start); returns its stdout."""
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("RAG_INDEX_DIR", str(index))
    monkeypatch.setenv("RAG_MODEL", "hashing")
    capsys.readouterr()
    assert main(["index", *args]) == 0
    return capsys.readouterr().out


def wait_until_paused(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 120)  # a bound, never reached by a working build
    line = proc.stdout.readline() if ready else ""
    if line != "paused\n":
        proc.kill()
        pytest.fail(f"the build did not reach its pause point: {proc.communicate()[1][-2000:]}")


@pytest.mark.parametrize("point", list(WRITTEN))
def test_build_killed_mid_build(corpus_dir: Path, tmp_path: Path, point: str, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    """Killed while embedding, between two index files, and inside one; the corpus gained a file meanwhile."""
    index = tmp_path / "index"
    rag_index(corpus_dir, index, monkeypatch, capsys)
    before, manifest, folders = answers(corpus_dir, index), read_manifest(index), data_folders(index)
    (corpus_dir / "new_en.txt").write_text("A late review: the piano scenes in the studio are the best part of "
                                           "the series, says the critic.\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", PAUSE_AT, point, "index"], env=env_for(corpus_dir, index),
                            cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_paused(proc)
        # Stopped mid-build: it has begun (and, past embedding, written files), the manifest is the old one.
        new = data_folders(index) - folders
        if WRITTEN[point] is None:
            assert new == set()
        else:
            assert len(new) == 1 and {p.name for p in (index / new.pop()).iterdir()} == WRITTEN[point]
        if point == "inside-a-file":  # part of the file: less than the old index's, which has fewer passages
            written = next((index / d / VECTORS).stat().st_size for d in data_folders(index) - folders)
            assert 0 < written < (index / manifest["data"] / VECTORS).stat().st_size
        assert read_manifest(index) == manifest
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert read_manifest(index) == manifest
    assert answers(corpus_dir, index, check_stale=False) == before  # loads and answers the same
    assert bool(leftovers(index)) == (WRITTEN[point] is not None)  # a build killed mid-write leaves its folder
    out = rag_index(corpus_dir, index, monkeypatch, capsys)  # takes the lock the killed build held
    assert "passages (de:" in out and "unchanged" not in out
    assert leftovers(index) == set()
    assert any(c.source == "new_en.txt" for c in load_index(index).chunks)


KILL_AT_SWITCH = """
import os, signal, sys
from rag.cli import main
os.replace = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)  # die at the manifest switch
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("changed", [False, True])
def test_build_killed_at_the_manifest_switch(corpus_dir: Path, tmp_path: Path, changed: bool,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The worst moment, made certain: all data and the temporary manifest written, not yet switched.

    The next run cleans up both when it rebuilds (corpus changed) and when it finds nothing to do.
    """
    index = tmp_path / "index"
    rag_index(corpus_dir, index, monkeypatch, capsys)
    before, manifest = answers(corpus_dir, index), read_manifest(index)
    args = [] if changed else ["--force"]
    if changed:
        (corpus_dir / "new_de.txt").write_text("Eine neue Kritik: Die Klavierszenen im Studio sind der beste "
                                               "Teil der Serie.\n", encoding="utf-8")
    for _ in range(2):  # two killed builds: leftovers must not pile up
        proc = subprocess.run([sys.executable, "-c", KILL_AT_SWITCH, "index", *args],
                              env=env_for(corpus_dir, index), cwd=PROJECT_DIR, capture_output=True, check=False)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.decode(errors="replace")
    assert read_manifest(index) == manifest
    assert answers(corpus_dir, index, check_stale=not changed) == before
    names = leftovers(index)
    assert sum(n.startswith("data-") for n in names) == 2 and sum(n.endswith(".tmp") for n in names) == 2
    out = rag_index(corpus_dir, index, monkeypatch, capsys)
    assert ("unchanged" in out) != changed
    assert leftovers(index) == set() and len(data_folders(index)) == 1
    if not changed:
        assert answers(corpus_dir, index) == before
