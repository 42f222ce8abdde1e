"""The floor of `rag bench`: one query embedding and one FAISS inner-product search per language, nothing else."""

from __future__ import annotations

import threading
from typing import Any

from rag.answer import Answer, Passage
from rag.embedding import Embedder
from rag.store import Index


class BareSearch:
    """Our model and our passages' vectors, searched with no lexical scoring, no fusion and no abstention.

    The model call is serialised (a lock), as it is in ours and in the LangChain baselines.
    """

    def __init__(self, index: Index, embedder: Embedder) -> None:
        import faiss

        self.index, self.embedder = index, embedder
        self._lock = threading.Lock()
        self._searches: dict[str, tuple[int, Any]] = {}
        for lang, (lo, hi) in sorted(index.ranges.items()):
            flat = faiss.IndexFlatIP(index.vectors.shape[1])
            flat.add(index.vectors[lo:hi])
            self._searches[lang] = (lo, flat)

    def ask(self, question: str, k: int = 3) -> Answer:
        """The k passages of each language whose vectors are nearest to the question's.

        Args:
            question: the question, embedded as it is (kind "query").
            k: passages per language.

        Returns:
            An Answer listing the passages, each language's best first.
        """
        with self._lock:
            vector = self.embedder.embed_batch([question], "query")
        passages = []
        for lang, (lo, flat) in self._searches.items():
            scores, rows = flat.search(vector, k)
            for score, row in zip(scores[0], rows[0], strict=True):
                if row >= 0:
                    c = self.index.chunks[lo + int(row)]
                    passages.append(Passage(c.text, lang, c.source, c.start, c.end, float(score), c.line_start,
                                            c.line_end))
        return Answer(question, passages[0].text if passages else "", passages)
