"""Teach: labelled questions → training pairs → an adapter, measured against identity and installed if it helps.

`rag learn` runs this. The adapter is installed only when its grouped cross-validated mean hit@3 (dense
scoring, held-out questions) is at least identity's; the test split is measured, never trained on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.corpus import collapse
from rag.evaluation import LANGS, Item
from rag.retrieve import Retriever
from rag.search.adapter import Adapter, save_adapter
from rag.search.learn import Pair, Passages, cross_validate, figures, make_passages, train


@dataclass(frozen=True)
class Lesson:
    """What `rag learn` did: the figures with and without the adapter, and whether it was installed."""

    pairs: int
    questions: int
    figures: dict[str, Any] = field(default_factory=dict)  # part → {"identity": …, "adapter": …}
    installed: bool = False
    reason: str = ""


def passages_of(retriever: Retriever) -> dict[str, Passages]:
    """Each language's passage and sentence vectors, as the dense scorer sees them."""
    index = retriever.index
    return {lang: make_passages(index.vectors, index.sentence_vectors, index.sentence_owner, lo, hi)
            for lang, (lo, hi) in retriever.ranges.items()}


def pairs_from(items: list[Item], retriever: Retriever) -> list[Pair]:
    """A pair for every (question language, passage language) whose gold some passage holds.

    Args:
        items: labelled questions (eval-set format); off-topic ones and null gold sides give no pair.
        retriever: the index's retriever (its passages, and how it embeds questions).

    Returns:
        The pairs, in item order.
    """
    chunks = retriever.index.chunks
    wanted = [(item, q, p) for item in items for q in LANGS for p in LANGS
              if item.gold.get(p) and p in retriever.ranges]
    questions = sorted({item.questions[q] for item, q, _ in wanted})
    vectors = dict(zip(questions, retriever.question_vectors(questions), strict=True)) if questions else {}
    out = []
    for item, q, p in wanted:
        lo, hi = retriever.ranges[p]
        needles = [collapse(g).casefold() for g in item.gold[p] or []]
        rows = tuple(i - lo for i in range(lo, hi) if any(n in chunks[i].text.casefold() for n in needles))
        if rows:  # a gold string no passage holds whole (split by chunking) teaches nothing
            out.append(Pair(item.id, f"{q}->{p}", vectors[item.questions[q]], p, rows))
    return out


def teach(retriever: Retriever, pairs: list[Pair], test: list[Pair], index_dir: Path, install: bool = True,
          info: dict[str, Any] | None = None) -> Lesson:
    """Train an adapter on pairs, report it against identity, and install it if it helps.

    Args:
        retriever: the index's retriever (without an adapter: the pairs hold plain question vectors).
        pairs: what to learn from (pairs_from the tune split or a file, pairs_from_votes).
        test: pairs never trained on, measured for the report.
        index_dir: where to install it.
        install: False only measures.
        info: stored with the adapter besides its figures (e.g. how many votes it learned from).

    Returns:
        The Lesson.
    """
    model = retriever.index.manifest["model"]
    passages = passages_of(retriever)
    questions = len({p.group for p in pairs})
    if questions < 2:
        return Lesson(len(pairs), questions, reason="not installed: at least two labelled questions whose "
                      "answer a passage holds are needed (one cannot be checked on a held-out question)")
    identity = Adapter(model)
    adapter = train(pairs, passages, model)
    cv_identity, cv_adapter = cross_validate(pairs, passages, model)
    report = {"train": {"identity": figures(identity, pairs, passages), "adapter": figures(adapter, pairs, passages)},
              "cross-validated": {"identity": cv_identity, "adapter": cv_adapter}}
    if test:
        report["test"] = {"identity": figures(identity, test, passages), "adapter": figures(adapter, test, passages)}
    gain = cv_adapter["mean"]["hit@3"] - cv_identity["mean"]["hit@3"]
    if gain < 0:
        return Lesson(len(pairs), questions, report, False,
                      f"not installed: cross-validated mean hit@3 {cv_adapter['mean']['hit@3']:.3f} is below "
                      f"identity's {cv_identity['mean']['hit@3']:.3f}")
    if install:
        stored = {**(info or {}), "pairs": len(pairs), "questions": questions,
                  "cross-validated": report["cross-validated"],
                  "files": retriever.index.manifest["files"]}  # the corpus it was trained on (a shipped one needs it)
        save_adapter(index_dir, Adapter(model, adapter.weights, stored))
    return Lesson(len(pairs), questions, report, install,
                  f"{'installed' if install else 'would install'}: cross-validated mean hit@3 "
                  f"{cv_identity['mean']['hit@3']:.3f} → {cv_adapter['mean']['hit@3']:.3f}")
