"""Grid-search retrieval settings on the TUNING split only (the test split stays untouched).

Every Settings knob below is a flag taking comma-separated values; a flag left out keeps the
shipped default, so `python eval/tune.py` alone scores the current configuration.
Example: python eval/tune.py --lexical_weight 0.2,0.3,0.4 --min_question_score 0.19,0.21,0.23

--adapter oof measures the settings as they work with a learned query adapter without letting the
adapter see the question it is measured on: the tune split is cut into the folds of `rag learn`'s
cross-validation, an adapter is trained on the other folds for each, and each question is answered
with its fold's adapter (out of fold). Measuring on the tune split with the adapter trained on all of
it would flatter the dense score (it ranks 100 % of its training questions in the top 3).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from collections.abc import Callable

from rag.answer import Answer
from rag.assistant import Assistant
from rag.config import Settings
from rag.embedding import Embedder, load_embedder
from rag.evaluation import DEFAULT_SET, LANGS, Item, evaluate, load_set, summarize
from rag.index import build_index, load_index
from rag.search.adapter import Adapter, load_adapter, save_adapter
from rag.search.learn import FOLDS, train
from rag.search.teach import pairs_from, passages_of
from rag.store import Index

KNOBS = ["lexical_weight", "dense_floor", "soft_weight", "soft_floor", "entity_weight", "sentence_weight",
         "common_word_share", "bridge_similarity", "min_score", "min_question_score", "unknown_name_penalty",
         "language_margin", "highlight_margin", "unknown_word_penalty",
         "known_word_similarity"]


def objective(r: dict) -> float:
    """Mean and worst hit@3, worst hit@1, off-topic abstention; the empty missing side counts a little."""
    d = r["directions"]
    hit3 = [m["hit@3"] for m in d.values()]
    return (sum(hit3) / len(hit3) + 0.5 * min(hit3) + 0.5 * min(m["hit@1"] for m in d.values())
            + r["abstain_off_topic"]["accuracy"] + 0.1 * r["abstain_missing_side"]["accuracy"])


def summary(r: dict) -> str:
    cells = " ".join(f"{k}:{v['hit@1']:.2f}/{v['hit@3']:.2f}" for k, v in r["directions"].items())
    return f"{cells} | side={r['abstain_missing_side']['accuracy']:.2f} off={r['abstain_off_topic']['accuracy']:.2f}"


def out_of_fold(index: Index, embedder: Embedder, settings: Settings, items: list[Item]) -> dict[str, Adapter]:
    """Each tune item's adapter, trained on the folds without it (the folds of rag learn's cross-validation).

    The adapters are kept beside the tune index, keyed by the index's data and the items, so the training
    scripts that need them (train_confidence, train_ranker) pay for them once.
    """
    plain = Assistant(index, embedder, settings.with_(adapter=0), live=False)
    pairs = pairs_from(items, plain.retriever)
    key = hashlib.sha256(repr((index.manifest["data"], [(p.group, p.direction, p.positives) for p in pairs])).encode())
    cache = settings.index_dir.parent / f"{settings.index_dir.name}-oof-{key.hexdigest()[:16]}"
    groups = sorted({p.group for p in pairs})
    fold_of = {g: n % FOLDS for n, g in enumerate(groups)}
    model, dim = index.manifest["model"], int(index.manifest["dim"])
    names = [f"fold-{fold}.json" for fold in range(FOLDS)]
    if all((cache / name).exists() for name in names):
        trained = [load_adapter(cache, model, dim, name) for name in names]
    else:
        passages = passages_of(plain.retriever)
        trained = [train([p for p in pairs if fold_of[p.group] != fold], passages, model) for fold in range(FOLDS)]
        cache.mkdir(exist_ok=True)
        for adapter, name in zip(trained, names, strict=True):
            save_adapter(cache, adapter, name)
    # Items without a pair (off-topic, unanswerable) are in no fold: any adapter is out of fold for them.
    return {item.id: trained[fold_of.get(item.id, 0)] for item in items}


def measure(index: Index, embedder: Embedder, settings: Settings, items: list[Item],
            adapters: dict[str, Adapter] | None) -> dict:
    """The tune report for settings, each item answered with its out-of-fold adapter when given."""
    if adapters is None:
        assistant = Assistant(index, embedder, settings, live=False)
        return evaluate(lambda q, a=assistant: a.ask(q, k=3), items)["tune"]
    by_adapter: dict[int, list[Item]] = {}
    for item in items:
        by_adapter.setdefault(id(adapters[item.id]), []).append(item)
    records = []
    for part in by_adapter.values():
        assistant = Assistant(index, embedder, settings, live=False, adapter=adapters[part[0].id])
        records += raw_records(lambda q, a=assistant: a.ask(q, k=3), part)
    return summarize(records)


def raw_records(ask: Callable[[str], Answer], items: list[Item]) -> list[tuple[Item, str, Answer, float]]:
    """(item, question language, answer, ms) for each question, as evaluate collects them."""
    return [(item, lang, ask(item.questions[lang]), 0.0) for item in items for lang in LANGS]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=Settings.model)
    ap.add_argument("--chunk-size", type=int, default=Settings.chunk_size)
    ap.add_argument("--top", type=int, default=8, help="how many of the best settings to print")
    ap.add_argument("--adapter", choices=["none", "oof"], default="none",
                    help="none: plain question vectors; oof: out-of-fold learned adapters (see above)")
    for knob in KNOBS:
        ap.add_argument(f"--{knob}", help="comma-separated values (default: the model's tuned value)")
    args = ap.parse_args()
    tuned = Settings.from_env(model=args.model)  # the defaults, or the values tuned for another model
    for knob in KNOBS:
        if getattr(args, knob) is None:
            setattr(args, knob, str(getattr(tuned, knob)))
    settings = Settings.from_env(index_dir=Path(f"/tmp/tune-{args.model}-{args.chunk_size}"), model=args.model,
                                 chunk_size=args.chunk_size)
    embedder = load_embedder(args.model)
    build_index(settings, embedder=embedder)
    index = load_index(settings.index_dir)
    items = [i for i in load_set(DEFAULT_SET) if i.split == "tune"]
    grid = [[float(v) for v in getattr(args, knob).split(",")] for knob in KNOBS]
    adapters = out_of_fold(index, embedder, settings, items) if args.adapter == "oof" else None
    rows = []
    for values in itertools.product(*grid):
        changes = dict(zip(KNOBS, values, strict=True))
        report = measure(index, embedder, settings.with_(adapter=0, **changes), items, adapters)
        changed = " ".join(f"{k}={v}" for k, v in changes.items() if len(grid[KNOBS.index(k)]) > 1)
        rows.append((objective(report), changed or "defaults", report))
    for score, label, report in sorted(rows, key=lambda row: -row[0])[: args.top]:
        print(f"obj={score:.3f} {label} | {summary(report)}")


if __name__ == "__main__":
    main()
