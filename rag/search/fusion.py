"""Fusion: one language's candidate passages and their signals — dense, lexical (BM25), soft match, entities.

The hand-set blend of the signals (`fused`) is the first ranking; rag.search.ranker's learned model reorders
the best of it. Whether the question is about the corpus at all is judged on the plain (unadapted) dense
scores, where its threshold was tuned: `evidence` is the best plain blend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.config import Settings
from rag.dense import DenseScorer
from rag.lexical import BM25
from rag.search.adapter import Dense, match_moments
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
        self.index, self.settings, self.dense, self.bm25, self.soft = index, settings, dense, bm25, soft

    def candidates(self, lang: str, terms: dict[str, float], dense: Dense, soft_query: np.ndarray,
                   boost: dict[str, float] | None = None) -> Candidates:
        """Every signal for lang's candidate rows (all rows of a small corpus).

        Args:
            lang: the passages' language.
            terms: BM25 query terms and their weights (the question's, bridged into lang).
            dense: the question's dense side (rag.search.adapter.dense_side).
            soft_query: the question's content-word vectors (no rows: soft matching off).
            boost: extra BM25 terms (entity bridging) whose score is added with entity_weight.
        """
        lo, hi = self.index.ranges[lang]
        lexical_all = self.bm25[lang].scores(terms)
        if dense.plain_scores is not None and dense.ranked_scores is not None:
            rows, plain, ranked = np.arange(hi - lo), dense.plain_scores[lo:hi], dense.ranked_scores[lo:hi]
        else:
            # argpartition, not argsort: the best CANDIDATES lexical rows in any order (union1d sorts anyway)
            lexical_top = np.argpartition(-lexical_all, min(CANDIDATES, len(lexical_all) - 1))[:CANDIDATES]
            rows = np.union1d(self.index.candidates(dense.adapted, lo, hi, CANDIDATES), lexical_top)
            plain = self.dense.rows(lo + rows, dense.plain)
            ranked = plain if dense.adapted is dense.plain else match_moments(
                self.dense.rows(lo + rows, dense.adapted), plain)
        lexical = lexical_all[rows]
        w, v = self.settings.lexical_weight, self.settings.soft_weight
        soft = self.soft[lang].scores(soft_query, rows) if v > 0 else np.zeros(len(rows))
        rest = w * lexical + v * soft
        entity = self.bm25[lang].scores(boost)[rows] if boost else np.zeros(len(rows))
        fused = (1 - w - v) * ranked + rest + self.settings.entity_weight * entity
        evidence = float(((1 - w - v) * plain + rest).max(initial=0.0))
        passage = self.index.vectors[lo + rows] @ dense.adapted
        return Candidates(lang, rows, plain, ranked, lexical, soft, entity, fused, evidence, passage)
