"""Durability: a build fsyncs its data files and folders before the manifest switch, and the switch after it."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import rag.files
from rag.config import Settings
from rag.files import Folder
from rag.index import build_index
from rag.store import read_manifest
from tests.conftest import hashing_settings


def test_build_fsyncs_files_and_folders_around_the_rename(corpus_dir: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    settings: Settings = hashing_settings(corpus_dir, tmp_path / "index")
    events: list[tuple[str, object]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.fstat(fd).st_ino))  # which file or folder, by inode
        real_fsync(fd)

    def replace(source: object, target: object, **kwargs: object) -> None:
        events.append(("rename", os.path.basename(str(target))))
        real_replace(source, target, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    build_index(settings)
    monkeypatch.undo()

    index = settings.index_dir
    data = index / read_manifest(index)["data"]
    synced = [ino for kind, ino in events if kind == "fsync"]
    rename = events.index(("rename", "manifest.json"))
    before = {ino for kind, ino in events[:rename] if kind == "fsync"}
    after = {ino for kind, ino in events[rename:] if kind == "fsync"}
    files = {p.name: p.stat().st_ino for p in data.iterdir()}
    assert set(files) >= {"passages.jsonl", "vectors.faiss", "sentences.faiss", "vocabulary.json", "vocabulary.faiss"}
    assert set(files.values()) <= before, "every data file is fsynced before the switch"
    assert data.stat().st_ino in before, "the data folder (its new entries) is fsynced before the switch"
    # The manifest file now is the temp file that was renamed: the same inode, fsynced before the rename.
    assert (index / "manifest.json").stat().st_ino in before
    assert index.stat().st_ino in after, "the index folder is fsynced after the rename, making it durable"
    # Last positions: the write probe is deleted before the data folder is made, so its inode may come back.
    last = {ino: n for n, ino in enumerate(synced)}
    assert last[data.stat().st_ino] > max(last[ino] for ino in files.values()), \
        "the folder is synced after its files are written"


def test_a_folder_that_cannot_be_opened_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows cannot open a folder to fsync it; the sync is skipped there, never fails the build.
    monkeypatch.setattr(rag.files, "_DIR_FD", False)
    folder = Folder(tmp_path)
    assert folder.fd is None
    real_open = os.open

    def no_folders(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if os.path.isdir(str(path)):
            raise PermissionError(errno.EACCES, "cannot open a folder", str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", no_folders)
    folder.sync()


def test_a_failing_file_fsync_fails_the_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An I/O error at fsync means the bytes may not be on disk: the build must not switch to them.
    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken)
    with Folder(tmp_path) as folder, pytest.raises(OSError, match="Input/output"):
        rag.files.write_new(folder, "x.json", b"{}")
