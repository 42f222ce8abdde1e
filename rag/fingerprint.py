"""Fingerprint: a hash of the ingestion code, stored in each manifest, so an index built by other rules is stale."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

__all__ = ["PIPELINE_MODULES", "pipeline_fingerprint"]

# The modules whose code shapes what an index stores: passages, sentences, names, words (the lexical
# module's stop words and tokens decide the vocabulary), vectors. tests/test_fingerprint.py checks that
# every rag module these import is listed too.
PIPELINE_MODULES = ("profiles", "ingest/tree", "ingest/readers/__init__", "ingest/readers/base", "ingest/readers/text",
                    "ingest/readers/pdf", "ingest/readers/word", "ingest/readers/web", "cleaning", "corpus",
                    "language", "chunking", "text", "names", "lexical", "vocabulary", "embedding")


@lru_cache(maxsize=4)
def pipeline_fingerprint(folder: Path = Path(__file__).parent) -> str:
    """A hash of the ingestion code, so an index built by other rules is found stale (and rebuilt cheaply:
    unchanged texts keep their vectors).

    Args:
        folder: where the modules' sources are (the rag package; tests pass a modified copy).

    Returns:
        16 hex digits.
    """
    digest = hashlib.sha256()
    for name in PIPELINE_MODULES:
        digest.update(name.encode() + b"\0" + (folder / f"{name}.py").read_bytes() + b"\0")
    for path in sorted((folder / "words").glob("*.txt")):  # the everyday words the index gives vectors
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
