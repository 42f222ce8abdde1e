"""Learn: train the query adapter from labelled questions, deterministically, and measure it against identity.

A pair is (question vector, target language, the passages of that language that hold a gold string).
The loss is a softmax over the target language's passages with every positive counted, plus LAMBDA‖W‖². Its
temperature is TEMPERATURE times the typical spread of a question's plain scores over the passages (about 0.019
for e5-small here), so it means the same for embedders of other score scales. W starts at zero and takes STEPS
full-batch Adam steps (lr LR) on one thread with a fixed seed, so the same pairs give the same bytes. A
passage's dense score is the best of its own vector and its sentences' (as rag.search.dense scores it,
sentence_weight 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.search.adapter import Adapter

# TEMPERATURE (in units of the score spread) was chosen by grouped 5-fold cross-validation on the tune split
# (docs/evaluation.md, "The adapter's temperature").
STEPS, LR, TEMPERATURE, LAMBDA, SEED = 300, 1e-3, 1.0, 0.003, 0
HARD = 2.0  # a passage voted 👎 counts as this many negatives
FOLDS = 5


@dataclass(frozen=True)
class Pair:
    """One training or evaluation example: a question's vector and the rows (in its language) that answer it."""

    group: str  # the eval item: both languages of one question stay in one cross-validation fold
    direction: str  # "en->de": question language → passage language
    vector: np.ndarray  # the question's embedding (unit length, as the retriever embeds it)
    target: str  # passage language
    positives: tuple[int, ...]  # rows within the target language's passages
    negatives: tuple[int, ...] = ()  # rows a reader marked wrong (👎): weighed HARD times in the softmax


@dataclass(frozen=True)
class Passages:
    """One language's passage vectors and, padded per passage, its sentence vectors."""

    vectors: np.ndarray  # (m, d)
    sentences: np.ndarray  # (m, L, d), zero rows where a passage has fewer than L sentences
    mask: np.ndarray  # (m, L) bool: which sentence slots are real

    def scores(self, queries: np.ndarray) -> np.ndarray:
        """(n, m) dense scores: each passage's best of its own vector and its sentences'."""
        own = queries @ self.vectors.T
        sent = np.einsum("nd,mld->nml", queries, self.sentences)
        sent = np.where(self.mask[None], sent, -np.inf).max(axis=2, initial=-np.inf)
        return np.maximum(own, sent)


def make_passages(vectors: np.ndarray, sentence_vectors: np.ndarray, owner: np.ndarray, lo: int, hi: int
                  ) -> Passages:
    """Passages [lo, hi) of an index with their sentences, padded to the longest passage's count."""
    rows = [np.flatnonzero(owner == row) for row in range(lo, hi)]
    width = max([len(r) for r in rows] + [1])
    dim = vectors.shape[1]
    sentences = np.zeros((hi - lo, width, dim), dtype=np.float32)
    mask = np.zeros((hi - lo, width), dtype=bool)
    for i, r in enumerate(rows):
        sentences[i, : len(r)] = sentence_vectors[r]
        mask[i, : len(r)] = True
    return Passages(np.ascontiguousarray(vectors[lo:hi], dtype=np.float32), sentences, mask)


def train(pairs: Sequence[Pair], passages: dict[str, Passages], model: str, steps: int | None = None,
          weight_decay: float = LAMBDA) -> Adapter:
    """Fit W on pairs (deterministic: one thread, fixed seed, zero start).

    Args:
        pairs: the training pairs.
        passages: language → its passages.
        model: the model the vectors came from (stored with W).
        steps: full-batch Adam steps (default STEPS).
        weight_decay: λ of λ‖W‖².

    Returns:
        The trained adapter.
    """
    import torch

    torch.manual_seed(SEED)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same sums in the same order: byte-identical on every run
    try:
        dim = len(pairs[0].vector)
        weights = torch.zeros(dim, dim, dtype=torch.float32, requires_grad=True)
        optimizer = torch.optim.Adam([weights], lr=LR)
        batches = _batches(pairs, passages, torch)
        temperature = TEMPERATURE * spread(pairs, passages)
        for _ in range(STEPS if steps is None else steps):
            optimizer.zero_grad()
            loss = weight_decay * (weights**2).sum()
            for queries, own, sent, mask, positive, hard in batches:
                moved = queries + queries @ weights.T
                moved = moved / moved.norm(dim=1, keepdim=True)
                scores = torch.maximum(moved @ own.T,
                                       torch.einsum("nd,mld->nml", moved, sent).masked_fill(~mask, -1e9).amax(2))
                logits = scores / temperature
                everything = torch.logsumexp(logits + hard, dim=1)
                answers = torch.logsumexp(logits.masked_fill(~positive, -1e9), dim=1)
                loss = loss + (everything - answers).sum() / len(pairs)
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    return Adapter(model, weights.detach().numpy().astype(np.float32))


