"""Sides: one language's result of a search — its hits, what the refusal rules say, the signals for confidence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.chunking import Chunk


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with its fused score and the two scores it came from."""

    chunk: Chunk
    score: float
    dense: float
    lexical: float
    highlight: str = ""  # the passage's sentence closest to the question
    chance: float = 0.0  # the learned ranker's probability that the passage holds the answer (0 without it)


@dataclass(frozen=True)
class Side:
    """One language's best passages, why the refusal rules would hide them ("" when they would not:
    "off-topic", "weak", "silent"), and the signals the confidence is computed from."""

    hits: list[Hit]
    hidden: str
    features: dict[str, float]


def features(found: Found, every: dict[str, Found], same_language: bool, silent: bool = False,
             asked: bool = False, has_type: bool = False) -> dict[str, float]:
    """The signals of one language's result (rag.search.confidence reads them by name).

    asked: the question asks for a type of thing (rag.search.answertype); has_type: a top passage contains it.
    """
    scores = [h.score for h in found.hits]
    chances = [h.chance for h in found.hits[:3]]
    # Without a ranker (RAG_RANKER=0, another model) there are no chances: leave them out, so the
    # confidence reads them as their mean instead of as "surely wrong".
    learned = {"chance_top": chances[0], "chance_any": 1.0 - float(np.prod([1.0 - c for c in chances]))
               } if any(chances) else {}
    return {**learned, "evidence": found.evidence, "type_missing": float(asked and not has_type),
            "gap": max(f.evidence for f in every.values()) - found.evidence,
            "top": scores[0] if scores else 0.0, "margin": scores[0] - scores[1] if len(scores) > 1 else 0.0,
            "same_language": float(same_language), "silent": float(silent)}


@dataclass(frozen=True)
class Found:
    """One language's hits, its evidence of relevance (best plain score before the entity pass) and its best
    ranking score after it (None without hits)."""

    hits: list[Hit]
    evidence: float
    best: float | None
