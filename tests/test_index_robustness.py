"""Index files someone tampered with, another model, concurrent builds and reads: clear errors, no crash."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.cli import main
from rag.config import Settings
from rag.embedding import HashingEmbedder
from rag.errors import IndexCorruptError, IndexStaleError, ModelError
from rag.index import build_index
from rag.store import LOCK, MANIFEST, load_index, read_manifest
from tests.conftest import hashing_settings


@pytest.fixture
def index(hashing_index: Settings, tmp_path: Path) -> Path:
    """A copy of the session's index of the real corpus, free to damage."""
    target = tmp_path / "index"
    shutil.copytree(hashing_index.index_dir, target)
    return target


def edit_manifest(index: Path, **changes: object) -> None:
    manifest = json.loads((index / MANIFEST).read_text(encoding="utf-8"))
    manifest.update(changes)
    (index / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def data_dir(index: Path) -> Path:
    return index / read_manifest(index)["data"]


def resign(index: Path) -> None:
    """Record the data files' current sizes and hashes, as a tamperer who knows the format would."""
    manifest = json.loads((index / MANIFEST).read_text(encoding="utf-8"))
    for name in manifest["checksums"]:
        data = (index / manifest["data"] / name).read_bytes()
        manifest["checksums"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (index / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


# --- a manifest pointing outside the index folder -------------------------------------------------


@pytest.mark.parametrize("data", ["../outside", "../../etc", "/etc", "data-x/../../outside", "data-ok/..",
                                  "data-a\x00b", "", ".", "data-", 5, None, ["data-x"]])
def test_manifest_data_must_be_a_data_folder_of_the_index(index: Path, tmp_path: Path, data: object,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(data_dir(index), tmp_path / "outside")  # a complete index, but outside: must not be read
    edit_manifest(index, data=data)
    opened: list[str] = []
    real_open = os.open

    def open_(path: object, *args: object, **kwargs: object) -> int:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", open_)
    with pytest.raises(IndexCorruptError, match="rag index --force"):
        load_index(index)
    assert opened and set(opened) <= {str(index), MANIFEST}  # only the index folder and its manifest


def test_a_renamed_data_folder_still_loads(index: Path) -> None:
    data_dir(index).rename(index / "data-renamed_by-hand")
    edit_manifest(index, data="data-renamed_by-hand")
    assert load_index(index).chunks


# --- files that are valid JSON with the wrong content ----------------------------------------------


def _rewrite_first_passage(index: Path, change) -> None:  # type: ignore[no-untyped-def]
    path = data_dir(index) / "passages.jsonl"
    first, *rest = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([change(json.loads(first)), *rest]) + "\n", encoding="utf-8")
    resign(index)  # so the loader's own checks are what is tested, not the checksum


@pytest.mark.parametrize("change", [
    lambda r: json.dumps({**r, "start": "abc"}),
    lambda r: json.dumps({**r, "end": None}),
    lambda r: json.dumps({**r, "line_start": {"a": 1}}),
    lambda r: json.dumps(r).replace('"start": 0', '"start": 1e400'),  # JSON infinity: int() overflows
    lambda r: json.dumps(r).replace('"start": 0', '"start": NaN'),
    lambda r: json.dumps({k: v for k, v in r.items() if k != "text"}),
    lambda r: json.dumps(list(r.values())),
    lambda r: json.dumps("a string"),
    lambda r: "",
], ids=["start-str", "end-null", "line-dict", "start-inf", "start-nan", "no-text", "list", "string", "blank"])
def test_passages_with_wrong_types_are_reported_as_damage(index: Path, change) -> None:  # type: ignore[no-untyped-def]
    _rewrite_first_passage(index, change)
    with pytest.raises(IndexCorruptError, match="rag index --force"):
        load_index(index)


@pytest.mark.parametrize("vocabulary", ["{}", '["word"]', '{"en": "word"}', '{"en": [1, 2]}', '{"en": [null]}'])
def test_vocabulary_with_wrong_types_is_reported_as_damage(index: Path, vocabulary: str) -> None:
    (data_dir(index) / "vocabulary.json").write_text(vocabulary, encoding="utf-8")
    resign(index)
    with pytest.raises(IndexCorruptError, match="rag index --force"):
        load_index(index)


@pytest.mark.parametrize(("key", "value"), [
    ("model", 5), ("dim", "256"), ("files", ["a.txt"]), ("passages", None), ("chunking", "400"),
    ("languages", None), ("data", {"name": "data-x"})])
def test_manifest_fields_with_wrong_types_are_reported(index: Path, key: str, value: object) -> None:
    edit_manifest(index, **{key: value})
    with pytest.raises(IndexCorruptError, match="rag index --force"):
        load_index(index)


def test_tampered_index_is_one_line_and_exit_2_in_the_cli(index: Path, corpus_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    edit_manifest(index, files="not a map")
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus_dir))
    assert main(["ask", "Wer führte Regie?", "--index", str(index)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rag index --force" in err and "Traceback" not in err
    # `rag index` repairs it: a damaged index is rebuilt, not reused
    monkeypatch.setenv("RAG_MODEL", "hashing")
    assert main(["index", "--index", str(index)]) == 0
    assert load_index(index).chunks


# --- another model -----------------------------------------------------------------------------------


def test_index_of_another_model_dimension_names_the_fix(index: Path, corpus_dir: Path) -> None:
    settings = hashing_settings(corpus_dir, index)
    with pytest.raises(IndexStaleError, match="rag index --force") as info:
        Assistant.load(settings=settings, embedder=HashingEmbedder(dim=128))
    assert "256" in str(info.value) and "128" in str(info.value)
    with pytest.raises(IndexStaleError, match="another model"):
        Assistant(load_index(index), HashingEmbedder(dim=512), settings)


def test_rebuild_after_the_model_changed_under_the_same_name(index: Path, corpus_dir: Path) -> None:
    """A local model folder swapped for another: its stored vectors cannot be reused (nor mixed in)."""
    settings = hashing_settings(corpus_dir, index)
    (corpus_dir / "new_en.txt").write_text("A new review paragraph about the photographer and the piano.\n",
                                           encoding="utf-8")
    other = HashingEmbedder(dim=128)
    report = build_index(settings, embedder=other)
    assert report.reused == 0 and read_manifest(index)["dim"] == 128
    assert Assistant.load(settings=settings, embedder=other).ask("Who is the photographer?").passages


def test_index_model_that_cannot_be_loaded_names_the_fix(index: Path, corpus_dir: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    edit_manifest(index, model="org/model-only-on-another-machine")

    def unavailable(model: str) -> None:
        raise ModelError(f"cannot load embedding model {model!r} (OSError: not in the cache,\nno network)")

    monkeypatch.setattr("rag.assistant.load_embedder", unavailable)
    settings = hashing_settings(corpus_dir, index)
    with pytest.raises(ModelError, match=r"rag index --model") as info:
        Assistant.load(settings=settings, check_stale=False)
    assert "model-only-on-another-machine" in str(info.value) and "\n" not in str(info.value)
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(index))
    assert main(["ask", "Who directed it?"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rag index --model" in err


def test_the_index_model_wins_over_the_setting(hashing_index: Settings, hashing_assistant: Assistant) -> None:
    """RAG_MODEL only chooses the model of new builds; a loaded index always uses its own model."""
    other = Assistant.load(settings=hashing_index.with_(model="use-multilingual"))
    assert other.settings.model == "hashing"
    assert other.ask("Wer führte Regie?").to_dict() == hashing_assistant.ask("Wer führte Regie?").to_dict()


# --- builds and reads at the same time ---------------------------------------------------------------


def test_load_during_a_rebuild_reads_the_new_index(index: Path, corpus_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild switching the manifest and removing the old data while a reader is on it."""
    import faiss

    settings = hashing_settings(corpus_dir, index)
    old = read_manifest(index)["data"]
    real_read = faiss.read_index
    calls: list[str] = []

    def read_index(path: str, *args: object):  # type: ignore[no-untyped-def]
        calls.append(path)
        if len(calls) == 1:  # the reader has the old manifest; now a rebuild finishes
            build_index(settings, force=True)
        return real_read(path, *args)

    monkeypatch.setattr(faiss, "read_index", read_index)
    loaded = load_index(index)
    assert read_manifest(index)["data"] != old and not (index / old).exists()
    assert loaded.manifest["data"] == read_manifest(index)["data"] and loaded.chunks


def test_concurrent_builds_leave_one_complete_index(index: Path, corpus_dir: Path,
                                                    hashing_assistant: Assistant) -> None:
    settings = hashing_settings(corpus_dir, index)
    errors: list[Exception] = []

    def build() -> None:
        try:
            build_index(settings, force=True)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    names = {p.name for p in index.iterdir()}
    assert names == {MANIFEST, LOCK, read_manifest(index)["data"]}
    question = "Wer führte Regie?"
    assert Assistant.load(settings=settings).ask(question) == hashing_assistant.ask(question)  # as built once
