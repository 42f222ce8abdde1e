"""Retrieval: question → ranked hits per language, fusing dense (FAISS) and lexical (BM25) scores."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from rag.chunking import Chunk
from rag.config import Settings
from rag.embedding import Embedder
from rag.index import Index
from rag.lexical import BM25, tokenize

EXACT_BELOW = 20_000  # rows per language scored exhaustively; above, FAISS picks candidates
CANDIDATES = 200


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with its fused score and the two scores it came from."""

    chunk: Chunk
    score: float
    dense: float
    lexical: float


class Retriever:
    """Scores passages of each language against a question. Thread-safe; build once, share."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings) -> None:
        self.index, self.embedder, self.settings = index, embedder, settings
        self.ranges = index.ranges
        self._bm25 = {
            lang: BM25([tokenize(index.names.normalize(c.embedding_text()), lang)
                        for c in index.chunks[lo:hi]])
            for lang, (lo, hi) in self.ranges.items()
        }
        self._lock = threading.Lock()  # model objects are not all documented as thread-safe

    @property
    def languages(self) -> list[str]:
        return sorted(self.ranges)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts with the index's model (serialised: one model call at a time)."""
        with self._lock:
            return self.embedder.embed_batch(texts)

    def search(self, question: str, k: int, languages: list[str] | None = None) -> dict[str, list[Hit]]:
        """Rank each language's passages for the question, keeping those above the relevance bar.

        Args:
            question: the question (any language).
            k: at most this many hits per language.
            languages: restrict to these languages (default: every language of the index).

        Returns:
            Language → hits, best first; a language with nothing relevant maps to [].
        """
        query = self.index.names.normalize(question)
        vector = self.embed([query])[0]
        out = {}
        for lang in languages or self.languages:
            if lang not in self.ranges:
                continue
            out[lang] = self._search_language(lang, query, vector, k)
        return self._drop_weak_languages(out)

    def _search_language(self, lang: str, query: str, vector: np.ndarray, k: int) -> list[Hit]:
        lo, hi = self.ranges[lang]
        lexical_all = self._bm25[lang].scores(tokenize(query, lang))
        if hi - lo <= EXACT_BELOW:
            rows = np.arange(hi - lo)
        else:
            rows = np.union1d(self._dense_candidates(vector, lo, hi), np.argsort(-lexical_all)[:CANDIDATES])
        dense = self.index.vectors[lo + rows] @ vector
        lexical = lexical_all[rows]
        w = self.settings.lexical_weight
        fused = (1 - w) * dense + w * lexical
        order = np.argsort(-fused)[:k]
        return [Hit(self.index.chunks[lo + int(rows[i])], float(fused[i]), float(dense[i]), float(lexical[i]))
                for i in order if fused[i] >= self.settings.min_score]

    def _dense_candidates(self, vector: np.ndarray, lo: int, hi: int) -> np.ndarray:
        import faiss

        params = faiss.SearchParameters(sel=faiss.IDSelectorRange(lo, hi))
        _, ids = self.index.faiss_index.search(vector[None, :], CANDIDATES, params=params)
        return ids[0][ids[0] >= 0] - lo

    def _drop_weak_languages(self, hits: dict[str, list[Hit]]) -> dict[str, list[Hit]]:
        # A language whose best passage is far below the best overall only adds noise.
        best = max((h[0].score for h in hits.values() if h), default=0.0)
        margin = self.settings.language_margin
        return {lang: (h if h and h[0].score >= best - margin else []) for lang, h in hits.items()}
