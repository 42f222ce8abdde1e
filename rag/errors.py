"""The exception types the library raises; the CLI and the page turn them into messages."""


class RagError(Exception):
    """Base class: every error meant for the user. The message says what to do next."""


class ConfigError(RagError):
    """A setting (environment variable or argument) has an invalid value."""


class InvalidQuestionError(RagError, ValueError):
    """The question is empty, too long or not text."""


class CorpusError(RagError):
    """The corpus folder is missing, empty, or holds a file that cannot be used (with strict)."""


class IndexNotFoundError(RagError):
    """No index exists at the given folder."""


class IndexCorruptError(RagError):
    """The index is corrupted, truncated, or written by another format version or model."""


class IndexStaleError(RagError):
    """The index no longer matches the corpus it was built from, or was written by an older version."""


class IndexNotReadyError(RagError):
    """The index is still being built in the background (a page started before its index): ask again soon."""


class IndexWriteError(RagError):
    """The index folder cannot be written: disk full, read-only, no permission, or a symlink in the way.

    The previous index, if any, is left as it was.
    """


class StoreError(RagError):
    """The vector store cannot be used: a bad store address, an unreachable server, a wrong token, or a
    store holding vectors of another dimension. What can be checked before a build is checked first;
    a store that fails while it is filled leaves the index folder built and the store to fill again."""


class ModelError(RagError):
    """The embedding model cannot be loaded."""


__all__ = [
    "ConfigError",
    "CorpusError",
    "IndexCorruptError",
    "IndexNotFoundError",
    "IndexNotReadyError",
    "IndexStaleError",
    "IndexWriteError",
    "InvalidQuestionError",
    "ModelError",
    "RagError",
    "StoreError",
]
