"""The code base stays lint-clean (ruff) and type-checks (mypy), both configured in pyproject.toml."""

from __future__ import annotations

import ast
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
    result = subprocess.run([ruff, "check", "--no-cache", "rag", "benchmarks", "tests", "app.py", "eval", "tools"],
                            cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_mypy_finds_nothing_in_the_package() -> None:
    # The files to check and the strictness come from [tool.mypy] in pyproject.toml.
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(MYPY_CACHE)], cwd=PROJECT_DIR,
                            capture_output=True, text=True, check=False)
    assert "No module named mypy" not in result.stderr, "mypy is installed by the test extra: pip install -e '.[test]'"
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def _imports(path: Path) -> list[tuple[str, bool]]:
    """Modules a file imports, each with whether the import is at module level (not inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
              for n in ast.walk(f)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) not in nested) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, id(node) not in nested))
    return found


def test_the_runtime_package_does_not_import_the_benchmarks() -> None:
    # Only the CLI's `rag bench` reaches the benchmark code, lazily, inside its function.
    for path in sorted((PROJECT_DIR / "rag").glob("*.py")):
        for module, top_level in _imports(path):
            if module.split(".")[0] == "benchmarks":
                assert path.name == "cli.py" and not top_level, f"{path.name} imports {module}"


def test_no_module_is_over_250_lines() -> None:
    for folder in ("rag", "benchmarks"):
        for path in sorted((PROJECT_DIR / folder).rglob("*.py")):  # the stage folders (rag/search, …) too
            lines = len(path.read_text(encoding="utf-8").splitlines())
            assert lines <= 250, f"{path.relative_to(PROJECT_DIR)} has {lines} lines: split it by stage"


def test_no_import_cycle_between_runtime_modules() -> None:
    # Module-level imports only: a lazy import inside a function is how a cycle is avoided on purpose.
    graph = {path.stem: {m.split(".")[1] for m, top in _imports(path) if top and m.startswith("rag.")}
             for path in (PROJECT_DIR / "rag").glob("*.py")}
    done: set[str] = set()

    def visit(node: str, stack: list[str]) -> None:
        assert node not in stack, "import cycle: " + " -> ".join([*stack[stack.index(node):], node])
        if node in done:
            return
        for nxt in graph.get(node, ()):
            visit(nxt, [*stack, node])
        done.add(node)

    for module in graph:
        visit(module, [])
