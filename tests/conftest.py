"""Shared fixtures: a corpus copy and an index built with the deterministic hashing embedder."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

# Tests never write into the repo: Hypothesis keeps its files in the temp folder, with no example
# database (pytest's cache is off in pyproject.toml).
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "rag-hypothesis"))

import pytest  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

from rag.assistant import Assistant
from rag.config import PROJECT_DIR, Settings
from rag.index import build_index

CORPUS = PROJECT_DIR / "corpus"

hypothesis_settings.register_profile("no-database", database=None)
hypothesis_settings.load_profile("no-database")

# No test may reach for a model hub; set before any test imports a model library.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _repo_entries() -> set[str]:
    """Every file and folder under the repo, bar .git and Python's bytecode caches."""
    found = set()
    for folder, dirs, files in os.walk(PROJECT_DIR):
        dirs[:] = [d for d in dirs if d not in (".git", "__pycache__")]
        found.update(os.path.relpath(os.path.join(folder, name), PROJECT_DIR) for name in dirs + files)
    return found


@pytest.fixture(scope="session", autouse=True)
def _nothing_written_into_the_repo() -> Iterator[None]:
    """Fails the run (an error after the last test) if any test left a new file or folder in the repo."""
    before = _repo_entries()
    yield
    new = sorted(_repo_entries() - before)
    assert not new, f"tests wrote into the repo (use tmp_path): {new[:10]}"


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    for key in ("RAG_CORPUS_DIR", "RAG_INDEX_DIR", "RAG_MODEL", "RAG_MIN_SCORE"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A writable copy of the real corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


def hashing_settings(corpus: Path, index: Path) -> Settings:
    # The hashing embedder is lexical, so its scores run lower than a real model's.
    return Settings(corpus_dir=corpus, index_dir=index, model="hashing", min_score=0.08,
                    min_question_score=0.1, language_margin=1.0).for_model("hashing")


@pytest.fixture(scope="session")
def hashing_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of an index of the real corpus built once per session with the hashing embedder."""
    root = tmp_path_factory.mktemp("hashing")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = hashing_settings(corpus, root / "index")
    build_index(settings)
    return settings


@pytest.fixture(scope="session")
def hashing_assistant(hashing_index: Settings) -> Assistant:
    return Assistant.load(settings=hashing_index)


def load_app() -> ModuleType:
    """app.py, imported as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("app", PROJECT_DIR / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def open_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """No question is off-topic and every side answers: the shipped confidence is fitted to e5's scores, and the
    tiny corpora of some tests would look off-topic to it."""
    import rag.search.confidence
    from rag.search.confidence import ConfidenceModel, Policy

    sure = ConfidenceModel(("top",), (0.0,), (1.0,), (0.0,), 10.0, 0.5, {})
    never = ConfidenceModel(("top",), (0.0,), (1.0,), (0.0,), -10.0, 0.5, {})
    monkeypatch.setattr(rag.search.confidence, "shipped", lambda: Policy(sure, never))


@pytest.fixture
def quick_learning(monkeypatch: pytest.MonkeyPatch) -> None:
    """`rag learn` with fewer steps and folds: the tests' tiny corpora are learned as well in a third of the time."""
    import rag.search.learn

    monkeypatch.setattr(rag.search.learn, "STEPS", 100)
    monkeypatch.setattr(rag.search.learn, "FOLDS", 3)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(assistant: Assistant, host: str = "127.0.0.1", **launch: Any) -> Iterator[str]:
    """Serve the chat page for assistant in this process; yields its URL, closes it after."""
    from rag.serve.page import create_app

    demo = create_app(assistant)
    _, url, _ = demo.launch(server_name=host, server_port=free_port(), prevent_thread_lock=True, quiet=True,
                            **launch)
    try:
        yield url
    finally:
        demo.close()
