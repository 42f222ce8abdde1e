"""Lexical scoring: our BM25 against the reference implementation (rank_bm25), and the C stemmers."""

from __future__ import annotations

import math
import random
import re

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from rag.chunking import Chunk
from rag.config import Settings
from rag.lexical import BM25, _stemmer, tokenize
from rag.store import load_index

K1, B = 1.2, 0.75


@pytest.fixture(scope="module")
def chunks(hashing_index: Settings) -> list[Chunk]:
    return load_index(hashing_index.index_dir).chunks


@pytest.fixture(scope="module")
def docs(chunks: list[Chunk]) -> list[list[str]]:
    """The real corpus's English passages as BM25 sees them."""
    return [tokenize(c.text, c.lang) for c in chunks if c.lang == "en"]


def queries(docs: list[list[str]], n: int = 60, seed: int = 0) -> list[list[str]]:
    """Distinct corpus terms, 1 to 4 per query, rare and frequent alike."""
    rng = random.Random(seed)
    vocabulary = sorted({t for d in docs for t in d})
    return [rng.sample(vocabulary, rng.randint(1, 4)) for _ in range(n)]


def reference(docs: list[list[str]], ours: BM25) -> BM25Okapi:
    """rank_bm25's Okapi BM25 with our idf, log(1 + (N - df + 0.5) / (df + 0.5)).

    That idf (Lucene's) is our one deliberate difference: rank_bm25's log((N - df + 0.5) / (df + 0.5))
    turns negative for words in over half the passages and is then floored; ours stays positive.
    """
    okapi = BM25Okapi(docs, k1=K1, b=B)
    okapi.idf = {term: ours.idf(term) for term in okapi.idf}
    return okapi


def test_scores_equal_the_reference_up_to_our_scaling(docs: list[list[str]]) -> None:
    ours = BM25(docs, k1=K1, b=B)
    okapi = reference(docs, ours)
    assert len(docs) > 20
    for query in queries(docs):
        ceiling = sum(ours.idf(t) * (K1 + 1) for t in query)  # the best score any passage could reach
        scaled = ours.scores({t: 1.0 for t in query}) * ceiling
        np.testing.assert_allclose(scaled, okapi.get_scores(query), rtol=1e-4, atol=1e-5, err_msg=str(query))


def test_a_weight_of_two_counts_like_a_repeated_term(docs: list[list[str]]) -> None:
    ours = BM25(docs, k1=K1, b=B)
    okapi = reference(docs, ours)
    for first, *rest in queries(docs, n=20, seed=1):
        query = {first: 2.0, **dict.fromkeys(rest, 1.0)}
        ceiling = sum(w * ours.idf(t) * (K1 + 1) for t, w in query.items())
        np.testing.assert_allclose(ours.scores(query) * ceiling, okapi.get_scores([first, first, *rest]),
                                   rtol=1e-4, atol=1e-5)


def test_single_words_rank_as_the_stock_reference_does(docs: list[list[str]]) -> None:
    """With rank_bm25's own idf, one-word queries rank passages the same (idf only scales them)."""
    ours, okapi = BM25(docs, k1=K1, b=B), BM25Okapi(docs, k1=K1, b=B)
    words = [q[0] for q in queries(docs, n=80, seed=2) if okapi.idf[q[0]] > 0]
    assert len(words) > 40
    for word in words:
        mine, theirs = ours.scores({word: 1.0}), okapi.get_scores([word])
        assert np.array_equal(mine > 0, theirs > 0), word
        hits = np.flatnonzero(theirs > 0)
        # the same order where the reference sees a difference (our float32 may tie what float64 splits)
        a, b = hits[:, None], hits[None, :]
        assert not np.any((theirs[a] > theirs[b] + 1e-9) & (mine[a] < mine[b] - 1e-6)), word


def test_words_the_corpus_never_uses_pull_every_score_down(docs: list[list[str]]) -> None:
    """Unknown words count in the ceiling: that is what lets retrieval abstain on off-topic questions."""
    ours = BM25(docs, k1=K1, b=B)
    word = docs[0][0]
    known = ours.scores({word: 1.0})
    diluted = ours.scores({word: 1.0, "zzyzx": 1.0})
    assert known.max() > 0 and not ours.knows("zzyzx")
    ratio = ours.idf(word) / (ours.idf(word) + math.log(1 + (len(docs) + 0.5) / 0.5))
    np.testing.assert_allclose(diluted, known * ratio, rtol=1e-5)


@pytest.mark.parametrize(("lang", "module"), [("en", "english_stemmer"), ("de", "german_stemmer")])
def test_stems_come_from_pystemmer_and_equal_the_pure_python_ones(chunks: list[Chunk], lang: str,
                                                                  module: str) -> None:
    """PyStemmer (a dependency) is what snowballstemmer hands out; its stems are the same as before."""
    import importlib

    stemmer = _stemmer(lang)
    assert type(stemmer).__module__ == "Stemmer", "pip install pystemmer: snowballstemmer then uses its C stemmers"
    name = {"en": "EnglishStemmer", "de": "GermanStemmer"}[lang]
    pure = getattr(importlib.import_module(f"snowballstemmer.{module}"), name)()
    words = ["running", "directors", "Klavierszenen", "Freundschaften", "führte", "episodes", "Fotografin",
             "läuft", "critics", "Erfrischendes", "Melodien", "summertime"]
    words += sorted({w for c in chunks if c.lang == lang for w in re.findall(r"\w+", c.text.casefold())})
    assert [stemmer.stemWord(w) for w in words] == [pure.stemWord(w) for w in words]
