"""Grid over RAG_FOLLOW_UP_WEIGHT on the two-turn conversations: mean hit@1 and hit@3 of the follow-ups, by split.

    python eval/follow_up.py                 # eval/conversations.jsonl: choose on tune, report test
"""

from __future__ import annotations

import sys
from pathlib import Path

from rag.assistant import Assistant
from rag.config import Settings
from rag.embedding import load_embedder
from rag.evaluation import CONVERSATIONS, evaluate, load_set

WEIGHTS = (0.0, 0.3, 0.5, 0.7, 1.0)


def means(report: dict) -> tuple[float, float, int]:
    """Mean hit@1 and hit@3 over the four directions, and the number of questions."""
    directions = report["directions"].values()
    return (round(sum(d["hit@1"] for d in directions) / 4, 3), round(sum(d["hit@3"] for d in directions) / 4, 3),
            sum(d["n"] for d in directions))


def main(paths: list[Path]) -> None:
    """Print each weight's figures for the follow-up groups of the conversations in paths."""
    items = [item for path in paths for item in load_set(path)]
    embedder = load_embedder("e5-small")
    for weight in WEIGHTS:
        assistant = Assistant.load(settings=Settings.from_env(follow_up_weight=weight), embedder=embedder)
        report = evaluate(lambda q, h=None, a=assistant: a.ask(q, k=3, history=h), items,
                          group=lambda i: f"{i.split} {i.category}")
        print(weight, {g: means(r) for g, r in report.items() if "follow" in g}, flush=True)


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or [CONVERSATIONS])
