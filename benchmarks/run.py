"""`rag bench`: build, update, cold-start, latency, throughput and quality figures, ours next to a baseline.

Everything is measured in one run on this machine: a fresh index of the corpus in a temporary
folder, then the same questions (the eval set, both languages) through Assistant.ask and through
the LangChain baseline (benchmarks.baseline), when langchain-community is installed.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer import Answer
from rag.config import PROJECT_DIR, Settings
from rag.evaluation import DEFAULT_SET, LANGS, evaluate, load_set

QUESTION = "Wer führte Regie?"
LOAD_THREADS = 16


def machine() -> dict[str, Any]:
    """CPU model, cores, Python version and the load average when the bench started."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(terse=True), "load_average_1min": load}


def percentiles(ms: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of a list of milliseconds."""
    values = np.array(ms or [0.0])
    return {f"p{q}": round(float(np.percentile(values, q)), 2) for q in (50, 95, 99)}


def _seconds(action: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    action()
    return round(time.perf_counter() - t0, 3)


# Appended to the timed code: the process's own peak RSS. VmHWM, not ru_maxrss, which on Linux also
# counts the parent's memory at the time of the fork.
_PEAK = ("; import pathlib, resource; s = pathlib.Path('/proc/self/status'); print(next((l.split()[1] for l in "
         "s.read_text().splitlines() if l.startswith('VmHWM:')), None) if s.exists() else "
         "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")


def cold_start(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Run `python -c code` in a fresh process: (seconds from start to exit, its peak RSS in MB)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code + _PEAK], cwd=PROJECT_DIR, env=env, capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"cold start failed: {proc.stderr[-500:]}")
    return round(seconds, 3), round(int(proc.stdout.split()[-1]) / 1024, 1)  # KB on Linux


def _throughput(ask: Callable[[str], Answer], questions: list[str], threads: int) -> tuple[float, list[float]]:
    """Questions per second with `threads` callers, and each call's milliseconds."""
    def timed(question: str) -> float:
        t0 = time.perf_counter()
        ask(question)
        return (time.perf_counter() - t0) * 1000

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        ms = list(pool.map(timed, questions))
    return round(len(questions) / (time.perf_counter() - t0), 1), ms


def measure_asks(ask: Callable[[str], Answer], set_path: Path = DEFAULT_SET,
                 progress: bool = False) -> dict[str, Any]:
    """Latency, throughput, load latency and hit@3 (test split) of one ask function."""
    items = load_set(set_path)
    questions = [item.questions[lang] for item in items for lang in LANGS]
    for warm_up in (QUESTION, "Who plays Seon-woo?"):  # first calls fill caches
        ask(warm_up)
    latencies: list[float] = []

    def timed(question: str) -> Answer:
        t0 = time.perf_counter()
        answer = ask(question)
        latencies.append((time.perf_counter() - t0) * 1000)
        return answer

    report = evaluate(timed, items, progress=progress)
    test = report.get("test", report["all"])
    hits = {d: m["hit@3"] for d, m in test["directions"].items()}
    qps_1, _ = _throughput(ask, questions, 1)
    qps_4, _ = _throughput(ask, questions, 4)
    _, loaded = _throughput(ask, questions * 2, LOAD_THREADS)
    return {"ask_ms": percentiles(latencies),
            "hit_at_3": {"mean": round(float(np.mean(list(hits.values()))), 4), **hits},
            "abstain_off_topic": test["abstain_off_topic"]["accuracy"],
            "qps_1_thread": qps_1, "qps_4_threads": qps_4,
            "load_p95_ms": round(float(np.percentile(loaded, 95)), 2)}


def bench_ours(settings: Settings, tmp: Path, index_dir: Path | None, eval_set: Path,
               progress: bool) -> dict[str, Any]:
    """Our figures: build of a fresh copy of the corpus, cold start, asks, then an incremental rebuild."""
    from benchmarks.synthetic import extend_file
    from rag.assistant import Assistant
    from rag.corpus import SUFFIXES
    from rag.embedding import load_embedder
    from rag.index import build_index

    corpus = tmp / "corpus"
    shutil.copytree(settings.corpus_dir, corpus)
    fresh = settings.with_(corpus_dir=corpus, index_dir=tmp / "index")
    embedder = load_embedder(settings.model)
    out: dict[str, Any] = {"model": settings.model}
    out["build_s"] = _seconds(lambda: build_index(fresh, embedder=embedder, progress=progress))
    measured = fresh if index_dir is None else settings.with_(index_dir=index_dir)
    env = {**os.environ, "RAG_CORPUS_DIR": str(measured.corpus_dir.resolve()), "HF_HUB_OFFLINE": "1"}
    code = f"from rag import Assistant; Assistant.load({str(measured.index_dir.resolve())!r}).ask({QUESTION!r})"
    out["cold_start_s"], out["peak_rss_mb"] = cold_start(code, env)
    assistant = Assistant.load(settings=measured, embedder=embedder if index_dir is None else None)
    out["passages"] = len(assistant.index.chunks)
    out.update(measure_asks(lambda q: assistant.ask(q, k=3), eval_set, progress))
    extend_file(sorted(p for p in corpus.rglob("*") if p.suffix in SUFFIXES)[0])  # one changed file
    out["incremental_build_s"] = _seconds(lambda: build_index(fresh, embedder=embedder))
    return out


def bench_langchain(settings: Settings, tmp: Path, eval_set: Path, progress: bool) -> dict[str, Any]:
    """The same figures for the LangChain FAISS baseline (which has no incremental build: it rebuilds)."""
    from benchmarks.baseline import Baseline, cold_start_code
    from rag.embedding import load_embedder

    embedder = load_embedder(settings.model)
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    baseline = Baseline.build(settings, embedder)
    out["build_s"] = round(time.perf_counter() - t0, 3)
    baseline.save(tmp / "baseline")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out["cold_start_s"], out["peak_rss_mb"] = cold_start(cold_start_code(tmp / "baseline", settings.model), env)
    out.update(measure_asks(lambda q: baseline.ask(q, k=3), eval_set, progress))
    out["incremental_build_s"] = _seconds(lambda: Baseline.build(settings, embedder))
    return out


RATIOS = ("build_s", "incremental_build_s", "cold_start_s", "peak_rss_mb", "qps_1_thread", "qps_4_threads",
          "load_p95_ms")


def run(settings: Settings, index_dir: Path | None = None, baseline: bool = True, files: int = 1000,
        eval_set: Path = DEFAULT_SET, progress: bool = True) -> dict[str, Any]:
    """All figures of `rag bench` as one dict (see README, Performance)."""
    from benchmarks import baseline as bench_baseline

    result: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as folder:
        tmp = Path(folder)
        result.update(bench_ours(settings, tmp / "ours", index_dir, eval_set, progress))
        if files:
            from benchmarks.scale import files_incremental

            result["incremental_files"] = files_incremental(settings, tmp / "files", files, progress)
        if baseline and bench_baseline.available():
            base = bench_langchain(settings, tmp, eval_set, progress)
            result.update({f"baseline_{key}": value for key, value in base.items()})
            ours_p50, base_p50 = max(result["ask_ms"]["p50"], 1e-3), max(base["ask_ms"]["p50"], 1e-3)
            result["speedup_vs_baseline"] = round(base_p50 / ours_p50, 2)
            result["ratios_ours_to_baseline"] = {"ask_ms_p50": round(ours_p50 / base_p50, 2), **{
                key: round(result[key] / base[key], 2) for key in RATIOS if base.get(key)}}
        else:
            result["baseline"] = bench_baseline.INSTALL_HINT if baseline else "skipped (--no-baseline)"
    result["bench_peak_rss_mb"] = _own_peak_rss_mb()
    return result


def _own_peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def format_table(result: dict[str, Any]) -> str:
    """The figures as a plain-text table: ours, the baseline, and ours/baseline."""
    m = result["machine"]
    lines = [f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, "
             f"load average {m['load_average_1min']} at start; model {result['model']}, "
             f"{result['passages']} passages", f"{'':44} {'ours':>12} {'baseline':>12} {'ours/base':>10}"]

    def row(label: str, key: str, sub: str | None = None) -> None:
        ours, base = result.get(key), result.get(f"baseline_{key}")
        if sub is not None:
            ours, base = (v[sub] if isinstance(v, dict) else None for v in (ours, base))
        ratio = f"{ours / base:.2f}" if isinstance(ours, int | float) and isinstance(base, int | float) and base else ""
        lines.append(f"{label:44} {_fmt(ours):>12} {_fmt(base):>12} {ratio:>10}")

    row("index build, fresh (s)", "build_s")
    row("rebuild after changing one file (s)", "incremental_build_s")
    row("cold start: process start to answer (s)", "cold_start_s")
    row("peak RSS of that process (MB)", "peak_rss_mb")
    for q in ("p50", "p95", "p99"):
        row(f"warm ask() {q} (ms)", "ask_ms", q)
    row("questions/s, 1 thread", "qps_1_thread")
    row("questions/s, 4 threads", "qps_4_threads")
    row(f"ask() p95 with {LOAD_THREADS} threads (ms)", "load_p95_ms")
    for direction in ("mean", "en->en", "en->de", "de->en", "de->de"):
        row(f"hit@3, test split, {direction}", "hit_at_3", direction)
    row("off-topic questions abstained (test)", "abstain_off_topic")
    if "baseline" in result:
        lines.append(result["baseline"])
    files = result.get("incremental_files")
    if files:
        lines.append(f"{files['files']} files ({files['passages']} passages): full build {files['full_build_s']} s, "
                     f"rebuild after changing one file {files['incremental_build_s']} s "
                     f"({files['ratio']:.1%} of the full build)")
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) and value < 10 else str(value)
