"""Evaluation: hit@1, hit@3, MRR per direction (en→en, en→de, de→de, de→en), abstention, latency."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer import Answer
from rag.config import PROJECT_DIR
from rag.corpus import collapse
from rag.errors import ConfigError

DEFAULT_SET = PROJECT_DIR / "eval" / "qa.jsonl"
CONVERSATIONS = PROJECT_DIR / "eval" / "conversations.jsonl"  # two-turn: the second question leans on the first
LANGS = ("en", "de")  # the eval set's languages: each item of eval/*.jsonl has a question and gold in both


@dataclass(frozen=True)
class Item:
    id: str
    split: str
    category: str
    questions: dict[str, str]
    gold: dict[str, list[str] | None]  # per language: alternatives (a passage must contain one), or None
    history: dict[str, list[str]] = field(default_factory=dict)  # per language: earlier turns, oldest first

    @property
    def off_topic(self) -> bool:
        return all(v is None for v in self.gold.values())


def load_set(path: Path = DEFAULT_SET) -> list[Item]:
    """Read an eval set (JSON lines: id, split, category, en, de, gold{en, de}, optional history{en, de}).

    Raises:
        ConfigError: the file is missing or malformed.
    """
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [Item(str(r["id"]), str(r["split"]), str(r.get("category", "")),
                     {lang: str(r[lang]) for lang in LANGS}, {lang: _alternatives(r["gold"][lang]) for lang in LANGS},
                     {lang: [str(q) for q in r["history"][lang]] for lang in LANGS} if "history" in r else {})
                for r in rows]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read eval set {path}: {exc}") from None


def _alternatives(gold: object) -> list[str] | None:
    if gold is None:
        return None
    values = [gold] if isinstance(gold, str) else gold
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise ValueError(f"gold must be null, a string or a list of strings, not {gold!r}")
    return values


def rank_of(answer: Answer, lang: str, gold: list[str]) -> int | None:
    """1-based rank of the first passage of lang containing any gold alternative, or None."""
    needles = [collapse(g).casefold() for g in gold]
    ranked = [p for p in answer.passages if p.lang == lang]
    return next((i for i, p in enumerate(ranked, 1) if any(n in p.text.casefold() for n in needles)), None)


def evaluate(ask: Callable[..., Answer], items: list[Item], progress: bool = False,
             group: Callable[[Item], str] | None = None) -> dict[str, Any]:
    """Run every question of items in both languages and score the answers.

    Args:
        ask: question → Answer (k=3 is what hit@3 assumes); called as ask(question, history) for items
            of a conversation set, which have earlier turns.
        items: eval items.
        progress: show a progress bar on stderr.
        group: what to report separately (default: the split).

    Returns:
        {group: report} for each group present and "all"; see summarize.
    """
    from tqdm import tqdm

    records = []
    for item in tqdm(items, desc="evaluating", unit="question", disable=not progress):
        for q_lang in LANGS:
            t0 = time.perf_counter()
            history = item.history.get(q_lang)
            answer = ask(item.questions[q_lang], history) if history else ask(item.questions[q_lang])
            ms = (time.perf_counter() - t0) * 1000
            records.append((item, q_lang, answer, ms))
    key = group or (lambda item: item.split)
    groups = sorted({key(item) for item in items})
    return {g: summarize([r for r in records if g in ("all", key(r[0]))]) for g in [*groups, "all"]}


def summarize(records: list[tuple[Item, str, Answer, float]]) -> dict[str, Any]:
    """Metrics for a list of (item, question language, answer, milliseconds)."""
    ranks: dict[str, list[int | None]] = {f"{q}->{p}": [] for q in LANGS for p in LANGS}
    side_abstain, off_topic, answered, shown_sides = [], [], [], []
    shown_by: dict[str, list[bool]] = {}  # direction → its answerable sides shown
    graded: list[tuple[float, bool, bool, bool]] = []  # probability, top 3 hold gold, answerable, labelled answers
    on_topic: list[tuple[float, bool]] = []  # sides of questions about the corpus: probability, answerable
    unanswered: dict[str, list[bool]] = {}
    for item, q_lang, answer, _ in records:
        if item.off_topic:
            off_topic.append(not answer.passages)
            unanswered.setdefault(item.category, []).append(not answer.passages)
        else:
            answered.append(bool(answer.passages))
        for p_lang in LANGS:
            gold, sure = item.gold[p_lang], answer.confidence.get(p_lang)
            shows = any(p.lang == p_lang for p in answer.passages)
            rank = rank_of(answer, p_lang, gold) if gold else None
            if sure is not None and sure.label != "none":
                graded.append((sure.probability, rank is not None and rank <= 3, gold is not None,
                               sure.label == "answers"))
            if item.category != "off_topic" and sure is not None:
                on_topic.append((sure.probability, gold is not None))
            if item.off_topic:
                continue
            if gold is None:  # this language's source does not answer: left empty, or not said to answer
                side_abstain.append(not shows or (sure is not None and sure.label != "answers"))
            else:
                ranks[f"{q_lang}->{p_lang}"].append(rank)
                shown_sides.append(shows)
                shown_by.setdefault(f"{q_lang}->{p_lang}", []).append(shows)
    directions = {d: _direction(r) for d, r in ranks.items()}
    ms = np.array([r[3] for r in records]) if records else np.zeros(1)
    return {
        "directions": directions,
        "abstain_missing_side": {"n": len(side_abstain), "accuracy": _mean(side_abstain)},
        "abstain_off_topic": {"n": len(off_topic), "accuracy": _mean(off_topic), "ci95": wilson(off_topic),
                              "by_category": {c: {"n": len(v), "accuracy": _mean(v)} for c, v in unanswered.items()}},
        "answered": {"n": len(answered), "accuracy": _mean(answered)},  # answerable questions given passages
        "answerable_sides_shown": {"n": len(shown_sides), "accuracy": _mean(shown_sides), "by_direction": {
            d: {"n": len(v), "accuracy": _mean(v)} for d, v in sorted(shown_by.items())}},
        "confidence": {**_confidence(graded), "auroc_on_topic": round(auroc([p for p, _ in on_topic],
                                                                            [a for _, a in on_topic]), 4)
                       if len({a for _, a in on_topic}) == 2 else None},
        "latency_ms": {"p50": round(float(np.percentile(ms, 50)), 2),
                       "p95": round(float(np.percentile(ms, 95)), 2)},
    }


def _confidence(graded: list[tuple[float, bool, bool, bool]]) -> dict[str, Any]:
    """How honest the confidence is: AUROC (top 3 hold the gold; answerable against unanswerable sides), the
    share of sides labelled `answers` whose top 3 hold the gold, and the reliability table."""
    if not graded:
        return {"n": 0}
    p = [g[0] for g in graded]
    hit = [g[1] for g in graded]
    labelled = [g[1] for g in graded if g[3]]
    return {"n": len(graded), "auroc_top3": round(auroc(p, hit), 4),
            "auroc_answerable": round(auroc(p, [g[2] for g in graded]), 4),
            "answers_precision": {"n": len(labelled), "accuracy": _mean(labelled)},
            "reliability": reliability(p, hit)}


def _direction(ranks: list[int | None]) -> dict[str, Any]:
    top3 = [x is not None and x <= 3 for x in ranks]
    return {"n": len(ranks), "hit@1": _mean([x == 1 for x in ranks]), "hit@3": _mean(top3),
            "hit@3_ci95": wilson(top3), "mrr": _mean([1 / x if x else 0.0 for x in ranks])}


def auroc(scores: list[float], positive: list[bool]) -> float:
    """Area under the ROC curve: how often a positive outscores a negative (ties count half); 0.5 is chance."""
    pos = [s for s, y in zip(scores, positive, strict=True) if y]
    neg = [s for s, y in zip(scores, positive, strict=True) if not y]
    if not pos or not neg:
        return 0.0
    ranks = np.argsort(np.argsort(scores, kind="stable"), kind="stable").astype(float)  # 0-based
    values = np.array(scores)
    for value in np.unique(values):  # average ranks of ties
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    positive_ranks = ranks[np.array(positive)].sum()
    return float((positive_ranks - len(pos) * (len(pos) - 1) / 2) / (len(pos) * len(neg)))


def reliability(scores: list[float], positive: list[bool], bins: int = 5) -> list[dict[str, Any]]:
    """Predicted against observed rate in equal-width probability bins (the empty ones left out)."""
    out = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [(s, y) for s, y in zip(scores, positive, strict=True) if min(int(s * bins), bins - 1) == b]
        if inside:
            out.append({"low": low, "high": high, "n": len(inside),
                        "predicted": round(float(np.mean([s for s, _ in inside])), 3),
                        "observed": round(float(np.mean([y for _, y in inside])), 3)})
    return out


def wilson(outcomes: list[bool], z: float = 1.96) -> list[float]:
    """95% Wilson score interval of a rate: how far a figure from this few questions can be trusted."""
    n = len(outcomes)
    if not n:
        return [0.0, 1.0]
    p = sum(outcomes) / n
    center = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(max(0.0, center - half), 3), round(min(1.0, center + half), 3)]


def _mean(values: list[bool] | list[float]) -> float:
    return round(float(np.mean(values)), 4) if values else 0.0


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table, one block per split."""
    lines = []
    for split, r in report.items():
        lines.append(f"[{split}]  direction  n   hit@1  hit@3  MRR    hit@3 95% interval")
        for d, m in r["directions"].items():
            lo, hi = m["hit@3_ci95"]
            lines.append(f"           {d:<8} {m['n']:>3}  {m['hit@1']:.3f}  {m['hit@3']:.3f}  {m['mrr']:.3f}  "
                         f"{lo:.2f}–{hi:.2f}")
        off = r["abstain_off_topic"]
        kinds = ", ".join(f"{c} {m['accuracy']:.3f} (n={m['n']})" for c, m in sorted(off["by_category"].items()))
        shown = r["answerable_sides_shown"]
        lines.append(f"           answerable questions given passages {r['answered']['accuracy']:.3f} "
                     f"(n={r['answered']['n']}); answerable sides shown {shown['accuracy']:.3f} (" + ", ".join(
                         f"{d} {m['accuracy']:.3f}" for d, m in shown.get("by_direction", {}).items()) + ")")
        lines.append(f"           abstention: missing side {r['abstain_missing_side']['accuracy']:.3f} "
                     f"(n={r['abstain_missing_side']['n']}), unanswerable {off['accuracy']:.3f} "
                     f"(n={off['n']}, 95% interval {off['ci95'][0]:.2f}–{off['ci95'][1]:.2f}; {kinds or 'none'})")
        sure = r.get("confidence", {})
        if sure.get("n"):
            lines.append(f"           confidence: AUROC {sure['auroc_top3']:.3f} (top 3 hold the answer), "
                         f"{sure['auroc_answerable']:.3f} (answerable or not); labelled `answers`: "
                         f"{sure['answers_precision']['accuracy']:.3f} right (n={sure['answers_precision']['n']})")
            lines.append("           reliability: " + "; ".join(
                f"{b['low']:.1f}–{b['high']:.1f} n={b['n']} said {b['predicted']:.2f} was {b['observed']:.2f}"
                for b in sure["reliability"]))
        lines.append(f"           latency p50 {r['latency_ms']['p50']} ms, p95 {r['latency_ms']['p95']} ms")
    return "\n".join(lines)
