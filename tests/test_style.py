"""The code base stays lint-clean (ruff, configured in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess

from rag.config import PROJECT_DIR


def test_ruff_finds_nothing() -> None:
    ruff = shutil.which("ruff")
    assert ruff, "ruff is installed by the test extra: pip install -e '.[test]'"
    result = subprocess.run([ruff, "check", "rag", "tests", "app.py", "eval"], cwd=PROJECT_DIR,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
