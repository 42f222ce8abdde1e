"""Answer: hits → an Answer with cited passages and a short extractive text with [n] markers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rag.chunking import split_sentences
from rag.retrieve import Hit

NOTHING_FOUND = {
    "en": "I found nothing about this in the sources about “Soundtrack #1”.",
    "de": "Dazu habe ich in den Quellen zu „Soundtrack #1“ nichts gefunden.",
}


@dataclass(frozen=True)
class Passage:
    """A cited passage: text equals the source file's characters [start, end) with whitespace collapsed."""

    text: str
    lang: str
    source: str
    start: int
    end: int
    score: float
    line_start: int = 0
    line_end: int = 0
    highlight: str = ""  # the sentence of text that best answers the question


@dataclass(frozen=True)
class Answer:
    """The reply to one question."""

    question: str
    text: str
    passages: list[Passage] = field(default_factory=list)
    lang: str = "en"  # the question's language

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict with the same field names."""
        return asdict(self)

    def by_language(self) -> dict[str, list[tuple[int, Passage]]]:
        """Passages grouped by language, each with its 1-based citation number."""
        out: dict[str, list[tuple[int, Passage]]] = {}
        for n, passage in enumerate(self.passages, start=1):
            out.setdefault(passage.lang, []).append((n, passage))
        return out


def compose(question: str, lang: str, hits: dict[str, list[Hit]], sentence_vectors: Any) -> Answer:
    """Build the Answer: question's language first, then the others; one answer sentence per language.

    Args:
        question: the question as asked.
        lang: the question's language.
        hits: language → hits, best first (from Retriever.search).
        sentence_vectors: callable(list[str]) -> (unit query vector, sentence matrix), used to pick
            the sentence of each passage that best matches the question.

    Returns:
        The Answer.
    """
    order = sorted(hits, key=lambda other: (other != lang, other))
    chosen = [hit for other in order for hit in hits[other]]
    if not chosen:
        return Answer(question, NOTHING_FOUND.get(lang, NOTHING_FOUND["en"]), [], lang)
    split = [split_sentences(hit.chunk.text) for hit in chosen]
    query, matrix = sentence_vectors([s for group in split for s in group])
    scores = matrix @ query if len(matrix) else np.zeros(0)
    passages, offset = [], 0
    for hit, group in zip(chosen, split, strict=True):
        best = group[int(np.argmax(scores[offset : offset + len(group)]))]
        offset += len(group)
        c = hit.chunk
        passages.append(Passage(c.text, c.lang, c.source, c.start, c.end, round(hit.score, 4),
                                c.line_start, c.line_end, best))
    parts, seen = [], set()
    for n, passage in enumerate(passages, start=1):
        if passage.lang not in seen:  # the best passage of each language speaks for it
            seen.add(passage.lang)
            parts.append(f"{passage.highlight} [{n}]")
    return Answer(question, " ".join(parts), passages, lang)
