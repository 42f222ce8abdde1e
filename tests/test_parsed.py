"""Parsed documents kept with the index: a rebuild reads again only the files whose content changed."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import rag.corpus
from rag.index import build_index, load_index
from rag.ingest.parsed import PARSED, load_parsed
from rag.store import read_manifest
from tests.conftest import hashing_settings


@pytest.fixture
def cleaned(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """How many times each file was cleaned into blocks (what reading it again costs)."""
    counts: Counter[str] = Counter()
    original = rag.corpus.blocks

    def counting(source: str, raw: str, lang: str):  # type: ignore[no-untyped-def]
        counts[source] += 1
        return original(source, raw, lang)

    monkeypatch.setattr(rag.corpus, "blocks", counting)
    yield counts


@pytest.fixture
def read(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """How many times each file was read into a document after the freshness check had hashed it."""
    counts: Counter[str] = Counter()
    original = rag.corpus.read_document

    def counting(corpus_dir: Path, source: str, known=None):  # type: ignore[no-untyped-def]
        counts[source] += 1
        return original(corpus_dir, source, known)

    monkeypatch.setattr(rag.corpus, "read_document", counting)
    yield counts


def _passages(index_dir: Path) -> list[tuple[str, int, int, str, str]]:
    return [(c.source, c.start, c.end, c.lang, c.text) for c in load_index(index_dir).chunks]


def test_a_rebuild_reads_only_the_changed_file_and_gives_the_full_builds_index(
        corpus_dir: Path, tmp_path: Path, cleaned: Counter[str], read: Counter[str]) -> None:
    (corpus_dir / "notes.md").write_text("# Notes\n\nThe OST has twelve songs by four singers.\n", encoding="utf-8")
    settings = hashing_settings(corpus_dir, tmp_path / "index")
    build_index(settings)
    assert set(cleaned) == {"notes.md", "soundtrack1_article_de.txt", "soundtrack1_review_en.txt"}
    cleaned.clear()
    read.clear()
    with (corpus_dir / "notes.md").open("a", encoding="utf-8") as f:
        f.write("\nEach episode runs for about forty minutes.\n")
    (corpus_dir / "soundtrack1_review_en.txt").rename(corpus_dir / "review.txt")  # same content, new name
    build_index(settings)
    assert dict(cleaned) == {"notes.md": 1}  # the renamed file is found by its content
    assert dict(read) == {"notes.md": 1}  # the others' contents were hashed once, by the freshness check
    again = hashing_settings(corpus_dir, tmp_path / "fresh")
    build_index(again, force=True)
    assert _passages(settings.index_dir) == _passages(again.index_dir)
    assert any(source == "review.txt" for source, *_ in _passages(settings.index_dir))


def test_what_is_kept_is_each_document_with_its_blocks(corpus_dir: Path, tmp_path: Path) -> None:
    settings = hashing_settings(corpus_dir, tmp_path / "index")
    build_index(settings)
    kept = load_parsed(settings.index_dir)
    docs = {d.sha256: d for d in rag.corpus.read_corpus(corpus_dir).parsed}
    assert kept.keys() == docs.keys()
    for sha, doc in docs.items():
        assert kept[sha].named(doc.source) == doc


@pytest.mark.parametrize("damage", ["altered", "malformed", "block outside", "other code", "missing"])
def test_a_damaged_or_foreign_store_is_ignored_and_every_file_read(
        corpus_dir: Path, tmp_path: Path, cleaned: Counter[str], damage: str) -> None:
    settings = hashing_settings(corpus_dir, tmp_path / "index")
    build_index(settings)
    manifest = read_manifest(settings.index_dir)
    path = settings.index_dir / manifest["data"] / PARSED
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if damage == "altered":  # the checksum no longer matches
        path.write_text(path.read_text(encoding="utf-8").replace("Soundtrack", "Soundtrock"), encoding="utf-8")
    else:
        if damage == "malformed":
            rows[0]["blocks"] = "not a list"
        elif damage == "block outside":
            rows[0]["blocks"][0][1] = len(rows[0]["raw"]) + 5
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
        path.write_bytes(body)
        manifest["checksums"][PARSED] = {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        if damage == "other code":
            manifest["pipeline"] = "0" * 16
        elif damage == "missing":
            del manifest["checksums"][PARSED]
        (settings.index_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert load_parsed(settings.index_dir) == {}
    cleaned.clear()
    (corpus_dir / "extra.txt").write_text("A new file, so the build does not stop at the manifest.", encoding="utf-8")
    build_index(settings)
    assert set(cleaned) == {"extra.txt", "soundtrack1_article_de.txt", "soundtrack1_review_en.txt"}


def test_a_forced_build_reads_every_file(corpus_dir: Path, tmp_path: Path, cleaned: Counter[str]) -> None:
    settings = hashing_settings(corpus_dir, tmp_path / "index")
    build_index(settings)
    cleaned.clear()
    build_index(settings, force=True)
    assert set(cleaned) == {"soundtrack1_article_de.txt", "soundtrack1_review_en.txt"}
