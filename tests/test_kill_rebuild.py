"""`rag index` killed with SIGKILL part-way, for real: the previous index keeps answering the same,
and the next `rag index` succeeds and removes what the killed build left behind."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.cli import main
from rag.config import PROJECT_DIR
from rag.store import LOCK, MANIFEST, load_index, read_manifest
from tests.conftest import CORPUS, hashing_settings

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

QUESTIONS = ["Wer führte Regie?", "Who plays Seon-woo?", "What is the capital of Peru?"]
EN = ("series music song piano studio friend friendship love camera photographer composer lyricist episode "
      "scene actor actress director season week summer rain night city apartment guitar melody story "
      "feeling heart moment memory chorus album record stage audience critic review")
DE = ("Serie Musik Lied Klavier Studio Freund Freundschaft Liebe Kamera Fotograf Komponistin Texterin Folge "
      "Szene Schauspieler Regisseur Staffel Woche Sommer Regen Nacht Stadt Wohnung Gitarre Melodie "
      "Geschichte Gefühl Herz Augenblick Erinnerung Refrain Album Bühne Publikum Kritik")


def generate(folder: Path, files: int = 4, paragraphs: int = 80, seed: int = 1) -> None:
    """Add distinct English and German paragraphs (no two alike, so none is dropped as a duplicate)."""
    rng = random.Random(seed)
    for f in range(files):
        lang, text, glue = ("en", EN, "number") if f % 2 == 0 else ("de", DE, "Nummer")
        vocabulary = text.split()
        paras = []
        for _ in range(paragraphs):
            sentences = []
            for _ in range(rng.randint(3, 5)):
                ws = rng.sample(vocabulary, rng.randint(7, 12))
                sentences.append(f"{ws[0].capitalize()} {' '.join(ws[1:])} {glue} {rng.randint(0, 10**6)}.")
            paras.append(" ".join(sentences))
        (folder / f"generated_{f:02d}_{lang}.txt").write_text("\n\n".join(paras) + "\n", encoding="utf-8")


def env_for(corpus: Path, index: Path) -> dict[str, str]:
    return {**os.environ, "RAG_CORPUS_DIR": str(corpus), "RAG_INDEX_DIR": str(index), "RAG_MODEL": "hashing",
            "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(PROJECT_DIR)}


def start_index(corpus: Path, index: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "rag.cli", "index", *args], env=env_for(corpus, index),
                            cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


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


@dataclass(frozen=True)
class Big:
    corpus: Path
    index: Path
    seconds: float  # one full `rag index` as a subprocess, interpreter start included
    answers: dict[str, dict]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Big:
    """The real corpus plus 320 generated paragraphs (about 500 passages), indexed by a subprocess."""
    root = tmp_path_factory.mktemp("big")
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(CORPUS, corpus)
    generate(corpus)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rag.cli", "index"], env=env_for(corpus, index), cwd=PROJECT_DIR,
                   check=True, capture_output=True)
    seconds = time.perf_counter() - t0
    assert leftovers(index) == set()
    return Big(corpus, index, seconds, answers(corpus, index))


def kill(proc: subprocess.Popen[bytes]) -> bool:
    """SIGKILL the build; True if it was still running (False: it had finished first)."""
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    if proc.returncode != -signal.SIGKILL:
        assert proc.returncode == 0, err.decode(errors="replace")
        return False
    return True


def wait_for_new_data(proc: subprocess.Popen[bytes], index: Path, old: set[str], timeout: float) -> bool:
    """Poll until the build creates its data folder (it is then writing the index files)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if data_folders(index) - old:
            return True
        time.sleep(0.001)
    return False


@pytest.mark.parametrize(("when", "fraction"), [("fraction", 0.35), ("fraction", 0.75), ("writing", 0.0)])
def test_build_killed_part_way(big: Big, tmp_path: Path, when: str, fraction: float,
                               monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Killed at a fraction of the measured build time, or as soon as its new data folder exists
    (between the first file written and the manifest switch); the corpus gained a file meanwhile."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(big.corpus, corpus)
    shutil.copytree(big.index, index)
    before = data_folders(index)
    (corpus / "new_en.txt").write_text("A late review: the piano scenes in the studio are the best part of "
                                       "the series, says the critic.\n", encoding="utf-8")
    proc = start_index(corpus, index)
    if when == "writing":
        assert wait_for_new_data(proc, index, before, timeout=4 * big.seconds) or proc.returncode == 0
    time.sleep(fraction * big.seconds)
    killed = kill(proc)
    switched = read_manifest(index)["data"] not in before  # a kill can land after the switch, too
    if not switched:  # the old index is in place
        assert killed
        assert answers(corpus, index, check_stale=False) == big.answers  # loads and answers the same
        if when == "writing":
            assert leftovers(index), "a build killed mid-write leaves its data folder behind"
    out = rag_index(corpus, index, monkeypatch, capsys)
    assert "passages (de:" in out and switched == ("unchanged" in out)  # a switched index needs no rerun
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
