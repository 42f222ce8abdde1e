"""Dense scoring: how close each passage, and each of its sentences, is to the question's vector."""

from __future__ import annotations

import numpy as np

from rag.config import Settings
from rag.store import Index

EXACT_BELOW = 20_000  # passages (all languages) scored exhaustively; above, FAISS picks candidates


class DenseScorer:
    """Blends each passage's similarity with its best sentence's, on the model's stretched scale."""

    def __init__(self, index: Index, settings: Settings) -> None:
        self.index, self.settings = index, settings
        # Sentence rows are stored grouped by chunk: reduceat needs where each chunk's group starts.
        owner = index.sentence_owner
        self._starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else np.zeros(0, np.int64)
        self._chunks = owner[self._starts]
        ends = np.r_[self._starts[1:], len(owner)]
        self._range = {int(c): (int(a), int(b)) for c, a, b in zip(self._chunks, self._starts, ends, strict=True)}

    def sentence_rows(self, row: int) -> tuple[int, int]:
        """The [first, last) rows of a passage's sentences in index.sentence_vectors ((0, 0) if none)."""
        return self._range.get(row, (0, 0))

    def scores(self, vector: np.ndarray) -> np.ndarray | None:
        """Every passage's dense score, or None when the corpus is too large to score exhaustively."""
        if len(self.index.chunks) > EXACT_BELOW:
            return None
        chunk = self.index.vectors @ vector
        if not len(self._starts):
            return self._rescale(chunk)
        best = np.full_like(chunk, -1.0)
        best[self._chunks] = np.maximum.reduceat(self.index.sentence_vectors @ vector, self._starts)
        return self._blend(chunk, np.maximum(best, chunk))

    def rows(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """scores() for some passages only (large corpora, where scoring every row is too slow)."""
        chunk = self.index.vectors[rows] @ vector
        best = chunk.copy()
        for i, row in enumerate(rows):
            a, b = self.sentence_rows(int(row))
            if b > a:
                best[i] = max(best[i], float((self.index.sentence_vectors[a:b] @ vector).max()))
        return self._blend(chunk, best)

    def best_sentence(self, row: int, vector: np.ndarray, among: list[int] | None = None) -> int | None:
        """Index (within the passage) of the sentence closest to vector, or None if it has no sentences.

        among: consider only these sentences (within the passage) when any is given.
        """
        a, b = self.sentence_rows(row)
        if b <= a:
            return None
        similarity = self.index.sentence_vectors[a:b] @ vector
        chosen = [i for i in among or [] if i < b - a]
        return max(chosen, key=lambda i: similarity[i]) if chosen else int(np.argmax(similarity))

    def _blend(self, chunk: np.ndarray, best_sentence: np.ndarray) -> np.ndarray:
        a = self.settings.sentence_weight
        return self._rescale((1 - a) * chunk + a * best_sentence)

    def _rescale(self, dense: np.ndarray) -> np.ndarray:
        # e5 cosines sit in a narrow band (unrelated text ≈ 0.7): stretch it so fusion weights mean the same.
        floor = self.settings.dense_floor
        return (dense - floor) / (1 - floor)


def one_blas_thread() -> None:
    """Run numpy's BLAS on one thread in this process.

    Our products are small (passages × one question); BLAS threads only wait for work, spinning
    against the model's own threads: warm ask() p50 16.5 ms with one BLAS thread, 35–40 ms with two
    (2 cores, 300 eval questions). Parallelism comes from the model's engine and from serving threads.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")

