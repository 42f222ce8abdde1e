"""Answers through another vector store against the default one, question by question.

    python -m benchmarks.stores milvus:///tmp/rows.db [--split test]

Fills the store from the index (as `rag index --store` does), asks every question of the eval split in
each language through both stores, and prints the share of questions whose first passage, per language,
and whose confidence labels are the same, with each store's time per question.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rag.assistant import Assistant
from rag.config import Settings
from rag.evaluation import LANGS, load_set
from rag.index.sync import sync_store


def compare(address: str, split: str = "test") -> dict[str, Any]:
    """Per-question agreement between the default store and the store at address."""
    settings = Settings.from_env()
    synced = sync_store(settings.with_(store=address))
    other = Assistant.load(settings=settings.with_(store=address))
    stores = {"faiss": Assistant.load(settings=settings), address: other}
    questions = [item.questions[lang] for item in load_set() if item.split == split for lang in LANGS]
    answers: dict[str, list[Any]] = {name: [] for name in stores}
    seconds = dict.fromkeys(stores, 0.0)
    for question in questions:  # the stores take turns, question by question
        for name, assistant in stores.items():
            t0 = time.perf_counter()
            answers[name].append(assistant.ask(question))
            seconds[name] += time.perf_counter() - t0
    first = labels = 0
    for a, b in zip(answers["faiss"], answers[address], strict=True):
        firsts = [{lang: items[0][1].source + f":{items[0][1].start}" for lang, items in x.by_language().items()}
                  for x in (a, b)]
        first += firsts[0] == firsts[1]
        labels += {k: v.label for k, v in a.confidence.items()} == {k: v.label for k, v in b.confidence.items()}
    n = len(questions)
    return {"store": address, "questions": n, "synced": vars(synced), "same_first_passages": round(first / n, 4),
            "same_labels": round(labels / n, 4),
            "ms_per_question": {k: round(v / n * 1000, 1) for k, v in seconds.items()},
            "identical_answers": sum(x.to_dict() == y.to_dict() for x, y in zip(*answers.values(), strict=True))}


if __name__ == "__main__":
    split = sys.argv[sys.argv.index("--split") + 1] if "--split" in sys.argv else "test"
    print(json.dumps(compare(sys.argv[1], split), indent=1))
