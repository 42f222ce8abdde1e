"""Nothing outside the index folder: a build removes only what it made, and loading never follows a symlink
out of the folder or uses a path an index names as its model."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import rag.assistant
from rag.assistant import Assistant
from rag.cli import main
from rag.config import Settings
from rag.embedding import HashingEmbedder
from rag.errors import IndexCorruptError, IndexWriteError
from rag.index import build_index
from rag.store import LOCK, MANIFEST, load_index, read_manifest
from tests.conftest import hashing_settings


@pytest.fixture
def settings(corpus_dir: Path, tmp_path: Path) -> Settings:
    settings = hashing_settings(corpus_dir, tmp_path / "index")
    build_index(settings)
    return settings


# --- 1. a build removes only folders it made -------------------------------------------------------


def users_things(index: Path, outside: Path) -> dict[Path, str]:
    """Files and folders of the user's in the index folder, some named like ours."""
    outside.mkdir()
    (outside / "keep.txt").write_text("precious", encoding="utf-8")
    things = {
        index / "data-analysis" / "results.csv": "a,b\n1,2\n",
        index / "data-20240101T000000-abcdef" / "notes.txt": "named like a build's folder, but not one",
        index / "data-20240101T000000-abc123" / "passages.jsonl": "ours by name and file …",
        index / "data-20240101T000000-abc123" / "thesis.tex": "… but with a file of the user's in it",
        index / "data-report.csv": "x\n",
        index / ".manifest.json.notes.tmp": "not a temporary manifest of ours",
    }
    for path, text in things.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (index / "data-20250101T000000-0a0a0a").symlink_to(outside, target_is_directory=True)
    return {**things, outside / "keep.txt": "precious"}


@pytest.mark.parametrize("run", ["force", "changed corpus", "unchanged", "cli"])
def test_a_build_never_removes_the_users_folders(settings: Settings, corpus_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, run: str) -> None:
    index = settings.index_dir
    things = users_things(index, tmp_path / "outside")
    leftover = index / "data-20230101T000000-00ff00"  # what a killed build leaves: ours, removed
    leftover.mkdir()
    (leftover / "vectors.faiss").write_bytes(b"partial")
    if run == "changed corpus":
        (corpus_dir / "new_en.txt").write_text("A new review of the series and its piano music.", encoding="utf-8")
    if run == "cli":
        monkeypatch.setenv("RAG_MODEL", "hashing")
        assert main(["index", "--force", "--corpus", str(corpus_dir), "--index", str(index)]) == 0
    else:
        report = build_index(settings, force=run == "force")
        assert report.unchanged == (run == "unchanged")
    for path, text in things.items():
        assert path.read_text(encoding="utf-8") == text, path
    assert (index / "data-20250101T000000-0a0a0a").is_symlink()
    assert not leftover.exists()
    assert load_index(index).chunks


# --- 2. symlinks are not followed out of the index folder --------------------------------------------


DATA_FILES = ["passages.jsonl", "vectors.faiss", "sentences.faiss", "vocabulary.json", "vocabulary.faiss",
              "everyday.json", "everyday.faiss"]


@pytest.mark.parametrize("name", DATA_FILES)
def test_a_symlinked_data_file_is_refused(settings: Settings, tmp_path: Path, name: str) -> None:
    """The link points to an identical copy, so following it would load fine: only not following it fails."""
    data = settings.index_dir / read_manifest(settings.index_dir)["data"]
    outside = tmp_path / "elsewhere" / name
    outside.parent.mkdir()
    shutil.move(data / name, outside)
    (data / name).symlink_to(outside)
    with pytest.raises(IndexCorruptError, match="symbolic link") as info:
        load_index(settings.index_dir)
    assert "rag index --force" in str(info.value)


def test_a_symlinked_data_folder_is_refused(settings: Settings, tmp_path: Path) -> None:
    name = read_manifest(settings.index_dir)["data"]
    shutil.move(settings.index_dir / name, tmp_path / "moved")
    (settings.index_dir / name).symlink_to(tmp_path / "moved", target_is_directory=True)
    with pytest.raises(IndexCorruptError, match="symbolic link"):
        Assistant.load(settings=settings)


