"""Grid-search retrieval settings on the TUNING split only (the test split stays untouched).

Every Settings knob below is a flag taking comma-separated values; a flag left out keeps the
shipped default, so `python eval/tune.py` alone scores the current configuration.
Example: python eval/tune.py --lexical_weight 0.2,0.3,0.4 --min_question_score 0.19,0.21,0.23
"""

from __future__ import annotations

import argparse
import itertools
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.assistant import Assistant
from rag.config import Settings
from rag.embedding import load_embedder
from rag.evaluation import DEFAULT_SET, evaluate, load_set
from rag.index import build_index, load_index

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=Settings.model)
    ap.add_argument("--chunk-size", type=int, default=Settings.chunk_size)
    ap.add_argument("--top", type=int, default=8, help="how many of the best settings to print")
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
    rows = []
    for values in itertools.product(*grid):
        changes = dict(zip(KNOBS, values, strict=True))
        assistant = Assistant(index, embedder, settings.with_(**changes))
        report = evaluate(lambda q, a=assistant: a.ask(q, k=3), items)["tune"]
        changed = " ".join(f"{k}={v}" for k, v in changes.items() if len(grid[KNOBS.index(k)]) > 1)
        rows.append((objective(report), changed or "defaults", report))
    for score, label, report in sorted(rows, key=lambda row: -row[0])[: args.top]:
        print(f"obj={score:.3f} {label} | {summary(report)}")


if __name__ == "__main__":
    main()
