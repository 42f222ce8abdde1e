"""Fit the learned ranker (rag/search/ranker.json) on the TUNE split only, deterministically.

Each tune question is searched (both languages) with an adapter trained on the other folds (out of fold, as
`python eval/tune.py --adapter oof`), so the dense scores look as they will on new questions. Every
language side whose source answers the question gives its DEPTH best candidates of the hand-set fusion,
each with the ranker's features and whether it holds a gold string. The model is an L2-regularised logistic
regression (rag.search.logistic.fit, Newton's method: no randomness). Grouped cross-validation (the folds
of the adapter) compares the fusion order with the ranker's on tune before anything is written.

    python eval/train_ranker.py          # writes rag/search/ranker.json, prints cross-validated hit@1 / hit@3
    python eval/train_ranker.py --check  # the same figures, writes nothing
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.assistant import Assistant  # noqa: E402
from rag.cleaning import collapse  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embedding import load_embedder  # noqa: E402
from rag.evaluation import DEFAULT_SET, LANGS, load_set  # noqa: E402
from rag.index import build_index, load_index  # noqa: E402
from rag.language import detect_among  # noqa: E402
from rag.search.fusion import Candidates  # noqa: E402
from rag.search.learn import FOLDS  # noqa: E402
from rag.search.logistic import fit  # noqa: E402
from rag.search.ranker import DEPTH, FEATURES, MODEL, Ranker  # noqa: E402

L2 = 1.0


@dataclass(frozen=True)
class Group:
    """One answerable language side of one tune question: its candidates' features and which hold the gold."""

    item: str
    direction: str
    x: np.ndarray  # DEPTH × features, in the fusion's order
    y: np.ndarray  # 1.0 where the candidate holds a gold string


