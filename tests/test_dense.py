"""Dense scoring through a store: exhaustive scores, candidate rows, highlights, and the scores it keeps."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rag.config import Settings
from rag.index.faiss_store import FaissStore
from rag.search.dense import DenseScorer
from rag.store import load_index


class Counting(FaissStore):
    """The faiss store, counting its searches."""

    searches = 0

    def search(self, *args: Any, **kwargs: Any) -> Any:
        self.searches += 1
        return super().search(*args, **kwargs)


@pytest.fixture(scope="module")
def parts(hashing_index: Settings) -> tuple[Any, Settings]:
    return load_index(hashing_index.index_dir), hashing_index


def scorer(parts: tuple[Any, Settings]) -> tuple[DenseScorer, Counting]:
    index, settings = parts
    store = Counting.of_index(index)
    assert isinstance(store, Counting)
    return DenseScorer(index, settings, store), store


def question(parts: tuple[Any, Settings], seed: int) -> np.ndarray:
    vectors = parts[0].vectors
    v = vectors[seed] + 0.3 * vectors[seed + 7]
    return (v / np.linalg.norm(v)).astype(np.float32)


def test_exhaustive_scores_blend_each_passage_with_its_best_sentence(parts: tuple[Any, Settings]) -> None:
    index, settings = parts
    dense, _ = scorer(parts)
    v = question(parts, 3)
    best = np.maximum(index.vectors @ v, [max((index.sentence_vectors[index.sentence_owner == r] @ v).max(
        initial=-1.0), float(index.vectors[r] @ v)) for r in range(len(index.chunks))])
    want = ((1 - settings.sentence_weight) * (index.vectors @ v) + settings.sentence_weight * best
            - settings.dense_floor) / (1 - settings.dense_floor)
    got = dense.scores(v)
    assert got is not None and np.allclose(got, want, atol=1e-5)
    rows = np.array([0, 5, 9])
    assert np.allclose(dense.rows(rows, v), want[rows], atol=1e-5)  # the candidate path agrees


def test_kept_scores_answer_like_the_store_without_searching_again(parts: tuple[Any, Settings]) -> None:
    warm, store = scorer(parts)
    cold, _ = scorer(parts)
    v = question(parts, 11)
    warm.scores_of(v[None, :])
    before = store.searches
    rows = np.arange(0, len(parts[0].chunks), 4)
    assert np.allclose(warm.passage(rows, v), cold.passage(rows, v), atol=1e-6)
    assert [warm.best_sentence(r, v) for r in rows] == [cold.best_sentence(r, v) for r in rows]
    assert store.searches == before  # all from the kept scores
    other = question(parts, 12)
    warm.passage(rows, other)
    assert store.searches == before + 1  # another vector: asked of the store


def test_candidates_are_the_nearest_passages_of_the_language(parts: tuple[Any, Settings]) -> None:
    index, _ = parts
    dense, _ = scorer(parts)
    v = question(parts, 20)
    for lang, (lo, hi) in index.ranges.items():
        nearest = set((np.argsort(-(index.vectors[lo:hi] @ v))[:5]).tolist())
        assert set(dense.candidates(v, lang, 5).tolist()) == nearest
