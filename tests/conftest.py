"""Shared fixtures: a corpus copy and an index built with the deterministic hashing embedder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.config import PROJECT_DIR, Settings
from rag.index import build_index

CORPUS = PROJECT_DIR / "corpus"

# No test may reach for a model hub; set before any test imports a model library.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


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
                    min_question_score=0.1, language_margin=1.0)


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
