"""The ingestion fingerprint: editing any module whose code shapes what an index stores makes the index stale."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

import rag.index.build
from rag.assistant import Assistant
from rag.config import PROJECT_DIR, Settings
from rag.errors import IndexStaleError
from rag.fingerprint import PIPELINE_MODULES, pipeline_fingerprint
from rag.index import build_index
from tests.conftest import hashing_settings

RAG = PROJECT_DIR / "rag"
# Imported by ingestion modules but shaping nothing stored: the exception types, the bounded cache, and
# how file names are shown in warnings.
NOT_STORED = {"errors", "lru", "terminal"}


def rag_imports(module: str) -> set[str]:
    """The rag modules a module imports (rag.x or from rag.x import …)."""
    tree = ast.parse((RAG / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
        found |= {name[4:].replace(".", "/") for name in names if name.startswith("rag.")}
    return {f"{name}/__init__" if (RAG / name).is_dir() else name for name in found}  # a package: its __init__


def test_every_module_the_pipeline_imports_is_in_the_fingerprint() -> None:
    """How lexical.py was missed: vocabulary.py imports it. A new import must join the list too."""
    missing = {(module, imported) for module in PIPELINE_MODULES for imported in rag_imports(module)
               if imported not in PIPELINE_MODULES and imported not in NOT_STORED}
    assert not missing


@pytest.fixture
def rag_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rag"
    shutil.copytree(RAG, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.mark.parametrize(("module", "old", "new"), [
    ("profiles", '"""a an the and', '"""a an the also and'),  # one more stop word: another vocabulary
    ("vocabulary", "len(w) >= 3", "len(w) >= 4"),
    ("text", '_WORD = re.compile(r"[^\\W_]+")', '_WORD = re.compile(r"\\w+")'),  # what a word is
    ("names", '(("eo", "u"),', '(("eo", "o"),'),
    ("chunking", 'SEPARATORS = ["\\n\\n", "\\n", "; "', 'SEPARATORS = ["\\n\\n", "; "'),
    ("cleaning", "", "# a comment counts: the hash is of the source\n"),
])
def test_editing_an_ingestion_module_changes_the_fingerprint(rag_copy: Path, module: str, old: str,
                                                              new: str) -> None:
    path = rag_copy / f"{module}.py"
    source = path.read_text(encoding="utf-8")
    assert old in source, f"{module}.py changed; update this test's edit"
    path.write_text(source.replace(old, new, 1), encoding="utf-8")
    assert pipeline_fingerprint(rag_copy) != pipeline_fingerprint()


def test_an_index_built_before_a_stop_word_change_is_stale(rag_copy: Path, corpus_dir: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    settings: Settings = hashing_settings(corpus_dir, tmp_path / "index")
    build_index(settings)
    Assistant.load(settings=settings)
    lexical = rag_copy / "profiles.py"
    lexical.write_text(lexical.read_text(encoding="utf-8").replace('"""a an the and', '"""a an the also and'),
                       encoding="utf-8")
    monkeypatch.setattr(rag.index.build, "pipeline_fingerprint", lambda: pipeline_fingerprint(rag_copy))
    with pytest.raises(IndexStaleError, match="ingestion code"):
        Assistant.load(settings=settings)
