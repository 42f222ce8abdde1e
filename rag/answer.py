"""Answer: hits → an Answer with cited passages and a short extractive text with [n] markers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rag.retrieve import Hit
from rag.search.confidence import Confidence

NOTHING_FOUND = {
    "en": "I found nothing about this in the sources about “Soundtrack #1”.",
    "de": "Dazu habe ich in den Quellen zu „Soundtrack #1“ nichts gefunden.",
}
# What a language's side of the short answer says when its source has no answer, in the question's language.
SIDE_SAYS_NOTHING = {
    "en": "The {source} source says nothing about this.",
    "de": "Die {source} Quelle sagt dazu nichts.",
}
SIDE_ONLY_RELATED = {  # passages were found, but no sentence of them comes close to the question
    "en": "The {source} source has related passages {refs}, but no sentence that answers it directly.",
    "de": "Die {source} Quelle hat verwandte Passagen {refs}, aber keinen Satz, der direkt antwortet.",
}
LIKELY = 0.5  # a related side whose probability is below this is not quoted, only pointed to
MAYBE = {"en": "Possibly: {sentence} [{n}]", "de": "Möglicherweise: {sentence} [{n}]"}  # a side labelled related
SOURCE_NAMES = {"en": {"en": "English", "de": "German"}, "de": {"en": "englische", "de": "deutsche"}}
OTHER_SOURCE = {"en": "other", "de": "andere"}  # a language with no name here: never its code in a sentence


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


@dataclass(frozen=True)
class Answer:
    """The reply to one question."""

    question: str
    text: str
    passages: list[Passage] = field(default_factory=list)
    lang: str = "en"  # the question's language
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
        return Answer(question, NOTHING_FOUND.get(lang, NOTHING_FOUND["en"]), [], lang, confidence)
    passages = [Passage(h.chunk.text, h.chunk.lang, h.chunk.source, h.chunk.start, h.chunk.end, round(h.score, 4),
                        h.chunk.line_start, h.chunk.line_end, h.highlight) for h in chosen]
    say = lang if lang in SIDE_SAYS_NOTHING else "en"
    parts = []
    for side in order:  # one sentence per language: its best answering sentence, or plainly that it has none
        numbered = [(n, p) for n, p in enumerate(passages, start=1) if p.lang == side]
        source = SOURCE_NAMES[say].get(side, OTHER_SOURCE[say])
        sure = confidence.get(side)
        related = sure is not None and sure.label != "answers"
        answering = next(((n, p) for n, p in numbered if p.highlight), None)
        if answering and related and sure is not None and sure.probability < LIKELY:
            answering = None  # more likely not an answer than one: the passages are only related
        if answering and related:  # about the subject, may not answer: say so
            parts.append(MAYBE[say].format(sentence=answering[1].highlight, n=answering[0]))
        elif answering:
            parts.append(f"{answering[1].highlight} [{answering[0]}]")
        elif numbered:
            refs = " ".join(f"[{n}]" for n, _ in numbered)
            parts.append(SIDE_ONLY_RELATED[say].format(source=source, refs=refs))
        else:
            parts.append(SIDE_SAYS_NOTHING[say].format(source=source))
    return Answer(question, " ".join(parts), passages, lang, confidence)
