"""Everyday words: the languages' most frequent words get vectors at index time, so questions skip their model calls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.assistant import Assistant
from rag.config import Settings
from rag.embedding import HashingEmbedder, Kind
from rag.index import build_index
from rag.store import load_index
from rag.vocabulary import WORDS, everyday_words, words
from tests.conftest import hashing_settings


class RecordingEmbedder(HashingEmbedder):
    """The hashing embedder, remembering every batch it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def embed_batch(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        self.batches.append(list(texts))
        return super().embed_batch(texts, kind)


class KindHashing(HashingEmbedder):
    """The hashing embedder, with queries and passages embedded apart (as e5 does with its prefixes)."""

    def embed_batch(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        return super().embed_batch([f"{kind}: {t}" for t in texts], kind)


@pytest.fixture
def settings(corpus_dir: Path, tmp_path: Path) -> Settings:
    return hashing_settings(corpus_dir, tmp_path / "index")


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_shipped_lists_hold_content_words_most_frequent_first(lang: str) -> None:
    listed = (WORDS / f"{lang}.txt").read_text(encoding="utf-8").split()
    assert len(listed) == len(set(listed)) >= 5000
    assert all(words(w) == [w] for w in listed)  # what a question's words become, so lookups meet
    assert {"because": "en", "weil": "de"}.get(listed[0]) is None and listed.index(
        {"en": "because", "de": "weil"}[lang]) < 200


def test_everyday_words_leave_out_the_corpus_words_and_keep_the_count() -> None:
    first = everyday_words(["en", "de"], 50)
    assert len(first) <= 100 and len(set(first)) == len(first)
    assert everyday_words(["en"], 50, exclude={first[0]})[:3] == first[1:4]
    assert everyday_words(["en", "xx"], 0) == [] and everyday_words(["xx"], 50) == []


def test_the_index_stores_query_vectors_of_everyday_words(settings: Settings) -> None:
    build_index(settings, embedder=KindHashing())
    index = load_index(settings.index_dir)
    corpus = {w for ws in index.vocabulary.values() for w in ws}
    assert 300 < len(index.everyday_words) <= 600 and not corpus & set(index.everyday_words)
    some = index.everyday_words[:5]
    assert np.allclose(index.everyday_vectors[:5], KindHashing().embed_batch(some, "query"))
    assert not np.allclose(index.everyday_vectors[:5], KindHashing().embed_batch(some, "passage"))


def test_a_question_of_everyday_words_needs_one_model_call(settings: Settings) -> None:
    build_index(settings)
    index = load_index(settings.index_dir)
    corpus = {w for ws in index.vocabulary.values() for w in ws}
    everyday = next(w for w in index.everyday_words if len(w) > 4)
    unknown = "zwiebelkuchenrezept"
    assert everyday not in corpus and unknown not in corpus and unknown not in index.everyday_words
    embedder = RecordingEmbedder()
    assistant = Assistant(index, embedder, settings)
    assistant.ask(f"Seon-woo {everyday}?")
    assert len(embedder.batches[-1]) == 1  # the question alone
    assistant.ask(f"Seon-woo {everyday} {unknown}?")
    assert embedder.batches[-1][1:] == [unknown]  # a word with no stored vector is embedded with the question


@pytest.mark.parametrize("template", ["Who is Seon-woo {}?", "Wie {} ist die Serie?", "{} {} Han So-hee?"])
def test_answers_are_the_same_with_or_without_everyday_words(settings: Settings, tmp_path: Path,
                                                             template: str) -> None:
    without = settings.with_(index_dir=tmp_path / "without", everyday_words=0)
    for s in (settings, without):
        build_index(s, embedder=KindHashing())
    index = load_index(settings.index_dir)
    question = template.format(*index.everyday_words[10:12])  # words the question needs no model call for
    assert all(w in index.everyday_words for w in words(question) if w not in {"seon", "woo", "han", "hee", "serie"})
    answers = [Assistant(load_index(s.index_dir), KindHashing(), s).ask(question).to_dict()
               for s in (settings, without)]
    assert answers[0] == answers[1] and answers[0]["passages"]


def test_other_chunking_keeps_the_word_vectors(settings: Settings) -> None:
    build_index(settings)
    embedder = RecordingEmbedder()
    build_index(settings.with_(chunk_size=500), embedder=embedder)
    embedded = {t for batch in embedder.batches for t in batch}
    index = load_index(settings.index_dir)
    assert embedded and not embedded & set(index.everyday_words)  # only new passages and sentences
    assert not embedded & {w for ws in index.vocabulary.values() for w in ws}


def test_changing_the_count_rebuilds_and_embeds_only_the_new_words(settings: Settings) -> None:
    build_index(settings)
    embedder = RecordingEmbedder()
    more = settings.with_(everyday_words=400)
    report = build_index(more, embedder=embedder)
    index = load_index(settings.index_dir)
    embedded = [t for batch in embedder.batches for t in batch]
    assert not report.unchanged and index.manifest["everyday_words"] == 400
    assert set(embedded) <= set(index.everyday_words) and 0 < len(embedded) <= 200
    assert build_index(more).unchanged
