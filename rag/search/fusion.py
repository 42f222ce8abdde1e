"""Fusion: one language's candidate passages and their signals — dense, lexical (BM25), soft match, entities.

The hand-set blend of the signals (`fused`) is the first ranking; rag.search.ranker's learned model reorders
the best of it. Whether the question is about the corpus at all is judged on the plain (unadapted) dense
scores, where its threshold was tuned: `evidence` is the best plain blend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.config import Settings
from rag.lexical import BM25
from rag.search.adapter import Dense, match_moments
from rag.search.dense import DenseScorer
from rag.search.query import Query
from rag.search.scorers import Entity, Lexical, Soft
from rag.store import Index
from rag.vocabulary import SoftMatcher

CANDIDATES = 200  # rows taken from FAISS and from BM25 each, on corpora too large to score every row


@dataclass(frozen=True)
class Candidates:
    """One language's candidate rows (within the language) and each signal for them, aligned by position."""

    lang: str
    rows: np.ndarray  # row within the language; the index's row is lo + row
    plain: np.ndarray  # dense score of the unadapted question
    dense: np.ndarray  # dense score used for ranking (adapted, moved to the plain scores' scale)
    lexical: np.ndarray  # BM25
    soft: np.ndarray  # soft word match
    entity: np.ndarray  # BM25 of the other languages' best passage's names and numbers (0 without)
    fused: np.ndarray  # the hand-set blend of the above
    evidence: float  # the best blend on plain dense scores, before the entity pass
    passage: np.ndarray  # cosine of the passage's own vector (no sentence) with the ranking question vector


class Fusion:
    """Scores one language's candidate passages for a question with every signal."""

    def __init__(self, index: Index, settings: Settings, dense: DenseScorer, bm25: dict[str, BM25],
                 soft: dict[str, SoftMatcher]) -> None:
        self.index, self.settings, self.dense, self.bm25 = index, settings, dense, bm25
        self.lexical, self.soft, self.entity = Lexical(bm25), Soft(soft), Entity(bm25, index.names)

    def candidates(self, query: Query, lang: str, dense: Dense, boost: dict[str, float] | None = None) -> Candidates:
        """Every signal for lang's candidate rows (all rows of a small corpus).

        Args:
            query: the question.
            lang: the passages' language.
            dense: the question's dense side (rag.search.adapter.dense_side).
            boost: extra BM25 terms (the entity pass) whose score is added with entity_weight.
        """
        rows, plain, ranked = self._dense(query, lang, dense)
        w, v = self.settings.lexical_weight, self.settings.soft_weight
        lexical, soft = self.lexical.scores(query, lang, rows), self.soft.scores(query, lang, rows)
        entity = self.entity.scores(query, lang, rows, boost)
        rest = w * lexical + v * soft
        fused = (1 - w - v) * ranked + rest + self.settings.entity_weight * entity
        evidence = float(((1 - w - v) * plain + rest).max(initial=0.0))
        passage = self.dense.passage(self.index.ranges[lang][0] + rows, dense.adapted)
        return Candidates(lang, rows, plain, ranked, lexical, soft, entity, fused, evidence, passage)

    def _dense(self, query: Query, lang: str, dense: Dense) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The candidate rows and their plain and ranking dense scores: every row of a small corpus; on a
        large one, the best CANDIDATES by FAISS and the best CANDIDATES by BM25."""
        lo, hi = self.index.ranges[lang]
        if dense.plain_scores is not None and dense.ranked_scores is not None:
            return np.arange(hi - lo), dense.plain_scores[lo:hi], dense.ranked_scores[lo:hi]
        lexical_all = self.lexical.every(query, lang)
        # argpartition, not argsort: the best CANDIDATES lexical rows in any order (union1d sorts anyway)
        lexical_top = np.argpartition(-lexical_all, min(CANDIDATES, len(lexical_all) - 1))[:CANDIDATES]
        rows = np.union1d(self.dense.candidates(dense.adapted, lang, CANDIDATES), lexical_top)
        plain = self.dense.rows(lo + rows, dense.plain)
        ranked = plain if dense.adapted is dense.plain else match_moments(
            self.dense.rows(lo + rows, dense.adapted), plain)
        return rows, plain, ranked
