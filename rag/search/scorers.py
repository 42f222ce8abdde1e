"""Scorers: the lexical-side signals for one language's candidate passages, one small class each.

Each answers the same question — how well does each of these rows match the query? — so the fusion
(rag.search.fusion) can weigh them without knowing how they work. Dense similarity is not among them: it
also chooses the candidates (rag.search.dense, rag.search.adapter).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from rag.lexical import BM25, tokenize
from rag.lru import LRU
from rag.names import NameNormalizer
from rag.search.query import Query
from rag.text import names_and_numbers
from rag.vocabulary import SoftMatcher

ENTITY_CACHE = 4096  # passages whose name and number terms are kept


class Scorer(Protocol):
    """A signal over one language's passages (rows within the language)."""

    def scores(self, query: Query, lang: str, rows: np.ndarray) -> np.ndarray: ...


class Lexical:
    """BM25 with stemming over the question's words, bridged into the passages' language."""

    def __init__(self, bm25: dict[str, BM25]) -> None:
        self.bm25 = bm25

    def every(self, query: Query, lang: str) -> np.ndarray:
        """Every passage's score (large corpora take their lexical candidates from it)."""
        return self.bm25[lang].scores(query.terms[lang])

    def scores(self, query: Query, lang: str, rows: np.ndarray) -> np.ndarray:
        return self.every(query, lang)[rows]


class Soft:
    """Soft term matching: each question word's closest word in the passage, IDF-weighted."""

    def __init__(self, soft: dict[str, SoftMatcher]) -> None:
        self.soft = soft

    def scores(self, query: Query, lang: str, rows: np.ndarray) -> np.ndarray:
        if not len(query.soft):
            return np.zeros(len(rows))
        return self.soft[lang].scores(query.soft, rows)


class Entity:
    """BM25 of the names and numbers of another language's best passage: the entity pass's boost."""

    def __init__(self, bm25: dict[str, BM25], names: NameNormalizer) -> None:
        self.bm25, self.names = bm25, names
        self.cache: LRU[tuple[int, str], frozenset[str]] = LRU(ENTITY_CACHE)  # by (passage row, language)

    def terms(self, row: int, text: str, lang: str, known: dict[str, float]) -> dict[str, float]:
        """Name and number tokens of a passage (index row, text) that lang's passages use, minus known ones."""
        def extract(key: tuple[int, str]) -> frozenset[str]:
            entities = " ".join(names_and_numbers(self.names.normalize(text)))
            return frozenset(t for t in tokenize(entities, lang) if self.bm25[lang].knows(t))

        return {t: 1.0 for t in self.cache.get_or_compute((row, lang), extract) if t not in known}

    def scores(self, query: Query, lang: str, rows: np.ndarray, boost: dict[str, float] | None = None) -> np.ndarray:
        return self.bm25[lang].scores(boost)[rows] if boost else np.zeros(len(rows))
