"""Dense scoring: how close each passage, and each of its sentences, is to the question's vector.

Every vector comes from the vector store (rag.index.vectorstore), by id: the index's own vectors by
default, a Milvus collection with `--store`. Rows here are the index's passage rows (its chunks' order),
which only this module maps to and from the store's ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.config import Settings
from rag.index.rows import PASSAGE, SENTENCE, sentence_ids
from rag.index.vectorstore import Found, VectorStore
from rag.lru import LRU
from rag.store import Index

EXACT_BELOW = 20_000  # passages (all languages) scored exhaustively; above, the store picks candidates
SEEN = 16  # question vectors whose exhaustive scores are kept (a question uses two: plain and adapted)


@dataclass
class _Kept:
    """A question vector's exhaustive scores: every passage's own, and every language's sentence rows."""

    passages: np.ndarray
    sentences: list[Found]
    _by_id: dict[int, float] | None = None

    def sentence_scores(self) -> dict[int, float]:
        """Sentence id → score, made on first use (only the highlights' vector needs it)."""
        if self._by_id is None:
            self._by_id = {i: s for f in self.sentences for i, s in zip(f.ids.tolist(), f.scores.tolist(),
                                                                       strict=True)}
        return self._by_id


class DenseScorer:
    """Blends each passage's similarity with its best sentence's, on the model's stretched scale."""

    def __init__(self, index: Index, settings: Settings, store: VectorStore) -> None:
        self.index, self.settings, self.store = index, settings, store
        self.ids = index.passage_ids
        self._order = np.argsort(self.ids)
        self.ranges = index.ranges
        self.langs = sorted(self.ranges)
        # An exhaustive search asks for every row and as many again: a shared store being synced may hold
        # another version's rows beside this index's (rows_of leaves them out).
        self._k = {(kind, lang): 2 * store.count(kind, lang) + 64
                   for kind in (PASSAGE, SENTENCE) for lang in self.langs}
        # Every row is scored when the corpus is small and one search can return a language's sentences.
        self.exhaustive = len(self.ids) <= EXACT_BELOW and max(self._k.values(), default=0) <= store.max_k
        self._sentence_ids: LRU[int, list[int]] = LRU(4096)  # of passages recently highlighted
        # The exhaustive scores of the last questions' vectors: every passage's, and every sentence's by id.
        # Fusion's passage scores and the highlights read them instead of asking the store again.
        self._seen: LRU[bytes, _Kept] = LRU(SEEN)

    def rows_of(self, found: Found) -> tuple[np.ndarray, Found]:
        """The passage rows of found's passage ids (of its owners' for sentences), and found cut to them.

        A store shared by several servers may hold rows of an index being switched to or from (sync writes
        new rows before it deletes old ones): rows this index does not know are left out.
        """
        ids = found.owners  # a passage owns itself
        if not len(self.ids):
            return np.zeros(0, dtype=np.int64), Found(ids[:0], found.scores[:0], ids[:0])
        at = np.searchsorted(self.ids, ids, sorter=self._order)
        rows = self._order[np.minimum(at, len(self.ids) - 1)]
        known = self.ids[rows] == ids
        if known.all():
            return rows, found
        return rows[known], Found(found.ids[known], found.scores[known], found.owners[known])

    def scores(self, vector: np.ndarray) -> np.ndarray | None:
        """Every passage's dense score, or None when the corpus is too large to score exhaustively."""
        both = self.scores_of(vector[None, :])
        return None if both is None else both[0]

    def scores_of(self, vectors: np.ndarray) -> list[np.ndarray] | None:
        """scores() of several vectors, with one search per kind and language for all of them."""
        if not self.exhaustive:
            return None
        chunk = np.full((len(vectors), len(self.ids)), -1.0, dtype=np.float32)
        best = np.full((len(vectors), len(self.ids)), -1.0, dtype=np.float32)
        sentence: list[list[Found]] = [[] for _ in vectors]
        for lang in self.langs:
            passages = self.store.search(vectors, self._k[PASSAGE, lang], PASSAGE, lang)
            sentences = self.store.search(vectors, self._k[SENTENCE, lang], SENTENCE, lang)
            for i, (found, said) in enumerate(zip(passages, sentences, strict=True)):
                rows, found = self.rows_of(found)
                chunk[i, rows] = found.scores
                sentence[i].append(said)
                self._best_of(said, best[i])
        for vector, c, s in zip(vectors, chunk, sentence, strict=True):
            self._seen.put(vector.tobytes(), _Kept(c, s))
        return [self._blend(c, np.maximum(b, c)) for c, b in zip(chunk, best, strict=True)]

    def rows(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """scores() for some passages only (large corpora, where scoring every row is too slow)."""
        chunk = self.passage(rows, vector)
        best = np.full(len(self.ids), -1.0, dtype=np.float32)
        owners = self.ids[rows]
        self._best_of(self.store.search(vector, self.store.max_k, SENTENCE, owners=owners)[0], best)
        return self._blend(chunk, np.maximum(best[rows], chunk))

    def passage(self, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """The cosine of each of these passages' own vector (no sentence) with vector."""
        seen = self._seen.get(vector.tobytes())
        if seen is not None:
            return seen.passages[rows]
        at, found = self.rows_of(self.store.search(vector, len(rows), PASSAGE, owners=self.ids[rows])[0])
        out = np.full(len(self.ids), -1.0, dtype=np.float32)
        out[at] = found.scores
        return out[rows]

    def vector(self, row: int) -> np.ndarray:
        """A passage's own vector."""
        return self.store.vectors(self.ids[[row]])[0]

    def candidates(self, vector: np.ndarray, lang: str, n: int) -> np.ndarray:
        """Rows of lang, counted from its first row, of the (at most) n passages nearest to vector."""
        rows, _ = self.rows_of(self.store.search(vector, n, PASSAGE, lang)[0])
        return np.sort(rows) - self.ranges[lang][0]

    def best_sentence(self, row: int, vector: np.ndarray, among: list[int] | None = None) -> int | None:
        """Index (within the passage) of the sentence closest to vector, or None if it has no sentences.

        among: consider only these sentences (within the passage) when any is given.
        """
        ids = self._sentence_ids.get_or_compute(row, lambda r: sentence_ids(self.index.chunks[r]))
        seen = self._seen.get(vector.tobytes())
        if seen is not None:
            similarity = seen.sentence_scores()
        else:
            found = self.store.search(vector, len(ids), SENTENCE, owners=self.ids[[row]])[0]
            similarity = dict(zip(found.ids.tolist(), found.scores.tolist(), strict=True))
        scored = [similarity.get(i, -np.inf) for i in ids]
        if not np.isfinite(scored).any():
            return None
        chosen = [i for i in among or [] if i < len(ids)]
        return max(chosen, key=lambda i: scored[i]) if chosen else int(np.argmax(scored))

    def _best_of(self, found: Found, best: np.ndarray) -> None:
        """Raise best[row] to the best score among each passage's sentences in found."""
        rows, found = self.rows_of(found)
        if len(rows):
            np.maximum.at(best, rows, found.scores)

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
