"""Answer: hits → an Answer with cited passages and a short extractive text with [n] markers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rag.profiles import DEFAULT, speaks
from rag.retrieve import Hit
from rag.search.confidence import Confidence

LIKELY = 0.5  # a related side whose probability is below this is not quoted, only pointed to


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
    highlight: str = ""  # the sentence of text that best answers the question ("" when none comes close)
    place: str = ""  # "p. 12" (PDF) or "§ heading" (Word, HTML): where it is in the original; "" for text files


@dataclass(frozen=True)
class Answer:
    """The reply to one question."""

    question: str
    text: str
    passages: list[Passage] = field(default_factory=list)
    lang: str = DEFAULT  # the question's language
    # language → how sure we are that its passages answer: "answers", "related" or "none" (off-topic), and the
    # calibrated probability that its top 3 hold the answer (rag.search.confidence)
    confidence: dict[str, Confidence] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict with the same field names."""
        return asdict(self)

    def by_language(self) -> dict[str, list[tuple[int, Passage]]]:
        """Passages grouped by language, each with its 1-based citation number."""
        out: dict[str, list[tuple[int, Passage]]] = {}
        for n, passage in enumerate(self.passages, start=1):
            out.setdefault(passage.lang, []).append((n, passage))
        return out


def compose(question: str, lang: str, hits: dict[str, list[Hit]],
            confidence: dict[str, Confidence] | None = None) -> Answer:
    """Build the Answer: question's language first, then the others; one answer sentence per language.

    Args:
        question: the question as asked.
        lang: the question's language.
        hits: language → hits, best first, each with its highlight sentence (from Retriever.search).
        confidence: language → its confidence; a language labelled "related" is said to be related, not
            quoted as an answer (None: every language with a highlight answers, as before).

    Returns:
        The Answer.
    """
    confidence = confidence or {}
    order = sorted(hits, key=lambda other: (other != lang, other))
    chosen = [hit for other in order for hit in hits[other]]
    if not chosen:
        return Answer(question, speaks(lang).nothing_found, [], lang, confidence)
    passages = [Passage(h.chunk.text, h.chunk.lang, h.chunk.source, h.chunk.start, h.chunk.end, round(h.score, 4),
                        h.chunk.line_start, h.chunk.line_end, h.highlight, h.chunk.place) for h in chosen]
    say = speaks(lang)  # the sentences are in the question's language
    parts = []
    for side in order:  # one sentence per language: its best answering sentence, or plainly that it has none
        numbered = [(n, p) for n, p in enumerate(passages, start=1) if p.lang == side]
        source = say.source.get(side, say.other_source)
        sure = confidence.get(side)
        related = sure is not None and sure.label != "answers"
        answering = next(((n, p) for n, p in numbered if p.highlight), None)
        if answering and related and sure is not None and sure.probability < LIKELY:
            answering = None  # more likely not an answer than one: the passages are only related
        if answering and related:  # about the subject, may not answer: say so
            parts.append(say.maybe.format(sentence=answering[1].highlight, n=answering[0]))
        elif answering:
            parts.append(f"{answering[1].highlight} [{answering[0]}]")
        elif numbered:
            refs = " ".join(f"[{n}]" for n, _ in numbered)
            parts.append(say.side_only_related.format(source=source, refs=refs))
        else:
            parts.append(say.side_says_nothing.format(source=source))
    return Answer(question, " ".join(parts), passages, lang, confidence)
