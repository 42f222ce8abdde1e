"""Manifest: read and check an index's manifest.json, the one file that says what the index holds."""

from __future__ import annotations

import errno
import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

from rag.errors import IndexCorruptError, IndexNotFoundError, IndexStaleError

# 2: checksums of every data file; 3: each passage row counts its sentence vectors; 4: everyday words
FORMAT_VERSION = 4
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
VECTORS = "vectors.faiss"
SENTENCE_VECTORS = "sentences.faiss"
VOCABULARY = "vocabulary.json"
VOCABULARY_VECTORS = "vocabulary.faiss"
EVERYDAY = "everyday.json"
EVERYDAY_VECTORS = "everyday.faiss"
ANN = "ann.faiss"
NAMES = "names.json"  # optional: the names the build learned (else learned again on load)
# Plus ANN when nprobe is set.
DATA_FILES = (PASSAGES, VECTORS, SENTENCE_VECTORS, VOCABULARY, VOCABULARY_VECTORS, EVERYDAY, EVERYDAY_VECTORS)
DATA_NAME = re.compile(r"data-[A-Za-z0-9_-]+")  # the only folder names a manifest may point to
MAX_MANIFEST_BYTES = 256 * 2**20  # ~150 bytes a corpus file: over a million files
_SHA256 = re.compile(r"[0-9a-f]{64}")
# A model id a manifest may name: "org/name" as on a model hub, no path (see model_to_load).
_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")

FORCE = "rebuild with `rag index --force`"


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """Read and check manifest.json.

    Args:
        index_dir: the index folder.

    Returns:
        The manifest, every field the loader uses present and of the right type.

    Raises:
        IndexNotFoundError: no manifest.
        IndexStaleError: written by an older version of this program.
        IndexCorruptError: unreadable, a symlink, too large or too deeply nested, or fields missing or wrong.
    """
    from rag.files import Folder, read_bytes

    path = index_dir / MANIFEST
    try:
        with Folder(index_dir, follow=True) as folder:
            raw = read_bytes(folder, MANIFEST, None, MAX_MANIFEST_BYTES)
    except (FileNotFoundError, NotADirectoryError):
        raise IndexNotFoundError(f"no index in {index_dir}: run `rag index` to build it") from None
    except OSError as exc:
        raise IndexCorruptError(f"{path} {describe(exc)}: {FORCE}") from None
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except RecursionError:  # e.g. 100,000 nested brackets
        raise IndexCorruptError(f"{path} is nested too deeply to be a manifest: {FORCE}") from None
    except ValueError as exc:
        raise IndexCorruptError(f"{path} is unreadable ({' '.join(str(exc).split())[:120]}): {FORCE}") from None
    found = manifest.get("format_version") if isinstance(manifest, dict) else None
    if isinstance(found, int) and not isinstance(found, bool) and 0 < found < FORMAT_VERSION:
        raise IndexStaleError(f"index in {index_dir} was written by an older version of rag (format {found}, "
                              f"this one reads {FORMAT_VERSION}): {FORCE}")
    if found != FORMAT_VERSION:
        raise IndexCorruptError(f"index in {index_dir} has format version {str(found)[:20]}, this program reads "
                                f"{FORMAT_VERSION}: {FORCE}")
    _check_fields(manifest, path)
    if not DATA_NAME.fullmatch(manifest["data"]):  # e.g. "../../etc": never read outside the index folder
        raise IndexCorruptError(f"{path} names {manifest['data'][:80]!r} as its data, not a data-* folder "
                                f"of {index_dir}: {FORCE}")
    return manifest


def _check_fields(manifest: dict[str, Any], path: Path) -> None:
    kinds = {"model": str, "dim": int, "data": str, "files": dict, "passages": int, "chunking": dict,
             "languages": dict, "checksums": dict}
    for key, kind in kinds.items():
        if key not in manifest:
            raise IndexCorruptError(f"{path} lacks {key!r}: {FORCE}")
        if not isinstance(manifest[key], kind):
            raise IndexCorruptError(f"{path} has a {type(manifest[key]).__name__} for {key!r}, not a "
                                    f"{kind.__name__}: {FORCE}")
    refused = manifest.get("refused", {})  # optional: older indexes have none
    if not (isinstance(refused, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in refused.items())):
        raise IndexCorruptError(f"{path} has no valid 'refused' map: {FORCE}")
    for name in DATA_FILES + ((ANN,) if manifest.get("nprobe") else ()):
        entry = manifest["checksums"].get(name)
        if not (isinstance(entry, dict) and type(entry.get("size")) is int and entry["size"] >= 0
                and isinstance(entry.get("sha256"), str) and _SHA256.fullmatch(entry["sha256"])):
            raise IndexCorruptError(f"{path} has no valid checksum for {name}: {FORCE}")


def model_to_load(stored: str, requested: str, index_dir: Path) -> str:
    """The index's model, if it is safe to load: a built-in name or a model id, never a path from the file.

    A model the user asked for (RAG_MODEL, --model) may be a local folder; a value read from a manifest
    is used as a path only when it equals that request, so an index cannot make us read other folders.

    Args:
        stored: the manifest's model.
        requested: the model of the user's settings.
        index_dir: the index folder, for the message.

    Returns:
        stored.

    Raises:
        IndexCorruptError: stored names a path (or something that is not a model name) the user did not ask for.
    """
    from rag.embedding import BUILTIN

    if stored == requested:
        return stored
    for part in stored.split("+"):
        if part in BUILTIN:
            continue
        if not _MODEL_ID.fullmatch(part) or ".." in part or os.path.lexists(part):
            ask = f" (set RAG_MODEL={shlex.quote(stored)} if you trust it)" if stored.isprintable() else ""
            raise IndexCorruptError(
                f"index in {index_dir} names the model {stored[:120]!r}, which is not a model name and may be a "
                f"path; a path is opened only when you ask for it{ask[:200]}: {FORCE}")
    return stored


def describe(exc: OSError) -> str:
    """What went wrong with a file, in words (a symlink is named as such, not 'too many levels')."""
    if exc.errno in (errno.ELOOP, errno.EMLINK):
        return "is a symbolic link, which is never followed out of the index folder"
    if exc.errno == errno.EFBIG:
        return "is too large"
    return f"cannot be read ({exc.strerror or exc})"