class Recorder(Ranker):
    """Keeps the fusion's order and records each language's last feature matrix (the final pass wins)."""

    def __init__(self) -> None:
        super().__init__(FEATURES, (0.0,) * len(FEATURES), (1.0,) * len(FEATURES), (0.0,) * len(FEATURES),
                         0.0, 0.5, {})
        object.__setattr__(self, "seen", {})
        object.__setattr__(self, "last", None)

    def order(self, matrix: np.ndarray, fused: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found: Candidates = self.last  # type: ignore[attr-defined]
        self.seen[found.lang] = (found, matrix)  # type: ignore[attr-defined]
        return np.argsort(-fused, kind="stable"), np.zeros(len(fused))


def groups(settings: Settings) -> list[Group]:
    """Every answerable tune side's candidates, searched with out-of-fold adapters."""
    from tune import out_of_fold  # eval/tune.py: this script runs from eval/, as tune.py does

    embedder = load_embedder(settings.model)
    build_index(settings, embedder=embedder)
    index = load_index(settings.index_dir)
    items = [i for i in load_set(DEFAULT_SET) if i.split == "tune" and i.category not in ("off_topic",)]
    adapters = out_of_fold(index, embedder, settings, items)
    out, assistants = [], {}
    for item in items:
        adapter = adapters[item.id]
        if id(adapter) not in assistants:
            assistants[id(adapter)] = Assistant(index, embedder, settings, False, adapter)
            retriever = assistants[id(adapter)].retriever
            recorder = Recorder()
            retriever.ranker = recorder
            candidates = retriever.fusion.candidates

            def remember(*args, _c=candidates, _r=recorder, **kwargs):  # type: ignore[no-untyped-def]
                found = _c(*args, **kwargs)
                object.__setattr__(_r, "last", found)
                return found

            retriever.fusion.candidates = remember  # type: ignore[method-assign]
        retriever = assistants[id(adapter)].retriever
        recorder = retriever.ranker
        for q_lang in LANGS:
            question = item.questions[q_lang]
            recorder.seen.clear()
            retriever.search_sides(question, 3, lang=detect_among(question, retriever.languages, default="en"))
            for side, (found, matrix) in recorder.seen.items():
                gold = item.gold.get(side)
                if not gold:
                    continue
                needles = [collapse(g).casefold() for g in gold]
                lo = index.ranges[side][0]
                head = np.argsort(-found.fused, kind="stable")[:DEPTH]
                y = np.array([float(any(n in index.chunks[lo + int(found.rows[i])].text.casefold() for n in needles))
                              for i in head])
                out.append(Group(item.id, f"{q_lang}->{side}", matrix[head], y))
    return out


def hits(groups_: list[Group], score: list[np.ndarray]) -> dict[str, tuple[float, float]]:
    """Per direction and mean: (hit@1, hit@3) of ranking each group by score (higher first)."""
    found: dict[str, list[tuple[bool, bool]]] = {}
    for g, s in zip(groups_, score, strict=True):
        order = np.argsort(-s, kind="stable")
        found.setdefault(g.direction, []).append((bool(g.y[order[:1]].any()), bool(g.y[order[:3]].any())))
    table = {d: (float(np.mean([a for a, _ in v])), float(np.mean([b for _, b in v])))
             for d, v in sorted(found.items())}
    table["mean"] = tuple(float(np.mean([t[i] for t in table.values()])) for i in (0, 1))  # type: ignore[assignment]
    return table


def train(groups_: list[Group], l2: float = L2) -> Ranker:
    """The ranker fitted on these groups (only those with a positive among their candidates teach an order)."""
    taught = [g for g in groups_ if g.y.any()]
    x = np.vstack([g.x for g in taught])
    y = np.concatenate([g.y for g in taught])
    return Ranker(*fit(FEATURES, x, y, l2).values())


def cross_validated(groups_: list[Group], l2: float = L2) -> list[np.ndarray]:
    """Each group's logits from a ranker trained on the other folds (the folds of the adapter)."""
    names = sorted({g.item for g in groups_})
    fold_of = {name: n % FOLDS for n, name in enumerate(names)}
    models = [train([g for g in groups_ if fold_of[g.item] != fold], l2) for fold in range(FOLDS)]
    return [models[fold_of[g.item]].logits(g.x) for g in groups_]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=MODEL, help=f"where to write the model (default {MODEL})")
    ap.add_argument("--check", action="store_true", help="print the cross-validated figures, write nothing")
    ap.add_argument("--l2", type=float, default=L2, help=f"penalty on the standardised weights (default {L2})")
    args = ap.parse_args()
    settings = Settings.from_env(adapter=0, ranker=0)  # the shipped ranker may be for other features
    settings = settings.with_(index_dir=Path(f"/tmp/tune-{settings.model}-{settings.chunk_size}"))  # as tune.py
    found = groups(settings)
    fusion = hits(found, [-np.arange(len(g.y), dtype=np.float64) for g in found])
    ranked = hits(found, cross_validated(found, args.l2))
    print(f"tune sides: {len(found)}; with the gold among the {DEPTH} candidates: {sum(g.y.any() for g in found)}")
    print(f"{'direction':<10} {'fusion hit@1/hit@3':>20} {'ranker (cross-validated)':>26}")
    for direction in fusion:
        (a1, a3), (b1, b3) = fusion[direction], ranked[direction]
        print(f"{direction:<10} {a1:>11.3f} / {a3:.3f} {b1:>17.3f} / {b3:.3f}")
    if args.check:
        return
    model = train(found, args.l2)
    model = replace(model, info={"model": settings.model, "l2": args.l2,
                                 "trained_on": "eval/qa.jsonl tune split, out-of-fold adapters",
                                 "sides": len(found), "cv_hit@1": round(ranked["mean"][0], 4),
                                 "cv_hit@3": round(ranked["mean"][1], 4)})
    args.out.write_text(model.to_json(), encoding="utf-8")
    print(f"wrote {args.out}")
    for name, weight in zip(model.features, model.weights, strict=True):
        print(f"  {name:<14} {weight:+.3f}")


if __name__ == "__main__":
    main()
