"""Bilingual (English/German) question answering with citations about the K-drama "Soundtrack #1"."""

from rag.answer import Answer, Passage
from rag.assistant import Assistant, ask
from rag.config import Settings
from rag.errors import (
    ConfigError,
    CorpusError,
    IndexCorruptError,
    IndexNotFoundError,
    IndexStaleError,
    InvalidQuestionError,
    ModelError,
    RagError,
)

__all__ = [
    "Answer",
    "Assistant",
    "ConfigError",
    "CorpusError",
    "IndexCorruptError",
    "IndexNotFoundError",
    "IndexStaleError",
    "InvalidQuestionError",
    "ModelError",
    "Passage",
    "RagError",
    "Settings",
    "ask",
]
