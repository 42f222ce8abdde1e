"""CLI manners: closed pipes, exact hints, which corpus is checked, default folders, skipped files named, and no
raw control characters on the terminal."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.cli import main
from rag.config import PROJECT_DIR, Settings
from rag.corpus import load_corpus
from rag.errors import CorpusError
from rag.terminal import PrintableFormatter, printable

TEXT = ("The series Soundtrack #1 was directed by Kim Hee-won. It has four episodes of about twenty minutes. "
        "Han So-hee plays Eun-soo, a lyricist, and Park Hyung-sik plays Seon-woo, a photographer.\n")
ESCAPES = "\x1b[2J\x1b]0;owned\x07\x9b31m\r"  # clear screen, window title, C1 CSI, carriage return


@pytest.fixture
def hashing_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_MODEL", "hashing")
    for key, value in (("MIN_SCORE", "-1"), ("MIN_QUESTION_SCORE", "-1"), ("LANGUAGE_MARGIN", "9")):
        monkeypatch.setenv(f"RAG_{key}", value)  # answer everything: the tiny corpora below are all on topic


def small_corpus(folder: Path, text: str = TEXT, name: str = "review.txt") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


# --- (a) a reader that goes away ------------------------------------------------------------------


class ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_closed_stdout_in_process_is_quiet(hashing_index: Settings, hashing_env: None,
                                           monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    code = main(["ask", "Wer führte Regie?", "--json", "--index", str(hashing_index.index_dir),
                 "--corpus", str(hashing_index.corpus_dir)])
    assert code == 1 and capsys.readouterr().err == ""


def test_rag_ask_piped_into_a_closed_reader_prints_no_traceback(hashing_index: Settings, tmp_path: Path) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before rag writes a byte, as with `| head` done early
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), "RAG_MODEL": "hashing"}
    process = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "Wer führte Regie?", "--json",
                              "--index", str(hashing_index.index_dir), "--corpus", str(hashing_index.corpus_dir)],
                             stdout=write, stderr=subprocess.PIPE, env=env, cwd=tmp_path, timeout=120, check=False)
    os.close(write)
    err = process.stderr.decode()
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    assert process.returncode == 1


# --- (c) hints are the command to run, with the user's folders ------------------------------------


def test_hints_name_the_folders_the_user_passed(tmp_path: Path, hashing_env: None,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    index, corpus = tmp_path / "my index", small_corpus(tmp_path / "docs")
    assert main(["ask", "Who directed it?", "--index", str(tmp_path / "no" / "index"), "--corpus", str(corpus)]) == 2
    assert f"run `rag index --index {tmp_path / 'no' / 'index'} --corpus {corpus}` to build it" in \
        capsys.readouterr().err  # a folder inside no folder is a typo: not built
    assert main(["ask", "Who directed it?", "--index", str(index), "--corpus", str(corpus)]) == 0
    assert f"no index in {index} yet: building it first" in capsys.readouterr().err
    assert main(["index", "--index", str(index), "--corpus", str(corpus)]) == 0
    assert f"next: rag ask \"Wer führte Regie?\" --index '{index}' --corpus {corpus}" in capsys.readouterr().out
    (corpus / "more.txt").write_text(TEXT.replace("four", "six"), encoding="utf-8")
    assert main(["ask", "Who directed it?", "--index", str(index), "--corpus", str(corpus)]) == 2
    assert f"run `rag index --index '{index}' --corpus {corpus}` to update it" in capsys.readouterr().err
    (index / "manifest.json").write_text("{", encoding="utf-8")
    assert main(["ask", "Who directed it?", "--index", str(index)]) == 2
    assert f"`rag index --force --index '{index}'`" in capsys.readouterr().err


# --- (d) which corpus an index is checked against -------------------------------------------------


def test_another_index_without_corpus_is_not_checked_against_the_projects(tmp_path: Path, hashing_env: None,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    index, corpus = tmp_path / "index", small_corpus(tmp_path / "docs")
    assert main(["index", "--index", str(index), "--corpus", str(corpus)]) == 0
    capsys.readouterr()
    # The project's corpus holds other files: checked against it, this index would be called stale.
    assert main(["ask", "Who directed it?", "--index", str(index), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["passages"] and "not checked against a corpus" in err and "--corpus" in err
    (corpus / "review.txt").write_text(TEXT.replace("four", "six"), encoding="utf-8")
    assert main(["ask", "Who directed it?", "--index", str(index), "--corpus", str(corpus)]) == 2
    assert "stale" in capsys.readouterr().err  # with its corpus named, it is checked


# --- (e) the default folders are said as they are --------------------------------------------------


def test_help_and_readme_name_the_real_default_folders(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("index", "ask"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert str(PROJECT_DIR / "index") in out and "./index" not in out and "./corpus" not in out
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert "./corpus" not in readme and "./index" not in readme
    assert Settings().corpus_dir == PROJECT_DIR / "corpus" and Settings().index_dir == PROJECT_DIR / "index"


# --- (f) files that are not text are named ------------------------------------------------------------


def test_files_of_other_kinds_are_listed_in_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    corpus = small_corpus(tmp_path / "docs")
    for name in ("table.xlsx", "photo.png", "sub/slides.odp", "LICENSE"):
        (corpus / name).parent.mkdir(exist_ok=True)
        (corpus / name).write_bytes(b"%PDF-1.4 not text")
    os.symlink(corpus / "sub", corpus / "linked")  # a folder link: named as such, not as a file of another kind
    with caplog.at_level(logging.WARNING, logger="rag"):
        assert [d.source for d in load_corpus(corpus)] == ["review.txt"]
    warnings = [r.getMessage() for r in caplog.records if "not read" in r.getMessage()]
    assert len(warnings) == 1 and "linked" not in warnings[0]
    assert "linked: a link to a folder, never followed" in caplog.text
    assert all(name in warnings[0] for name in ("table.xlsx", "photo.png", "sub/slides.odp", "LICENSE", ".pdf"))
    (corpus / "linked").unlink()
    with pytest.raises(CorpusError, match="4 file"):
        load_corpus(corpus, strict=True)


def test_rag_index_strict_refuses_a_damaged_pdf(tmp_path: Path, hashing_env: None,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    corpus = small_corpus(tmp_path / "docs")
    (corpus / "paper.pdf").write_bytes(b"%PDF-1.4")
    assert main(["index", "--strict", "--index", str(tmp_path / "i"), "--corpus", str(corpus)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "paper.pdf" in err


# --- (g) no raw control characters on the terminal -------------------------------------------------


def test_escape_sequences_from_the_corpus_never_reach_the_terminal(tmp_path: Path, hashing_env: None,
                                                                   caplog: pytest.LogCaptureFixture,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    inside = ESCAPES.rstrip("\r")  # a carriage return in text is a line break, collapsed like any whitespace
    corpus = small_corpus(tmp_path / "docs", TEXT.replace("four episodes", f"four {inside} episodes"),
                          name=f"review{ESCAPES}.txt")
    (corpus / f"bad{ESCAPES}.txt").write_bytes(b"\x00binary")
    index = ["--index", str(tmp_path / "index"), "--corpus", str(corpus)]
    with caplog.at_level(logging.WARNING, logger="rag"):
        assert main(["index", *index]) == 0
    assert main(["ask", "Who directed the series?", *index]) == 0
    out = capsys.readouterr().out
    assert "\\x1b[2J" in out and "\\x9b" in out  # shown as visible escapes
    assert not any(ch in out for ch in "\x1b\x07\x9b\r")
    assert main(["ask", "Who directed the series?", "--json", *index]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in "\x1b\x07\x9b\r")
    passage = json.loads(out)["passages"][0]
    assert inside in passage["text"] and passage["source"] == f"review{ESCAPES}.txt"  # the JSON values are unchanged
    warnings = [r.getMessage() for r in caplog.records if "bad" in r.getMessage()]
    assert warnings and not any(ch in w for w in warnings for ch in "\x1b\x07\x9b\r")
    record = logging.LogRecord("rag", logging.WARNING, __file__, 1, "skipping %s", ("a\x1b[31mb\nc",), None)
    assert PrintableFormatter("%(message)s").format(record) == "skipping a\\x1b[31mb\\x0ac"
    assert printable("tab\tline\n\x1b", keep="\n\t") == "tab\tline\n\\x1b"
