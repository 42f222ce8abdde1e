"""Answer: hits → an Answer with cited passages and a short extractive text with [n] markers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

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


def compose(question: str, lang: str, hits: dict[str, list[Hit]]) -> Answer:
    """Build the Answer: question's language first, then the others; one answer sentence per language.

    Args:
        question: the question as asked.
        lang: the question's language.
        hits: language → hits, best first, each with its highlight sentence (from Retriever.search).

    Returns:
        The Answer.
    """
    order = sorted(hits, key=lambda other: (other != lang, other))
    chosen = [hit for other in order for hit in hits[other]]
    if not chosen:
        return Answer(question, NOTHING_FOUND.get(lang, NOTHING_FOUND["en"]), [], lang)
    passages = [Passage(h.chunk.text, h.chunk.lang, h.chunk.source, h.chunk.start, h.chunk.end, round(h.score, 4),
                        h.chunk.line_start, h.chunk.line_end, h.highlight or h.chunk.text) for h in chosen]
    parts, seen = [], set()
    for n, passage in enumerate(passages, start=1):
        if passage.lang not in seen:  # the best passage of each language speaks for it
            seen.add(passage.lang)
            parts.append(f"{passage.highlight} [{n}]")
    return Answer(question, " ".join(parts), passages, lang)
