"""Logistic models over named signals: stored as JSON (never pickle), fitted deterministically by Newton's method.

The confidence policy (rag.search.confidence) and the learned ranker (rag.search.ranker) are both such
models; eval/train_confidence.py and eval/train_ranker.py fit them on the tune split.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Logistic:
    """Logistic regression over named signals, standardised: p = σ(bias + Σ w·(x − mean)/scale)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float  # a probability the model's user acts on (confidence: from it a side "answers")
    info: dict[str, Any]

    def logit(self, signals: dict[str, float]) -> float:
        """The model's log-odds for one row of named signals (a missing signal counts as its mean)."""
        return self.bias + sum(w * (signals.get(name, m) - m) / s for name, m, s, w in
                               zip(self.features, self.mean, self.scale, self.weights, strict=True))

    def probability(self, signals: dict[str, float]) -> float:
        """The calibrated probability for one row of named signals."""
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, self.logit(signals)))))

    def logits(self, matrix: np.ndarray) -> np.ndarray:
        """The log-odds of many rows at once; matrix columns are in `features` order."""
        z = (matrix - np.asarray(self.mean)) / np.asarray(self.scale)
        return self.bias + z @ np.asarray(self.weights)

    def values(self) -> tuple[Any, ...]:
        """The fields in order: a subclass is built from a fitted model as Sub(*model.values())."""
        return (self.features, self.mean, self.scale, self.weights, self.bias, self.threshold, self.info)

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "weights": list(self.weights), "bias": self.bias, "threshold": self.threshold, "info": self.info}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n"


def parse_fields(body: dict[str, Any]) -> tuple[Any, ...]:
    """A model's fields from its JSON object, checked (never pickle).

    Raises:
        ValueError: malformed.
    """
    names = tuple(str(n) for n in body["features"])
    columns = [tuple(float(v) for v in body[key]) for key in ("mean", "scale", "weights")]
    if any(len(c) != len(names) for c in columns) or any(s <= 0 for s in columns[1]):
        raise ValueError("logistic model: mean, scale and weights must match the features (scale > 0)")
    return names, columns[0], columns[1], columns[2], float(body["bias"]), float(body["threshold"]), \
        dict(body.get("info") or {})


def fit(names: tuple[str, ...], x: np.ndarray, y: np.ndarray, l2: float = 1.0,
        weight: np.ndarray | None = None, standardise: bool = True) -> Logistic:
    """Standardise, then Newton's method on the L2-penalised log-likelihood (deterministic; threshold 0.5).

    Args:
        names: the features, in x's column order.
        x: one row per example.
        y: 1 for a positive, 0 for a negative.
        l2: the penalty on the standardised weights (not on the bias).
        weight: each example's weight (default 1).
        standardise: scale each feature to unit variance first (off: for features already on one scale,
            such as a bag of words, where a rare word's scale would give it a huge weight).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
    mean, scale = (x.mean(axis=0), x.std(axis=0)) if standardise else (np.zeros(x.shape[1]), np.ones(x.shape[1]))
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    beta = np.zeros(z.shape[1])
    penalty = np.diag([0.0] + [l2] * x.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ beta))
        gradient = z.T @ (w * (p - y)) + penalty @ beta
        hessian = z.T @ (z * (w * p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    r = [tuple(round(float(v), 6) for v in a) for a in (mean, scale, beta[1:])]
    return Logistic(names, r[0], r[1], r[2], round(float(beta[0]), 6), 0.5, {})
