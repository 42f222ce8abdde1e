"""Tampered files are caught by their checksums, a hostile manifest cannot crash the loader, and a build that
cannot write (disk full, read-only folder) fails in one line and leaves the previous index as it was."""

from __future__ import annotations

import errno
import json
import os
import random
import shlex
import shutil
from pathlib import Path

import pytest

import rag.assistant
import rag.manifest
from rag.assistant import Assistant
from rag.cli import main
from rag.config import Settings
from rag.errors import IndexCorruptError, IndexStaleError, IndexWriteError
from rag.index import build_index
from rag.store import MANIFEST, load_index, read_manifest
from tests.conftest import hashing_settings

DATA_FILES = ["passages.jsonl", "vectors.faiss", "sentences.faiss", "vocabulary.json", "vocabulary.faiss",
              "everyday.json", "everyday.faiss"]
QUESTION = "Wer führte Regie?"


@pytest.fixture
def settings(hashing_index: Settings, tmp_path: Path) -> Settings:
    """A copy of the session's index of the real corpus (and its corpus), free to damage."""
    shutil.copytree(hashing_index.index_dir, tmp_path / "index")
    shutil.copytree(hashing_index.corpus_dir, tmp_path / "corpus")
    return hashing_settings(tmp_path / "corpus", tmp_path / "index")


def data_dir(settings: Settings) -> Path:
    return settings.index_dir / read_manifest(settings.index_dir)["data"]


def error_lines(err: str) -> list[str]:
    """stderr without the progress bar."""
    return [line for line in err.splitlines() if line.strip() and not line.startswith("embedding passages")]


# --- 6. checksums ----------------------------------------------------------------------------------------


def shuffle_passages(folder: Path) -> None:
    path = folder / "passages.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    random.Random(3).shuffle(lines)
    path.write_text("".join(lines), encoding="utf-8")


def flip_middle_bytes(name: str):  # type: ignore[no-untyped-def]
    def flip(folder: Path) -> None:
        path = folder / name
        data = bytearray(path.read_bytes())
        middle = len(data) // 2
        data[middle : middle + 16] = os.urandom(16)  # same size: only the content differs
        path.write_bytes(bytes(data))
    return flip


def swap_two_passages_text(folder: Path) -> None:
    path = folder / "passages.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows[0]["text"], rows[1]["text"] = rows[1]["text"], rows[0]["text"]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def append_newline(folder: Path) -> None:
    with open(folder / "vocabulary.json", "a", encoding="utf-8") as f:
        f.write("\n")


@pytest.mark.parametrize("tamper", [shuffle_passages, swap_two_passages_text, append_newline,
                                    *(flip_middle_bytes(name) for name in DATA_FILES)],
                         ids=["shuffled-lines", "swapped-texts", "appended-newline",
                              *(f"flipped-{name}" for name in DATA_FILES)])
