"""Start-up figures of `rag bench`: `python app.py` to its page answering HTTP 200, and `rag --help`."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.config import PROJECT_DIR

RUNS = 3  # each figure is the median of this many runs, one after the other
POLL_S = 0.05
TIMEOUT_S = 180.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # our own page, on 127.0.0.1
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def _app(env: dict[str, str], timeout: float) -> Iterator[tuple[str, Callable[[], float]]]:
    """Start `python app.py --port <free port>`; yield its URL and a clock that raises if it died or timed out.

    Raises:
        RuntimeError: the app exited, or the clock passed timeout (with the end of its stderr).
    """
    port = free_port()
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(PROJECT_DIR / "app.py"), "--port", str(port)], cwd=PROJECT_DIR,
                                env=env, stdout=subprocess.DEVNULL, stderr=err)

        def clock() -> float:
            elapsed = time.perf_counter() - t0
            if proc.poll() is not None or elapsed > timeout:
                err.seek(0)
                why = "exited" if proc.poll() is not None else f"did not answer in {timeout:.0f} s"
                raise RuntimeError(f"app.py {why}: {err.read().decode(errors='replace')[-500:]}")
            return round(elapsed, 3)

        try:
            yield f"http://127.0.0.1:{port}/", clock
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def app_ready_once(env: dict[str, str], timeout: float = TIMEOUT_S) -> float:
    """Seconds from starting `python app.py --port <free port>` to its first HTTP 200 for "/"; then stop it.

    Args:
        env: the app's environment (RAG_INDEX_DIR and RAG_CORPUS_DIR name a built index and its corpus).
        timeout: give up after this many seconds.

    Returns:
        The seconds.

    Raises:
        RuntimeError: the app exited, or did not answer in time (with the end of its stderr).
    """
    with _app(env, timeout) as (url, clock):
        while not _answers(url):
            clock()
            time.sleep(POLL_S)
        return clock()


def help_once(env: dict[str, str]) -> float:
    """Seconds of `rag --help` (run as `python -m rag.cli --help`, the worktree's code) from start to exit."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rag.cli", "--help"], cwd=PROJECT_DIR, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return round(time.perf_counter() - t0, 3)


def startup(index_dir: Path, corpus_dir: Path, runs: int | None = None) -> dict[str, Any]:
    """App ready and `rag --help`, each run `runs` times one after the other (nothing else meanwhile).

    Args:
        index_dir: a built index.
        corpus_dir: its corpus (the app checks the index is fresh).
        runs: runs of each (default RUNS).

    Returns:
        {"app_ready_s", "app_ready_runs", "help_s", "help_runs", "first_page_s", "first_answer_s",
        "first_runs"}: medians and every run's seconds; "first" is `python app.py` with no index yet, to its
        page and to its first cited answer.
    """
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir.resolve()), "RAG_CORPUS_DIR": str(corpus_dir.resolve()),
           "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("GRADIO_SERVER_PORT", None)
    runs = runs or RUNS
    ready = [app_ready_once(env) for _ in range(runs)]
    helps = [help_once(env) for _ in range(runs)]
    firsts = []
    for _ in range(runs):  # a fresh clone's start: no index yet (built behind the page)
        with tempfile.TemporaryDirectory(prefix="rag-first-") as empty:
            firsts.append(first_start_once({**env, "RAG_INDEX_DIR": str(Path(empty) / "index")}))
    return {"app_ready_s": round(statistics.median(ready), 3), "app_ready_runs": ready,
            "help_s": round(statistics.median(helps), 3), "help_runs": helps,
            "first_page_s": round(statistics.median(f["page_s"] for f in firsts), 3),
            "first_answer_s": round(statistics.median(f["answer_s"] for f in firsts), 3), "first_runs": firsts}


def _cited(url: str, question: str) -> bool:
    """True when `/ask` answers question with at least one passage (False while the index is prepared)."""
    import json

    body = json.dumps({"data": [question]}).encode()
    request = urllib.request.Request(url + "gradio_api/call/ask", body, {"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # our own page, on 127.0.0.1
            event = json.loads(response.read())["event_id"]
        with urllib.request.urlopen(f"{url}gradio_api/call/ask/{event}", timeout=30) as stream:
            return '"passages": [{' in stream.read().decode(errors="replace")
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return False


def first_start_once(env: dict[str, str], timeout: float = TIMEOUT_S) -> dict[str, float]:
    """A fresh start: `python app.py` on an empty index folder, to its page (HTTP 200) and its first cited answer.

    Args:
        env: the app's environment; RAG_INDEX_DIR names a folder with no index yet.
        timeout: give up after this many seconds.

    Returns:
        {"page_s", "answer_s"}: seconds from starting the app.
    """
    seen: dict[str, float] = {}
    with _app(env, timeout) as (url, clock):
        while "answer_s" not in seen:
            now = clock()
            if "page_s" not in seen and _answers(url):
                seen["page_s"] = now
            if "page_s" in seen and _cited(url, "Wer führte Regie?"):
                seen["answer_s"] = clock()
            time.sleep(0.2)
    return seen