def spread(pairs: Sequence[Pair], passages: dict[str, Passages]) -> float:
    """The mean over pairs of the standard deviation of a question's plain scores over its target's passages."""
    deviations = [passages[p.target].scores(p.vector[None])[0].std() for p in pairs]
    return float(np.mean(deviations)) if deviations else 1.0


def _batches(pairs: Sequence[Pair], passages: dict[str, Passages], torch: Any) -> list[tuple[Any, ...]]:
    """Per target language: questions, passage and sentence vectors, masks, and each question's positives."""
    out = []
    for lang in sorted({p.target for p in pairs}):
        mine = [p for p in pairs if p.target == lang]
        table = passages[lang]
        positive = np.zeros((len(mine), len(table.vectors)), dtype=bool)
        hard = np.zeros((len(mine), len(table.vectors)), dtype=np.float32)  # log-weights of the 👎 passages
        for i, p in enumerate(mine):
            positive[i, list(p.positives)] = True
            hard[i, list(p.negatives)] = np.log(HARD)
        arrays = (np.stack([p.vector for p in mine]), table.vectors, table.sentences, table.mask, positive, hard)
        out.append(tuple(torch.from_numpy(np.ascontiguousarray(a)).to(torch.bool if a.dtype == bool else torch.float32)
                         for a in arrays))
    return out


def ranks(adapter: Adapter, pairs: Sequence[Pair], passages: dict[str, Passages]) -> list[int]:
    """The 1-based rank of each pair's first positive passage under dense scoring with adapter."""
    out = []
    for p in pairs:
        scores = passages[p.target].scores(adapter.apply(p.vector)[None])[0]
        best = max(scores[list(p.positives)])
        out.append(int((scores > best).sum()) + 1)
    return out


def figures(adapter: Adapter, pairs: Sequence[Pair], passages: dict[str, Passages]) -> dict[str, dict[str, float]]:
    """hit@1 and hit@3 per direction and their mean over directions, dense scoring with adapter."""
    return _figures_from(ranks(adapter, pairs, passages), pairs)


def cross_validate(pairs: Sequence[Pair], passages: dict[str, Passages], model: str, folds: int | None = None,
                   steps: int | None = None) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Grouped k-fold (default FOLDS): identity's and the adapter's figures on held-out questions, folds pooled."""
    groups = sorted({p.group for p in pairs})
    # Few questions (a handful of votes): leave one question out at a time.
    folds = min(FOLDS if folds is None else folds, len(groups))
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    held: list[Pair] = []
    adapted: list[int] = []
    for fold in range(folds):
        train_part = [p for p in pairs if fold_of[p.group] != fold]
        test_part = [p for p in pairs if fold_of[p.group] == fold]
        if not train_part or not test_part:
            continue
        adapted += ranks(train(train_part, passages, model, steps), test_part, passages)
        held += test_part
    return figures(Adapter(model), held, passages), _figures_from(adapted, held)


def _figures_from(found: list[int], pairs: Sequence[Pair]) -> dict[str, dict[str, float]]:
    """hit@1 and hit@3 per direction from each pair's rank, and their mean over directions."""
    out: dict[str, dict[str, float]] = {}
    for direction in sorted({p.direction for p in pairs}):
        mine = [r for r, p in zip(found, pairs, strict=True) if p.direction == direction]
        out[direction] = {"n": len(mine), "hit@1": _rate(r == 1 for r in mine), "hit@3": _rate(r <= 3 for r in mine)}
    out["mean"] = {key: round(float(np.mean([v[key] for k, v in out.items()])), 4) for key in ("hit@1", "hit@3")}
    return out


def _rate(outcomes: Iterable[bool]) -> float:
    values = list(outcomes)
    return round(sum(values) / len(values), 4) if values else 0.0
