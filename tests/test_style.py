"""The code base stays lint-clean (ruff) and type-checks (mypy), both configured in pyproject.toml."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rag.config import PROJECT_DIR

# mypy's cache lives in the temp folder, never in the repo; it is kept between runs there, since a cold
# check takes ~15 s on 2 cores and a warm one under 1 s. One per checkout: clones do not overwrite each other's.
MYPY_CACHE = Path(tempfile.gettempdir()) / f"rag-mypy-cache-{hashlib.sha256(bytes(PROJECT_DIR)).hexdigest()[:8]}"


def test_ruff_finds_nothing() -> None:
    ruff = shutil.which("ruff")
    assert ruff, "ruff is installed by the test extra: pip install -e '.[test]'"
    result = subprocess.run([ruff, "check", "--no-cache", "rag", "tests", "app.py", "eval"], cwd=PROJECT_DIR,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_mypy_finds_nothing_in_the_package() -> None:
    # The files to check and the strictness come from [tool.mypy] in pyproject.toml.
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(MYPY_CACHE)], cwd=PROJECT_DIR,
                            capture_output=True, text=True, check=False)
    assert "No module named mypy" not in result.stderr, "mypy is installed by the test extra: pip install -e '.[test]'"
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout
