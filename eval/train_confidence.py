"""Fit the confidence model (rag/search/confidence.json) on the TUNE split only, deterministically.

Each tune question is answered (both languages) with an adapter trained on the other folds (out of fold,
as `python eval/tune.py --adapter oof`), so the signals look as they will on questions the adapter never
saw. A language's result is a positive when its source answers the question and its top 3 hold the gold.
The model is an L2-regularised logistic regression fitted by Newton's method (no randomness), its
threshold the lowest probability at which nine in ten sides labelled `answers` hold the gold.

    python eval/train_confidence.py          # writes rag/search/confidence.json, prints AUROC and reliability
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.assistant import Assistant  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embedding import load_embedder  # noqa: E402
from rag.evaluation import DEFAULT_SET, LANGS, auroc, load_set, rank_of, reliability  # noqa: E402
from rag.index import build_index, load_index  # noqa: E402
from rag.language import detect_among  # noqa: E402
from rag.search.confidence import MODEL, ConfidenceModel  # noqa: E402

FEATURES = ("evidence", "question", "gap", "top", "margin", "same_language", "silent")
L2, PRECISION = 1.0, 0.9


def signals(settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """(features, outcome) for every language side of every tune question that passes the off-topic gate."""
    from tune import out_of_fold  # eval/tune.py: this script runs from eval/, as tune.py does

    embedder = load_embedder(settings.model)
    build_index(settings, embedder=embedder)
    index = load_index(settings.index_dir)
    items = [i for i in load_set(DEFAULT_SET) if i.split == "tune"]
    adapters = out_of_fold(index, embedder, settings, items)
    rows, outcomes = [], []
    assistants: dict[int, Assistant] = {}
    for item in items:
        adapter = adapters[item.id]
        assistant = assistants.setdefault(id(adapter), Assistant(index, embedder, settings, False, adapter))
        retriever = assistant.retriever
        for q_lang in LANGS:
            question = item.questions[q_lang]
            lang = detect_among(question, retriever.languages, default="en")
            for side_lang, side in retriever.search_sides(question, 3, lang=lang).items():
                if side.hidden == "off-topic":
                    continue
                gold = item.gold.get(side_lang)
                answer = _as_answer(question, side_lang, side.hits)
                rows.append([side.features[name] for name in FEATURES])
                outcomes.append(bool(gold) and (rank_of(answer, side_lang, gold) or 99) <= 3)
    return np.array(rows, dtype=np.float64), np.array(outcomes, dtype=np.float64)


def _as_answer(question: str, lang: str, hits: list) -> object:  # type: ignore[type-arg]
    from rag.answer import Answer, Passage

    return Answer(question, "", [Passage(h.chunk.text, lang, h.chunk.source, h.chunk.start, h.chunk.end, h.score)
                                 for h in hits], lang)


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Standardise, then Newton's method on the L2-penalised log-likelihood: (mean, scale, weights, bias)."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    beta = np.zeros(z.shape[1])
    penalty = np.diag([0.0] + [L2] * x.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ beta))
        gradient = z.T @ (p - y) + penalty @ beta
        hessian = z.T @ (z * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    return mean, scale, beta[1:], float(beta[0])


def threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The lowest probability from which at least PRECISION of the sides hold the answer."""
    for cut in np.unique(np.round(p, 3)):
        chosen = p >= cut
        if chosen.any() and y[chosen].mean() >= PRECISION:
            return float(cut)
    return 1.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=MODEL, help=f"where to write the model (default {MODEL})")
    args = ap.parse_args()
    settings = Settings.from_env(adapter=0)
    settings = settings.with_(index_dir=Path(f"/tmp/tune-{settings.model}-{settings.chunk_size}"))  # as eval/tune.py
    x, y = signals(settings)
    mean, scale, weights, bias = fit(x, y)
    model = ConfidenceModel(FEATURES, tuple(np.round(mean, 6)), tuple(np.round(scale, 6)),
                            tuple(np.round(weights, 6)), round(bias, 6), 0.5, {})
    p = np.array([model.probability(dict(zip(FEATURES, row, strict=True))) for row in x])
    cut = threshold(p, y)
    info = {"trained_on": "eval/qa.jsonl tune split, out-of-fold adapters", "sides": len(y),
            "positives": int(y.sum()), "auroc_tune": round(auroc(p.tolist(), y.astype(bool).tolist()), 4)}
    model = ConfidenceModel(model.features, model.mean, model.scale, model.weights, model.bias, cut, info)
    args.out.write_text(model.to_json(), encoding="utf-8")
    print(f"wrote {args.out}: {len(y)} sides, {int(y.sum())} answered in the top 3; AUROC {info['auroc_tune']}; "
          f"threshold {cut}")
    for row in reliability(p.tolist(), y.astype(bool).tolist()):
        print(f"  p {row['low']:.1f}–{row['high']:.1f}: n={row['n']:>4}  predicted {row['predicted']:.2f}  "
              f"observed {row['observed']:.2f}")


if __name__ == "__main__":
    main()
