"""`rag bench`: build, cold start, interleaved latency/quality/throughput against the floor and LangChain, start-up.

Everything is measured in one run on this machine: a fresh index of the corpus in a temporary
folder; then the eval questions (both languages) through ours (Assistant.ask), the bare search
with the same model (benchmarks.bare) and, when the bench extra is installed, LangChain's FAISS
store and its BM25 + FAISS EnsembleRetriever (benchmarks.baseline), taking turns question by
question (benchmarks.interleaved); then how fast `python app.py` serves its page (benchmarks.ready).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.machine import load_average, machine
from benchmarks.report import format_table
from rag.config import PROJECT_DIR, Settings
from rag.evaluation import DEFAULT_SET, LANGS, load_set

if TYPE_CHECKING:
    from benchmarks.baseline import Baseline
    from rag.assistant import Assistant

__all__ = ["format_table", "machine", "run"]  # format_table: where rag.cli finds it

QUESTION = "Wer führte Regie?"
OURS, BARE, FAISS_STORE, ENSEMBLE = "ours", "bare", "langchain_faiss", "langchain_ensemble"
PLAIN = "ours_no_adapter"  # the same index and settings with plain question vectors: what the adapter costs
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


def build_ours(settings: Settings, tmp: Path, index_dir: Path | None,
               progress: bool) -> tuple[dict[str, Any], Assistant, Settings]:
    """Our build of a fresh copy of the corpus and cold start; the loaded assistant and the measured settings."""
    from rag.assistant import Assistant
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
    out["model"], out["passages"] = assistant.settings.model, len(assistant.index.chunks)
    return out, assistant, measured


def build_langchain(settings: Settings, tmp: Path, assistant: Assistant) -> tuple[dict[str, Any], Baseline]:
    """The LangChain FAISS store's build (it embeds every passage itself) and cold start, with our model."""
    from benchmarks.baseline import Baseline, cold_start_code

    model = assistant.settings.model
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    baseline = Baseline.build(settings.with_(model=model), assistant.retriever.embedder)
    out["build_s"] = round(time.perf_counter() - t0, 3)
    baseline.save(tmp / "baseline")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out["cold_start_s"], out["peak_rss_mb"] = cold_start(cold_start_code(tmp / "baseline", model), env)
    return out, baseline


QUICK_THROUGHPUT = 160  # questions per system and thread count for throughput, unless --full
ASK_S = 0.02  # a rough cost of one ask, for the estimate printed at the start
FIXED_S = 45.0  # build, cold starts, the baselines' build, start-up runs: roughly


def plan(items: list[Any], full: bool, systems: int) -> tuple[list[Any], int, float]:
    """The eval items to interleave, the questions for throughput, and a rough estimate of the seconds."""
    from benchmarks.interleaved import THREADS

    chosen = items if full or not any(item.split == "test" for item in items) else [
        item for item in items if item.split == "test"]
    questions = 2 * len(items) if full else min(QUICK_THROUGHPUT, 2 * len(chosen))
    asks = 2 * len(chosen) * systems + questions * 2 * len(THREADS)
    return chosen, questions, FIXED_S + asks * ASK_S


def run(settings: Settings, index_dir: Path | None = None, baseline: bool = True, files: int = 0,
        eval_set: Path = DEFAULT_SET, progress: bool = True, ready: bool = True, full: bool = False) -> dict[str, Any]:
    """All figures of `rag bench` as one dict (see README, Performance).

    Args:
        settings: the settings (model, corpus).
        index_dir: measure asks on this index instead of the fresh one.
        baseline: include the LangChain baselines (when installed).
        files: synthetic files for the many-files update figure (0: skip).
        eval_set: the questions.
        progress: progress bars on stderr.
        ready: measure `python app.py` to its page, and `rag --help`.
        full: every eval question and all of them for throughput (default: the test split, and the first
            QUICK_THROUGHPUT questions for throughput).

    Returns:
        The figures; "interleaved" and "throughput" hold every system's.
    """
    from benchmarks import baseline as bench_baseline
    from benchmarks.bare import BareSearch
    from benchmarks.interleaved import compare, throughput
    from benchmarks.synthetic import extend_file
    from rag.assistant import Assistant
    from rag.corpus import SUFFIXES
    from rag.index import build_index

    result: dict[str, Any] = {"machine": machine()}
    items, many, estimate = plan(load_set(eval_set), full, 5 if baseline else 3)
    if progress:
        more = "" if full else "; --full: every question, about 15 minutes"
        print(f"rag bench: about {max(1, round(estimate / 60))} minute(s) on 2 cores{more}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as folder:
        tmp = Path(folder)
        ours, assistant, measured = build_ours(settings, tmp / "ours", index_dir, progress)
        result.update(ours)
        embedder = assistant.retriever.embedder
        bare = BareSearch(assistant.index, embedder)
        systems = {OURS: lambda q: assistant.ask(q, k=3), BARE: lambda q: bare.ask(q, k=3)}
        if not assistant.retriever.adapter.identity:
            plain = Assistant(assistant.index, embedder, assistant.settings.with_(adapter=0), live=False)
            systems[PLAIN] = lambda q: plain.ask(q, k=3)
        base: Baseline | None = None
        if baseline and bench_baseline.available():
            figures, store = build_langchain(measured, tmp / "langchain", assistant)
            result.update({f"baseline_{key}": value for key, value in figures.items()})
            ensemble = bench_baseline.Ensemble.build(store, embedder, k=3)
            base = store
            systems[FAISS_STORE] = lambda q: store.ask(q, k=3)
            systems[ENSEMBLE] = lambda q: ensemble.ask(q, k=3)
        else:
            result["baseline"] = bench_baseline.INSTALL_HINT if baseline else "skipped (--no-baseline)"
        result["interleaved"] = compare(systems, items, progress)
        questions = [item.questions[lang] for item in items for lang in LANGS][:many]
        result["throughput"] = throughput({OURS: systems[OURS], BARE: systems[BARE]}, questions, progress=progress)
        fresh = settings.with_(corpus_dir=tmp / "ours" / "corpus", index_dir=tmp / "ours" / "index")
        extend_file(sorted(p for p in fresh.corpus_dir.rglob("*") if p.suffix in SUFFIXES)[0])  # one changed file
        result["incremental_build_s"] = _seconds(lambda: build_index(fresh, embedder=embedder))
        if base is not None:  # LangChain has no incremental build: it rebuilds
            result["baseline_incremental_build_s"] = _seconds(
                lambda: bench_baseline.Baseline.build(measured, embedder))
        if files:
            from benchmarks.scale import files_incremental

            result["incremental_files"] = files_incremental(settings, tmp / "files", files, progress)
        if ready:  # the measured index is up to date: the fresh one was just rebuilt after the change
            from benchmarks.ready import startup

            result.update(startup(measured.index_dir, measured.corpus_dir))
    result["load_average_end_1min"] = load_average()
    result["bench_peak_rss_mb"] = _own_peak_rss_mb()
    return result


def _own_peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
