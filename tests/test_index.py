"""Index: manifest, incremental rebuilds, staleness, damage, and atomic writes."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from rag.assistant import Assistant
from rag.config import PROJECT_DIR
from rag.embedding import HashingEmbedder, Kind
from rag.errors import IndexCorruptError, IndexNotFoundError, IndexStaleError
from rag.index import build_index, check_fresh
from rag.names import NameNormalizer
from rag.store import FORMAT_VERSION, MANIFEST, load_index, read_manifest
from rag.text import split_sentences
from tests.conftest import hashing_settings


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting how many texts it embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def embed_batch(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        self.count += len(texts)
        return super().embed_batch(texts, kind)


@pytest.fixture
def settings(corpus_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    return hashing_settings(corpus_dir, tmp_path / "index")


def test_manifest_records_what_the_index_was_built_from(settings) -> None:  # type: ignore[no-untyped-def]
    report = build_index(settings)
    manifest = read_manifest(settings.index_dir)
    assert manifest["format_version"] == FORMAT_VERSION and manifest["model"] == "hashing"
    assert manifest["dim"] == 256 and manifest["passages"] == report.passages
    assert set(manifest["files"]) == {"soundtrack1_article_de.txt", "soundtrack1_review_en.txt"}
    assert manifest["chunking"]["chunk_size"] == settings.chunk_size and manifest["built_at"]
    assert report.languages == manifest["languages"] and set(report.languages) == {"de", "en"}
    files = {p.name for p in (settings.index_dir / manifest["data"]).iterdir()}
    assert files == {"passages.jsonl", "vectors.faiss", "sentences.faiss", "vocabulary.json", "vocabulary.faiss",
                     "everyday.json", "everyday.faiss", "documents.jsonl", "names.json"}
    assert set(manifest["checksums"]) == files


def test_rebuild_embeds_only_changed_documents(settings, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    first = CountingEmbedder()
    build_index(settings, embedder=first)
    again = CountingEmbedder()
    assert build_index(settings, embedder=again).unchanged and again.count == 0

    extra = corpus_dir / "notes.md"
    extra.write_text("# Notes\nKim Hee-won directed Soundtrack #1 for Disney+ in 2022.\n", encoding="utf-8")
    changed = CountingEmbedder()
    report = build_index(settings, embedder=changed)
    assert 0 < changed.count < first.count / 5 and report.reused > 0
    assert any(c.source == "notes.md" for c in load_index(settings.index_dir).chunks)

    extra.unlink()
    build_index(settings, embedder=CountingEmbedder())
    assert all(c.source != "notes.md" for c in load_index(settings.index_dir).chunks)
    forced = CountingEmbedder()
    build_index(settings, embedder=forced, force=True)
    assert forced.count == first.count


@pytest.mark.parametrize("edit", ["new name", "same names"])
def test_an_updated_index_holds_the_vectors_a_full_build_makes(settings, corpus_dir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                edit: str) -> None:
    """Rows taken from the old index by their text land where a full build puts them."""
    build_index(settings)
    before = load_index(settings.index_dir).names.canonical
    review = corpus_dir / "soundtrack1_review_en.txt"
    if edit == "new name":  # the old vectors are found by key, the old texts normalised as before
        review.write_text(review.read_text(encoding="utf-8") + "\n\nMin-jun and Eun-seo meet again.\n",
                          encoding="utf-8")
    else:  # the same names: unchanged texts keep their rows
        (corpus_dir / "notes.md").write_text("# Notes\nHan Seon-woo takes photos.\n", encoding="utf-8")
    build_index(settings)
    assert (load_index(settings.index_dir).names.canonical == before) == (edit == "same names")
    fresh = hashing_settings(corpus_dir, tmp_path / "fresh")
    build_index(fresh, force=True)
    updated, full = load_index(settings.index_dir), load_index(fresh.index_dir)
    assert [c.text for c in updated.chunks] == [c.text for c in full.chunks]
    for name in ("vectors", "sentence_vectors", "everyday_vectors"):
        assert np.array_equal(getattr(updated, name), getattr(full, name)), name
    assert updated.vocabulary == full.vocabulary
    assert all(np.array_equal(updated.vocabulary_vectors[lang], full.vocabulary_vectors[lang])
               for lang in full.vocabulary)


def test_a_changed_passage_embeds_only_its_changed_sentence(settings, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    build_index(settings)
    article = corpus_dir / "soundtrack1_article_de.txt"
    text = article.read_text(encoding="utf-8")
    assert text.count("Seon-woos stille Zuneigung") == 1  # the second of a passage's three sentences
    article.write_text(text.replace("Seon-woos stille Zuneigung", "Seon-woos leise Zuneigung"), encoding="utf-8")
    seen: list[str] = []

    class Recording(HashingEmbedder):
        def embed_batch(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
            seen.extend(texts)
            return super().embed_batch(texts, kind)

    build_index(settings, embedder=Recording())
    changed = next(c for c in load_index(settings.index_dir).chunks if "leise Zuneigung" in c.text)
    assert len(split_sentences(changed.text)) == 3
    # the passage and its changed sentence, and the new word; its other two sentences keep their vectors
    assert sorted("leise Zuneigung" in t for t in seen) == [False, True, True] and "leise" in seen


def test_loading_takes_the_names_the_build_learned_unless_other_code_built_it(  # type: ignore[no-untyped-def]
        settings, monkeypatch: pytest.MonkeyPatch) -> None:
    build_index(settings)
    learned = load_index(settings.index_dir).names.canonical
    assert learned  # the corpus's Korean names ("Seon-woo")
    calls: list[int] = []
    original = NameNormalizer.learn.__func__  # type: ignore[attr-defined]
    counting = classmethod(lambda cls, texts: calls.append(1) or original(cls, texts))
    monkeypatch.setattr(NameNormalizer, "learn", counting)
    assert load_index(settings.index_dir).names.canonical == learned and calls == []
    manifest_path = settings.index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest_path.write_text(json.dumps({**manifest, "pipeline": "0" * 16}), encoding="utf-8")
    assert load_index(settings.index_dir).names.canonical == learned and calls == [1]  # learned again


def test_a_names_file_that_is_not_a_map_is_refused(settings) -> None:  # type: ignore[no-untyped-def]
    build_index(settings)
    manifest_path = settings.index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    body = b'["Seon-woo"]'
    (settings.index_dir / manifest["data"] / "names.json").write_bytes(body)
    manifest["checksums"]["names.json"] = {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="names.json"):
        load_index(settings.index_dir)


def test_stale_index_is_reported(settings, corpus_dir: Path) -> None:  # type: ignore[no-untyped-def]
    build_index(settings)
    (corpus_dir / "soundtrack1_review_en.txt").write_text("Changed review text, a few words.", encoding="utf-8")
    with pytest.raises(IndexStaleError, match="rag index"):
        Assistant.load(settings=settings)
    with pytest.raises(IndexStaleError, match="model"):
        check_fresh(load_index(settings.index_dir), settings.with_(model="minilm"))


def test_missing_index_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="rag index"):
        load_index(tmp_path / "nothing")


def _damage_passages(folder: Path) -> None:
    path = folder / "passages.jsonl"
    path.write_bytes(path.read_bytes()[:-300])  # truncated mid-line


def _damage_vectors(folder: Path) -> None:
    path = folder / "vectors.faiss"
    path.write_bytes(path.read_bytes()[:100])


def _drop_vocabulary(folder: Path) -> None:
    (folder / "vocabulary.json").unlink()


@pytest.mark.parametrize("damage", [_damage_passages, _damage_vectors, _drop_vocabulary])
def test_damaged_index_is_reported(settings, damage) -> None:  # type: ignore[no-untyped-def]
    build_index(settings)
    damage(settings.index_dir / read_manifest(settings.index_dir)["data"])
    with pytest.raises(IndexCorruptError, match="rag index --force"):
        load_index(settings.index_dir)


@pytest.mark.parametrize("manifest", ["{not json", '{"format_version": 999}', "[]",
                                      f'{{"format_version": {FORMAT_VERSION}}}'])
def test_bad_manifest_is_reported(tmp_path: Path, manifest: str) -> None:
    (tmp_path / MANIFEST).write_text(manifest, encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="rag index"):
        load_index(tmp_path)


def test_interrupted_build_leaves_previous_index_usable(settings, corpus_dir: Path,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    build_index(settings)
    before = load_index(settings.index_dir).manifest
    answer = Assistant(load_index(settings.index_dir), HashingEmbedder(), settings).ask("Wer führte Regie?")
    (corpus_dir / "new.txt").write_text("A new review paragraph about the photographer.", encoding="utf-8")

    def killed(*args: object) -> None:
        raise KeyboardInterrupt  # the process dies while writing vectors

    monkeypatch.setattr("faiss.write_index", killed)
    with pytest.raises(KeyboardInterrupt):
        build_index(settings)
    monkeypatch.undo()
    after = load_index(settings.index_dir)
    assert after.manifest == before
    assert Assistant(after, HashingEmbedder(), settings).ask("Wer führte Regie?") == answer


def test_index_files_hold_no_code(settings) -> None:  # type: ignore[no-untyped-def]
    build_index(settings)
    folder = settings.index_dir / read_manifest(settings.index_dir)["data"]
    for line in (folder / "passages.jsonl").read_text(encoding="utf-8").splitlines():
        assert isinstance(json.loads(line), dict)
    sources = " ".join(p.read_text(encoding="utf-8") for p in (PROJECT_DIR / "rag").glob("*.py"))
    for risky in (r"import pickle", r"pickle\.load", r"allow_pickle=True", r"(?<![\w.])eval\(",
                  r"(?<![\w.])exec\(", r"torch\.load"):
        assert not re.search(risky, sources), risky


def test_other_ingestion_code_makes_the_index_stale_and_rebuilds_cheaply(settings,  # type: ignore[no-untyped-def]
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.index.build

    build_index(settings)
    monkeypatch.setattr(rag.index.build, "pipeline_fingerprint", lambda: "other-rules")
    with pytest.raises(IndexStaleError, match="ingestion code"):
        Assistant.load(settings=settings)
    counting = CountingEmbedder()
    report = build_index(settings, embedder=counting)
    assert not report.unchanged and counting.count == 0  # same texts: every vector reused
    assert read_manifest(settings.index_dir)["pipeline"] == "other-rules"
    Assistant.load(settings=settings)
