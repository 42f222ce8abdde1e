"""Confidence: the one place that decides whether a question is about the corpus, and how sure each language is.

Each language's result gets a calibrated probability that its top 3 hold the answer — a logistic model
over the retriever's signals (rag.retrieve.features), fitted on the tune split with out-of-fold adapters
by `python eval/train_confidence.py` and stored as JSON beside this module — and a label: `answers` at or
above the model's threshold (chosen on the tune split so that nine in ten such sides hold the answer),
`related` below it (about the subject, shown greyed, may not answer). A second logistic model over the
question's signals says whether it is about the corpus at all, its threshold set so that at most one
on-topic tune question in a hundred is refused; an off-topic question gets `none` for every language and
no passages: that is the only case that hides anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.search.logistic import Logistic, parse_fields

MODEL = Path(__file__).resolve().parent / "confidence.json"
ANSWERS, RELATED, NONE = "answers", "related", "none"


@dataclass(frozen=True)
class Confidence:
    """A language's label and the calibrated probability that its top passages answer the question."""

    label: str  # "answers", "related" or "none"
    probability: float  # in [0, 1]


class ConfidenceModel(Logistic):
    """A logistic model whose threshold is the probability from which a side is labelled "answers"."""

    def grade(self, signals: dict[str, float], off_topic: bool = False) -> Confidence:
        """The label and probability of one language's result."""
        if off_topic:
            return Confidence(NONE, 0.0)
        p = self.probability(signals)
        return Confidence(ANSWERS if p >= self.threshold else RELATED, round(p, 4))


@dataclass(frozen=True)
class Policy:
    """The two models: is the question about the corpus at all (topic), and how sure is each language (sides)."""

    sides: ConfidenceModel
    topic: ConfidenceModel  # the probability that the question is NOT about the corpus; at its threshold: off-topic

    def grade(self, signals: dict[str, dict[str, float]]) -> dict[str, Confidence]:
        """Every language's confidence; all `none` when the question is off-topic (the only case that hides).

        Args:
            signals: language → its result's signals (the question's own are in each).
        """
        first = next(iter(signals.values()), {})
        off_topic = self.topic.probability(first) >= self.topic.threshold
        return {lang: self.sides.grade(s, off_topic) for lang, s in signals.items()}

    def to_json(self) -> str:
        return json.dumps({"sides": json.loads(self.sides.to_json()), "topic": json.loads(self.topic.to_json())},
                          indent=1, sort_keys=True) + "\n"


def parse_policy(text: str) -> Policy:
    """The policy from its JSON text (never pickle).

    Raises:
        ValueError: malformed.
    """
    body = json.loads(text)
    return Policy(parse(json.dumps(body["sides"])), parse(json.dumps(body["topic"])))


def parse(text: str) -> ConfidenceModel:
    """A model from its JSON text (never pickle).

    Raises:
        ValueError: malformed.
    """
    return ConfidenceModel(*parse_fields(json.loads(text)))


@lru_cache(maxsize=1)
def shipped() -> Policy:
    """The policy shipped with the package (eval/train_confidence.py writes it)."""
    return parse_policy(MODEL.read_text(encoding="utf-8"))