def test_a_symlinked_manifest_is_refused(settings: Settings, tmp_path: Path) -> None:
    shutil.move(settings.index_dir / MANIFEST, tmp_path / MANIFEST)
    (settings.index_dir / MANIFEST).symlink_to(tmp_path / MANIFEST)
    with pytest.raises(IndexCorruptError, match="symbolic link"):
        load_index(settings.index_dir)
    build_index(settings, force=True)  # the fix the message names replaces the link, not its target
    assert not (settings.index_dir / MANIFEST).is_symlink() and load_index(settings.index_dir).chunks


def test_a_symlinked_lock_file_creates_nothing_elsewhere(settings: Settings, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "elsewhere" / "created.lock"
    target.parent.mkdir()
    (settings.index_dir / LOCK).unlink()
    (settings.index_dir / LOCK).symlink_to(target)
    with pytest.raises(IndexWriteError, match="symbolic link"):
        build_index(settings, force=True)
    monkeypatch.setenv("RAG_MODEL", "hashing")
    argv = ["index", "--force", "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("embedding passages")]
    assert len(lines) == 1 and "symbolic link" in lines[0] and "Traceback" not in err
    assert not target.exists()
    assert load_index(settings.index_dir).chunks  # the index itself still loads


# --- 2. the manifest's model is a name, never a path --------------------------------------------------


@pytest.fixture
def loaded_models(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record what Assistant.load asks the model loader for (and give it the hashing embedder)."""
    calls: list[str] = []

    def load(model: str) -> HashingEmbedder:
        calls.append(model)
        return HashingEmbedder()

    monkeypatch.setattr(rag.assistant, "load_embedder", load)
    return calls


def set_model(index: Path, model: str) -> None:
    manifest = json.loads((index / MANIFEST).read_text(encoding="utf-8"))
    (index / MANIFEST).write_text(json.dumps({**manifest, "model": model}), encoding="utf-8")


@pytest.mark.parametrize("model", ["/some/dir", "/etc", "../model", "./model", "models/local", "a/b/c",
                                   "C:\\models\\x", "~/model", "hashing+/abs/path", "org/..", "", "x\nrag"])
def test_a_model_path_from_the_manifest_is_never_loaded(settings: Settings, tmp_path: Path, model: str,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        loaded_models: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "local").mkdir(parents=True)  # "models/local" is a folder here, not a model id
    set_model(settings.index_dir, model)
    with pytest.raises(IndexCorruptError, match="not a model name") as info:
        Assistant.load(settings=settings, check_stale=False)
    assert "rag index --force" in str(info.value) and "\n" not in str(info.value)
    assert loaded_models == []


@pytest.mark.parametrize("model", ["hashing", "org/model-name", "minilm+hashing", "all-MiniLM-L6-v2"])
def test_a_model_name_from_the_manifest_is_loaded(settings: Settings, model: str,
                                                  loaded_models: list[str]) -> None:
    set_model(settings.index_dir, model)
    Assistant.load(settings=settings, check_stale=False)
    assert loaded_models == [model]


def test_a_local_model_folder_loads_when_the_user_asks_for_it(settings: Settings, tmp_path: Path,
                                                              loaded_models: list[str]) -> None:
    folder = str(tmp_path / "my-model")
    set_model(settings.index_dir, folder)
    with pytest.raises(IndexCorruptError, match=f"RAG_MODEL={folder}"):
        Assistant.load(settings=settings, check_stale=False)
    Assistant.load(settings=settings.with_(model=folder), check_stale=False)  # RAG_MODEL=<folder>
    assert loaded_models == [folder]


def test_the_cli_reports_a_model_path_in_one_line(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str],
                                                  loaded_models: list[str]) -> None:
    set_model(settings.index_dir, "/some/dir")
    monkeypatch.setenv("RAG_CORPUS_DIR", str(settings.corpus_dir))
    assert main(["ask", "Wer führte Regie?", "--index", str(settings.index_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "/some/dir" in err and "Traceback" not in err
    assert loaded_models == []


def test_loading_opens_nothing_outside_the_index_folder(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    index = settings.index_dir
    opened: list[str] = []
    real_open = os.open

    def open_(path: object, *args: object, **kwargs: object) -> int:
        # A bare name is opened relative to a folder already opened (dir_fd): checked when that was opened.
        opened.append(str(path) if "dir_fd" not in kwargs else str(index / str(path)))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", open_)
    load_index(index)
    assert opened and all(Path(p).is_relative_to(index) and ".." not in p for p in opened)
