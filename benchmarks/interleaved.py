"""Interleaved measurement: the systems answer each question in turn, in a rotated order, after the same warm-up.

On a shared machine whose load swings, measuring all of one system and then all of another gives
ratios that mean little; taking turns question by question (and burst by burst for throughput)
exposes every system to the same load, so the ratios of one run can be compared.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from rag.answer import Answer
from rag.evaluation import LANGS, Item, summarize

Ask = Callable[[str], Answer]
Record = tuple[Item, str, Answer, float]

# Not eval questions: ours keeps the vectors of questions' words, so warming up on the eval set would
# answer part of it from that cache.
WARM_UP = ("Wer führte Regie?", "Who plays Seon-woo?", "Worum geht es in der Serie?", "Is it worth watching?",
           "Wann lief die erste Folge?", "Who wrote the music?")
THREADS = (1, 2, 4, 16)
BURST = 16  # questions per burst and thread: long enough to keep every thread busy, short enough to alternate


def rotated(names: list[str], turn: int) -> list[str]:
    """The names in the order of this turn: each name goes first on every len(names)-th turn."""
    shift = turn % len(names)
    return names[shift:] + names[:shift]


def percentiles(ms: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of a list of milliseconds."""
    values = np.array(ms or [0.0])
    return {f"p{q}": round(float(np.percentile(values, q)), 2) for q in (50, 95, 99)}


def compare(systems: dict[str, Ask], items: list[Item], progress: bool = False) -> dict[str, Any]:
    """Latency and quality of every system from one interleaved pass over the eval questions.

    Args:
        systems: name → ask(question) with k=3; the first is "ours", the reference of the ratios.
        items: eval items; each is asked in both languages.
        progress: show a progress bar on stderr.

    Returns:
        {"questions", "order", "cpu_per_wall" (this process's CPU seconds per second: the cores it got),
        "systems": {name: {"ask_ms", "hit_at_1", "hit_at_3", "abstain_off_topic", "split"}},
        "ratios": {"ours/<name>": {"p50", "p95"}}}: hits per direction and abstention on the test split
        (all items when the set has none).
    """
    from tqdm import tqdm

    names = list(systems)
    for turn, question in enumerate(WARM_UP):
        for name in rotated(names, turn):
            systems[name](question)
    records: dict[str, list[Record]] = {name: [] for name in names}
    asked = [(item, lang) for item in items for lang in LANGS]
    cpu, wall = time.process_time(), time.perf_counter()
    for turn, (item, lang) in enumerate(tqdm(asked, desc="interleaved asks", unit="question", disable=not progress)):
        for name in rotated(names, turn):
            t0 = time.perf_counter()
            answer = systems[name](item.questions[lang])
            records[name].append((item, lang, answer, (time.perf_counter() - t0) * 1000))
    cpu_per_wall = round((time.process_time() - cpu) / (time.perf_counter() - wall), 2)
    figures = {name: _figures(recs) for name, recs in records.items()}
    ours = figures[names[0]]["ask_ms"]
    ratios = {f"{names[0]}/{name}": {q: round(ours[q] / max(figures[name]["ask_ms"][q], 1e-3), 2)
                                     for q in ("p50", "p95")} for name in names[1:]}
    return {"questions": len(asked), "order": "rotated per question", "cpu_per_wall": cpu_per_wall,
            "systems": figures, "ratios": ratios}


def _figures(records: list[Record]) -> dict[str, Any]:
    test = [r for r in records if r[0].split == "test"]
    report = summarize(test or records)
    out: dict[str, Any] = {"ask_ms": percentiles([r[3] for r in records]), "split": "test" if test else "all"}
    for metric in ("hit@1", "hit@3"):
        hits = {d: m[metric] for d, m in report["directions"].items()}
        out[metric.replace("@", "_at_")] = {"mean": round(float(np.mean(list(hits.values()))), 4), **hits}
    out["abstain_off_topic"] = report["abstain_off_topic"]["accuracy"]
    return out


def throughput(systems: dict[str, Ask], questions: list[str], threads: tuple[int, ...] = THREADS,
               progress: bool = False) -> dict[str, Any]:
    """Questions per second and per-call p95 with each number of threads, the systems taking turns by bursts.

    Every system answers all the questions with each thread count; a burst is BURST questions per
    thread, and the system that goes first changes with every burst.

    Args:
        systems: name → ask(question); the first is the reference of the ratios.
        questions: the questions (asked once per system and thread count).
        threads: the thread counts.
        progress: show a progress bar on stderr.

    Returns:
        {name: {"qps": {threads: qps}, "p95_ms": {threads: ms}, "scaling": {threads: qps / qps of 1 thread}},
        "<first>/<name>": {threads: qps ratio}, "cpu_per_wall": {threads: CPU seconds of this process per
        second}}; thread counts are string keys, as in JSON.
    """
    from tqdm import tqdm

    names = list(systems)
    out: dict[str, Any] = {name: {"qps": {}, "p95_ms": {}, "scaling": {}} for name in names}
    out["cpu_per_wall"] = {}
    bar = tqdm(total=len(questions) * len(names) * len(threads), desc="throughput", unit="question",
               disable=not progress)
    for count in threads:
        size = BURST * count
        bursts = [questions[i:i + size] for i in range(0, len(questions), size)]
        elapsed = dict.fromkeys(names, 0.0)
        calls: dict[str, list[float]] = {name: [] for name in names}
        pools = {name: ThreadPoolExecutor(count) for name in names}
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            for name in names:  # start the pools' threads before timing anything
                list(pools[name].map(lambda _: None, range(count)))
            for turn, burst in enumerate(bursts):
                for name in rotated(names, turn):
                    seconds, ms = _burst(pools[name], systems[name], burst)
                    elapsed[name] += seconds
                    calls[name] += ms
                    bar.update(len(burst))
        finally:
            for pool in pools.values():
                pool.shutdown()
        out["cpu_per_wall"][str(count)] = round((time.process_time() - cpu) / (time.perf_counter() - wall), 2)
        for name in names:
            out[name]["qps"][str(count)] = round(len(questions) / max(elapsed[name], 1e-9), 1)
            out[name]["p95_ms"][str(count)] = percentiles(calls[name])["p95"]
    bar.close()
    for name in names:
        one = out[name]["qps"].get("1")
        out[name]["scaling"] = {t: round(q / one, 2) for t, q in out[name]["qps"].items()} if one else {}
    for name in names[1:]:
        out[f"{names[0]}/{name}"] = {t: round(q / max(out[name]["qps"][t], 1e-9), 2)
                                     for t, q in out[names[0]]["qps"].items()}
    return out


def _burst(pool: ThreadPoolExecutor, ask: Ask, questions: list[str]) -> tuple[float, list[float]]:
    """Seconds for the pool to answer the questions, and each call's milliseconds."""
    def timed(question: str) -> float:
        t0 = time.perf_counter()
        ask(question)
        return (time.perf_counter() - t0) * 1000

    t0 = time.perf_counter()
    ms = list(pool.map(timed, questions))
    return time.perf_counter() - t0, ms
