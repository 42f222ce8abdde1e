"""Probes: linear read-outs of the question's own vector — is it about the corpus, can the corpus answer it?

The retrieval scores say how close a question comes to a passage; e5's scores sit in a narrow band, so
"Who won the 2022 World Cup?" comes about as close to a review of a K-drama as "Who wrote the script?"
does, and "What was the budget?" as close as "Who directed it?". The question's vector itself separates
them better. Each probe is a logistic model over the vector's numbers, fitted on the tune split's
questions by `python eval/train_confidence.py`:

- `off_topic`: not about the corpus at all; it reads the question's words and word pairs too
  ("kimchi", "disney+ abo"), which the vector blurs (tune cross-validated AUROC 0.98; 0.96 with the
  vector alone, 0.86 for the retrieval signals together);
- `answerable`: among questions about the corpus, one its sources answer; words too (cross-validated
  AUROC 0.90 in English, 0.88 in German; 0.86 / 0.82 with the vector alone).

Their log-odds are the signals `probe_off_topic` and `probe_answerable` that the confidence policy reads
beside the others. They read what people ask about one corpus with one embedding model (`probes.json`
beside this module names both, the corpus by its files' SHA-256): for any other corpus or model the
signals are left out and the policy reads them as their means — a probe that knows what is "about
Soundtrack #1" would call every question about another corpus off-topic.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MODEL = Path(__file__).resolve().parent / "probes.json"


_TERM = re.compile(r"[^\W\d_][\w'’+-]*|\d+")


def terms_of(text: str) -> list[str]:
    """A question's words and pairs of neighbouring words, casefolded, each once ("how do", "disney+")."""
    words = _TERM.findall(text.casefold())
    return list(dict.fromkeys([*words, *(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))]))


@dataclass(frozen=True)
class Probe:
    """w·q + b over the question's unadapted unit vector q, plus the weights of the question's terms
    (words and word pairs, as a unit-length bag: each present term counts 1/√n): a log-odds."""

    weights: np.ndarray  # (dim,) float64
    bias: float
    info: dict[str, Any]
    terms: dict[str, float] = field(default_factory=dict)  # term → weight; a term not listed weighs 0

    def term_logit(self, text: str) -> float:
        """What the question's terms add to the log-odds (0 for a probe without terms)."""
        present = terms_of(text)
        if not self.terms or not present:
            return 0.0
        return sum(self.terms.get(t, 0.0) for t in present) / math.sqrt(len(present))

    def logits(self, vectors: np.ndarray) -> np.ndarray:
        """The log-odds of each row of vectors."""
        return vectors @ self.weights + self.bias


@dataclass(frozen=True)
class Probes:
    """The probes trained for one model, by name."""

    model: str
    named: dict[str, Probe]
    files: dict[str, str]  # the corpus they were trained for: file name → SHA-256 (as in the index manifest)

    def signals(self, vector: np.ndarray, text: str = "") -> dict[str, float]:
        """Each probe's log-odds for one question (its vector and text, names normalised), as `probe_<name>`."""
        return {f"probe_{name}": float(p.logits(vector[None, :])[0]) + p.term_logit(text)
                for name, p in self.named.items()}

    def to_json(self) -> str:
        body = {"model": self.model, "files": self.files, "probes": {
            name: {"dim": len(p.weights), "weights": [round(float(w), 6) for w in p.weights],
                   "bias": round(p.bias, 6), "info": p.info,
                   **({"terms": {t: round(float(w), 6) for t, w in sorted(p.terms.items())}} if p.terms else {})}
            for name, p in sorted(self.named.items())}}
        return json.dumps(body, indent=0, sort_keys=True) + "\n"


def parse(text: str) -> Probes:
    """The probes from their JSON text (never pickle).

    Raises:
        ValueError: malformed.
    """
    body = json.loads(text)
    named = {}
    for name, p in dict(body["probes"]).items():
        weights = np.array([float(w) for w in p["weights"]], dtype=np.float64)
        if weights.ndim != 1 or len(weights) != int(p["dim"]) or not np.isfinite(weights).all():
            raise ValueError(f"probe {name}: weights must be dim finite numbers")
        terms = {str(t): float(w) for t, w in dict(p.get("terms") or {}).items()}
        if not all(math.isfinite(w) for w in terms.values()):
            raise ValueError(f"probe {name}: term weights must be finite numbers")
        named[str(name)] = Probe(weights, float(p["bias"]), dict(p.get("info") or {}), terms)
    if len({len(p.weights) for p in named.values()}) > 1:
        raise ValueError("probes: every probe must have the same dimension")
    files = {str(k): str(v) for k, v in dict(body["files"]).items()}
    return Probes(str(body["model"]), named, files)


def shipped_for(model: str, dim: int, files: dict[str, str]) -> Probes | None:
    """The shipped probes if they were trained for this model, dimension and corpus (files: name → SHA-256)."""
    probes = _shipped()
    if probes is None or probes.model != model or probes.files != files:
        return None
    return probes if all(len(p.weights) == dim for p in probes.named.values()) else None


@lru_cache(maxsize=1)
def _shipped() -> Probes | None:
    return parse(MODEL.read_text(encoding="utf-8")) if MODEL.exists() else None
