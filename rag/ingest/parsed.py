"""Parsed documents kept with the index, so a build reads again only the files whose content changed.

A build stores every usable file as its reader and the cleaning left it (text, language, blocks, places;
before corpus-wide de-duplication) in `documents.jsonl` beside the vectors, checksummed in the manifest
like them. The next build takes a file whose SHA-256 is listed from there instead of extracting,
cleaning and detecting languages again (at 20,000 passages that was over a third of a one-file rebuild).
The store is only a shortcut: an index without it, built by other ingestion code, or failing any check
gives nothing, and every file is read as if new.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rag.cleaning import Block, collapse
from rag.corpus import Document
from rag.errors import RagError
from rag.files import Folder, read_bytes
from rag.fingerprint import pipeline_fingerprint
from rag.ingest.readers.base import Place
from rag.manifest import read_manifest

PARSED = "documents.jsonl"
log = logging.getLogger("rag")


def write_parsed(write: Callable[[bytes], None], docs: Iterable[Document]) -> None:
    """One JSON line per document, keyed by its content hash (its file name is not kept: a renamed file
    is the same document)."""
    for doc in docs:
        row = {"sha256": doc.sha256, "lang": doc.lang, "raw": doc.raw,
               "blocks": [[b.start, b.end, b.lang, b.heading] for b in doc.blocks],
               "places": [[p.start, p.label] for p in doc.places]}
        write(json.dumps(row, ensure_ascii=False).encode() + b"\n")


def load_parsed(index_dir: Path) -> dict[str, Document]:
    """The documents the index in index_dir was built from, by SHA-256 ({} when there are none to trust).

    Their `source` is empty: Document.named gives one the name of the file it is found in now.
    """
    try:
        manifest = read_manifest(index_dir)
        entry = manifest["checksums"].get(PARSED)
        if entry is None or manifest.get("pipeline") != pipeline_fingerprint():
            return {}
        with Folder(index_dir / manifest["data"]) as folder:
            data = read_bytes(folder, PARSED, entry, int(entry["size"]))
        return {doc.sha256: doc for doc in map(_document, data.decode().splitlines())}
    except (RagError, OSError, ValueError, KeyError, TypeError) as exc:  # a shortcut: never a reason to fail
        log.debug("parsed documents not reused: %s", exc)
        return {}


def _document(line: str) -> Document:
    """One stored line, checked: offsets inside the text, strings where strings belong.

    Raises:
        ValueError, KeyError, TypeError: malformed.
    """
    row: dict[str, Any] = json.loads(line)
    raw, sha, lang = row["raw"], row["sha256"], row["lang"]
    if not all(isinstance(v, str) for v in (raw, sha, lang)) or len(sha) != 64:
        raise ValueError("a stored document's text, hash and language must be strings")
    blocks = []
    for start, end, block_lang, heading in row["blocks"]:
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(raw)
                and isinstance(block_lang, str) and isinstance(heading, str)):
            raise ValueError("a stored block must lie inside its document")
        blocks.append(Block("", start, end, collapse(raw[start:end]), block_lang, heading))
    places = []
    for start, label in row["places"]:
        if not (isinstance(start, int) and 0 <= start <= len(raw) and isinstance(label, str)):
            raise ValueError("a stored place must lie inside its document")
        places.append(Place(start, label))
    return Document("", raw, sha, lang, tuple(blocks), tuple(places))