def test_tampered_files_are_caught_by_their_checksums(settings: Settings, tamper,  # type: ignore[no-untyped-def]
                                                      hashing_assistant: Assistant, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    tamper(data_dir(settings))
    with pytest.raises(IndexCorruptError, match=r"damaged .*rag index --force"):
        load_index(settings.index_dir)
    monkeypatch.setenv("RAG_CORPUS_DIR", str(settings.corpus_dir))
    assert main(["ask", QUESTION, "--index", str(settings.index_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rag index --force" in err and "Traceback" not in err
    build_index(settings, force=True)  # the fix the message names
    assert Assistant.load(settings=settings).ask(QUESTION) == hashing_assistant.ask(QUESTION)  # as before the damage


@pytest.mark.parametrize("change", [1, -1])
def test_sentence_counts_that_disagree_with_the_passages_are_caught(settings: Settings, change: int) -> None:
    """Each passage row says how many sentence vectors are its own; a count that does not match the passage's
    sentences (here written with valid checksums) would misattribute every later sentence vector."""
    import hashlib

    folder = data_dir(settings)
    rows = [json.loads(line) for line in (folder / "passages.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(row["sentences"] >= 1 for row in rows)
    rows[len(rows) // 2]["sentences"] += change
    data = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
    (folder / "passages.jsonl").write_bytes(data)
    manifest = read_manifest(settings.index_dir)
    manifest["checksums"]["passages.jsonl"] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (settings.index_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"sentence vectors do not match the passages.*rag index --force"):
        load_index(settings.index_dir)


@pytest.mark.parametrize("checksums", [None, {}, {"passages.jsonl": {"size": 1}}, "abc",
                                       {name: {"size": -1, "sha256": "0" * 64} for name in DATA_FILES},
                                       {name: {"size": 1, "sha256": "xyz"} for name in DATA_FILES}])
def test_missing_or_malformed_checksums_are_reported(settings: Settings, checksums: object) -> None:
    manifest = read_manifest(settings.index_dir)
    manifest["checksums"] = checksums
    (settings.index_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="rag index --force"):
        load_index(settings.index_dir)


def test_an_index_of_the_older_format_names_the_fix(settings: Settings, hashing_assistant: Assistant,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Format 1 had no checksums: it is stale, and `rag index` (or ask() on the default index) rebuilds it."""
    manifest = read_manifest(settings.index_dir)
    del manifest["checksums"]
    manifest["format_version"] = 1
    (settings.index_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexStaleError, match=r"older version of rag .*`rag index --force`"):
        Assistant.load(settings=settings)
    monkeypatch.setenv("RAG_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("RAG_MODEL", "hashing")
    assert main(["ask", QUESTION, "--index", str(settings.index_dir)]) == 2
    # The fix is the command to run, with the folder passed to `rag ask`.
    assert error_lines(capsys.readouterr().err)[0].endswith(
        f"rebuild with `rag index --force --index {shlex.quote(str(settings.index_dir))}`")
    assert main(["index", "--index", str(settings.index_dir)]) == 0
    assert read_manifest(settings.index_dir)["checksums"]
    (settings.index_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")  # old again
    monkeypatch.setattr(rag.assistant, "_default", None)
    assert rag.assistant.default_assistant(settings).ask(QUESTION) == hashing_assistant.ask(QUESTION)  # rebuilt
    assert {p.name for p in settings.index_dir.iterdir()} == {MANIFEST, ".build.lock",
                                                              read_manifest(settings.index_dir)["data"]}


# --- 3. a hostile manifest -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 100_000, "[" * 100_000 + "]" * 100_000,
                                  '{"format_version": 2, "x": ' + "[" * 50_000 + "]" * 50_000 + "}"],
                         ids=["open-brackets", "open-objects", "balanced", "deep-field"])
def test_a_deeply_nested_manifest_is_a_clear_error(settings: Settings, text: str, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (settings.index_dir / MANIFEST).write_text(text, encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="rag index --force"):
        load_index(settings.index_dir)
    with pytest.raises(IndexCorruptError, match="rag index --force"):
        Assistant.load(settings=settings)  # what the page does at start
    monkeypatch.setenv("RAG_CORPUS_DIR", str(settings.corpus_dir))
    assert main(["ask", QUESTION, "--index", str(settings.index_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rag index --force" in err and "Traceback" not in err


def test_an_oversized_manifest_is_refused_without_reading_it_all(settings: Settings,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rag.manifest, "MAX_MANIFEST_BYTES", 1000)
    with pytest.raises(IndexCorruptError, match="too large"):
        load_index(settings.index_dir)



# --- 5. disk full, read-only folder ----------------------------------------------------------------------


def snapshot(settings: Settings) -> tuple[dict[str, bytes], dict]:
    """Every file of the index folder, and the answer to the test question."""
    files = {str(p.relative_to(settings.index_dir)): p.read_bytes() for p in settings.index_dir.rglob("*")
             if p.is_file()}
    return files, Assistant.load(settings=settings).ask(QUESTION).to_dict()


@pytest.fixture
def disk_full_at(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Simulate a full disk: os.write raises ENOSPC once the named file is being written (Linux: /proc)."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("finds which file a write goes to through /proc/self/fd (Linux)")
    real_write = os.write

    def arm(name: str) -> None:
        def write(fd: int, data: bytes) -> int:
            if Path(os.readlink(f"/proc/self/fd/{fd}")).name.startswith(name):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_write(fd, data)
        monkeypatch.setattr(os, "write", write)
    return arm


@pytest.mark.parametrize("name", [*DATA_FILES, ".manifest.json"])
def test_a_full_disk_fails_in_one_line_and_keeps_the_old_index(settings: Settings, disk_full_at,  # type: ignore[no-untyped-def]
                                                                name: str, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(settings)
    disk_full_at(name)
    with pytest.raises(IndexWriteError, match=r"disk is full.*rag index"):
        build_index(settings, force=True)
    monkeypatch.setenv("RAG_MODEL", "hashing")
    assert main(["index", "--force", "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]) == 2
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and str(settings.index_dir) in lines[0] and "disk is full" in lines[0]
    monkeypatch.undo()
    assert snapshot(settings) == before  # byte for byte, and nothing left behind


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Simulate a read-only file system: tests run as root, where chmod does not stop writes, and mounting
    one needs privileges. Every open for writing and every mkdir fails with EROFS, as the kernel would."""
    real_open, real_mkdir = os.open, os.mkdir
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def open_(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if flags & writing:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    def mkdir(path: object, *args: object, **kwargs: object) -> None:
        if not os.path.isdir(str(path)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        real_mkdir(path, *args, **kwargs)  # type: ignore[arg-type]  # raises FileExistsError, as the OS would

    def arm() -> None:
        monkeypatch.setattr(os, "open", open_)
        monkeypatch.setattr(os, "mkdir", mkdir)
    return arm


def test_a_read_only_index_folder_fails_in_one_line_and_still_answers(settings: Settings, read_only,  # type: ignore[no-untyped-def]
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(settings)
    read_only()
    monkeypatch.setenv("RAG_MODEL", "hashing")
    index_args = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    assert main(["index", "--force", *index_args]) == 2
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "read-only" in lines[0] and str(settings.index_dir) in lines[0]
    assert main(["index", *index_args]) == 0  # nothing changed: no write needed
    assert "unchanged" in capsys.readouterr().out
    assert main(["ask", QUESTION, "--index", str(settings.index_dir), "--corpus", str(settings.corpus_dir)]) == 0
    assert Assistant.load(settings=settings).ask(QUESTION).to_dict() == before[1]
    monkeypatch.undo()
    assert snapshot(settings) == before


def test_a_new_index_folder_on_a_read_only_disk_fails_in_one_line(settings: Settings, read_only,  # type: ignore[no-untyped-def]
                                                                  tmp_path: Path) -> None:
    read_only()
    with pytest.raises(IndexWriteError, match="read-only"):
        build_index(settings.with_(index_dir=tmp_path / "new" / "index"))
