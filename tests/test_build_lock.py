"""The build lock (rag.writer.build_lock, on filelock): one build per index folder, across threads and processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from rag.writer import LOCK, build_lock

# Exit code 3: the lock was free; 4: another process holds it (filelock's Timeout with timeout=0: one try).
TRY_LOCK = """
import sys
from filelock import FileLock, Timeout
try:
    FileLock(sys.argv[1]).acquire(timeout=0)
except Timeout:
    sys.exit(4)
sys.exit(3)
"""


def other_process_gets_the_lock(index: Path) -> bool:
    code = subprocess.run([sys.executable, "-c", TRY_LOCK, str(index / LOCK)], check=False).returncode
    assert code in (3, 4), code
    return code == 3


def test_another_process_waits_while_a_build_holds_the_lock(tmp_path: Path) -> None:
    index = tmp_path / "index"
    with build_lock(index):
        assert (index / LOCK).is_file()
        assert not other_process_gets_the_lock(index)
    assert other_process_gets_the_lock(index)  # released on exit; the file stays (unlinking it would race)
    assert (index / LOCK).is_file()


def test_builds_in_threads_take_turns(tmp_path: Path) -> None:
    index = tmp_path / "index"
    events: list[str] = []

    def build(name: str) -> None:
        with build_lock(index):
            events.append(f"{name} in")
            time.sleep(0.05)  # give the other thread the chance to barge in, which it must not take
            events.append(f"{name} out")

    threads = [threading.Thread(target=build, args=(str(n),)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(events) == 6
    for n in range(0, 6, 2):  # every "in" is followed by the same build's "out"
        assert events[n].endswith(" in") and events[n + 1] == events[n].replace(" in", " out")
