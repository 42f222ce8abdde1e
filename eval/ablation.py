"""Ablation on the TUNING split: each retrieval technique switched on in turn; prints a Markdown table.

Abstention is off (every question is answered) so the table shows ranking quality alone.
Run: python eval/ablation.py [--models e5-small,use-multilingual,minilm]
The first model gets the step-by-step rows; the others one row with every technique on.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.assistant import Assistant
from rag.config import Settings
from rag.embedding import load_embedder
from rag.evaluation import DEFAULT_SET, Item, evaluate, load_set
from rag.index import build_index, load_index

NO_ABSTAIN = {"min_score": -1.0, "min_question_score": -1.0, "language_margin": 9.0}
OFF = {"lexical_weight": 0.0, "soft_weight": 0.0, "entity_weight": 0.0, "sentence_weight": 0.0,
       "common_word_share": 1.0, "bridge_similarity": 2.0}
# Each step switches one technique on, at the model's tuned value.
STEPS = [
    ("dense only (passage vectors)", []),
    ("+ sentence vectors (max)", ["sentence_weight"]),
    ("+ title words left out of the query", ["common_word_share"]),
    ("+ BM25, stemmed", ["lexical_weight"]),
    ("+ vocabulary bridge for BM25", ["bridge_similarity"]),
    ("+ soft term matching", ["soft_weight"]),
    ("+ entity bridging across languages", ["entity_weight"]),
]


def row(label: str, report: dict) -> str:
    d = report["directions"]
    cells = " | ".join(f"{d[k]['hit@1']:.2f} / {d[k]['hit@3']:.2f}" for k in d)
    mean3 = sum(m["hit@3"] for m in d.values()) / len(d)
    return f"| {label} | {cells} | {mean3:.3f} |"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="e5-small,use-multilingual")
    ap.add_argument("--word-model", help="one more row: the first model, its word vectors from this model")
    args = ap.parse_args()
    items = [i for i in load_set(DEFAULT_SET) if i.split == "tune"]
    print("| setting | en→en hit@1 / hit@3 | en→de | de→en | de→de | mean hit@3 |")
    print("|---|---|---|---|---|---|")
    models = args.models.split(",")
    for model in models:
        settings = Settings.from_env(index_dir=Path(tempfile.gettempdir()) / f"ablation-{model}", model=model)
        embedder = load_embedder(model)
        build_index(settings, embedder=embedder)
        index = load_index(settings.index_dir)
        first = model == models[0]
        steps = STEPS if first else [("all techniques", list(OFF))]
        changes: dict[str, float] = dict(OFF) if first else {}
        for label, knobs in steps:
            changes.update({knob: getattr(settings, knob) for knob in knobs})
            assistant = Assistant(index, embedder, settings.with_(**changes, **NO_ABSTAIN))
            report = evaluate(lambda q, a=assistant: a.ask(q, k=3), items)["tune"]
            print(row(label if first else f"{model}: {label}", report), flush=True)
    if args.word_model:
        report = word_vectors_from(models[0], args.word_model, items)
        print(row(f"{models[0]}, word vectors from {args.word_model}", report))


def word_vectors_from(model: str, word_model: str, items: list[Item]) -> dict[str, Any]:
    """The tuning report of model with its corpus and question word vectors (bridge, soft matching) from word_model."""
    settings = Settings.from_env(index_dir=Path(tempfile.gettempdir()) / f"ablation-{model}", model=model)
    index, embedder, words = load_index(settings.index_dir), load_embedder(model), load_embedder(word_model)
    index.vocabulary_vectors = {lang: words.embed(ws, kind="query") for lang, ws in index.vocabulary.items()}
    tuned = Settings.from_env(model=word_model)  # word-level bars belong to the word model
    assistant = Assistant(index, embedder, settings.with_(soft_floor=tuned.soft_floor,
                                                          bridge_similarity=tuned.bridge_similarity, **NO_ABSTAIN))
    assistant.retriever.word_embedder = words
    return evaluate(lambda q: assistant.ask(q, k=3), items)["tune"]


if __name__ == "__main__":
    main()
