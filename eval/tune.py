"""Grid-search retrieval settings on the TUNING split only; prints the best few (test split untouched)."""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.assistant import Assistant
from rag.config import Settings
from rag.embedding import load_embedder
from rag.evaluation import DEFAULT_SET, evaluate, load_set
from rag.index import build_index, load_index


def objective(r: dict) -> float:
    d = r["directions"]
    hit3 = min(m["hit@3"] for m in d.values())
    hit1 = min(m["hit@1"] for m in d.values())
    mean3 = sum(m["hit@3"] for m in d.values()) / len(d)
    return (mean3 + 0.5 * hit3 + 0.5 * hit1 + r["abstain_off_topic"]["accuracy"]
            + 0.1 * r["abstain_missing_side"]["accuracy"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="use-multilingual")
    ap.add_argument("--chunk-size", type=int, default=400)
    ap.add_argument("--weights", default="0,0.2,0.35,0.5")
    ap.add_argument("--thresholds", default="0.1,0.15,0.2,0.25,0.3,0.35")
    ap.add_argument("--margins", default="0.05,0.1,0.15,0.2,1")
    ap.add_argument("--sentence", default="0.5")
    ap.add_argument("--common", default="0.2")
    ap.add_argument("--top", default="8")
    ap.add_argument("--bridge", default="0.75")
    ap.add_argument("--gate", default="0.2")
    ap.add_argument("--penalty", default="0.1")
    ap.add_argument("--soft", default="0")
    ap.add_argument("--floor", default="0.5")
    ap.add_argument("--entity", default="0")
    args = ap.parse_args()
    index_dir = Path(f"/tmp/tune-{args.model}-{args.chunk_size}")
    settings = Settings.from_env(index_dir=index_dir, model=args.model, chunk_size=args.chunk_size)
    embedder = load_embedder(args.model)
    build_index(settings, embedder=embedder)
    index = load_index(index_dir)
    items = [i for i in load_set(DEFAULT_SET) if i.split == "tune"]
    rows = []
    axes = (args.weights, args.thresholds, args.margins, args.sentence, args.common, args.bridge, args.gate,
            args.penalty, args.soft, args.floor, args.entity)
    for w, t, m, sw, cw, br, g, pen, sf, fl, ew in itertools.product(*(map(float, a.split(",")) for a in axes)):
        s = settings.with_(lexical_weight=w, min_score=t, language_margin=m, sentence_weight=sw,
                           common_word_share=cw, bridge_similarity=br, min_question_score=g,
                           unknown_name_penalty=pen, soft_weight=sf, soft_floor=fl, entity_weight=ew)
        a = Assistant(index, embedder, s)
        r = evaluate(lambda q, a=a: a.ask(q, k=3), items)["tune"]
        rows.append((objective(r), f"w={w} t={t} m={m} s={sw} c={cw} b={br} g={g} p={pen} sf={sf} fl={fl} e={ew}", r))
    rows.sort(key=lambda x: -x[0])
    for obj, label, r in rows[:int(args.top)]:
        d = r["directions"]
        print(f"obj={obj:.3f} {label} | " + " ".join(
            f"{k}:{v['hit@1']:.2f}/{v['hit@3']:.2f}" for k, v in d.items())
            + f" | side={r['abstain_missing_side']['accuracy']:.2f} off={r['abstain_off_topic']['accuracy']:.2f}",
            file=sys.stdout)


if __name__ == "__main__":
    main()
