"""Bilingual (English/German) question answering with citations about the K-drama "Soundtrack #1".

Public API: ``ask``, ``add_documents``, ``Assistant``, ``Answer``, ``Passage``, ``Settings`` and the errors in
``rag.errors``. Names are imported on first use, so ``rag --help`` does not load numpy or models.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Answer": "rag.answer",
    "Passage": "rag.answer",
    "Assistant": "rag.assistant",
    "ask": "rag.assistant",
    "add_documents": "rag.assistant",
    "Settings": "rag.config",
    "RagError": "rag.errors",
    "ConfigError": "rag.errors",
    "CorpusError": "rag.errors",
    "IndexCorruptError": "rag.errors",
    "IndexNotFoundError": "rag.errors",
    "IndexStaleError": "rag.errors",
    "IndexWriteError": "rag.errors",
    "InvalidQuestionError": "rag.errors",
    "ModelError": "rag.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return __all__
