"""Writer: a new index version written beside the old one and switched in atomically, one build at a time.

Only what this program made is ever removed; a write that fails (disk full, read-only folder) removes
its own partial files, leaves the previous index as it was, and raises IndexWriteError.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag import ann
from rag.chunking import Chunk
from rag.corpus import Document
from rag.errors import IndexWriteError
from rag.files import Folder, write_faiss, write_new
from rag.ingest.parsed import PARSED, write_parsed
from rag.manifest import (
    ANN,
    DATA_FILES,
    EVERYDAY,
    EVERYDAY_VECTORS,
    MANIFEST,
    NAMES,
    PASSAGES,
    SENTENCE_VECTORS,
    VECTORS,
    VOCABULARY,
    VOCABULARY_VECTORS,
)

LOCK = ".build.lock"  # held while a build writes or cleans up: one writer per index folder
BUILT_NAME = re.compile(r"data-\d{8}T\d{6}-[0-9a-f]{6}")  # the names write_index_files gives its folders
_TMP_MANIFEST = re.compile(re.escape(f".{MANIFEST}.") + r"\d+\.tmp|\.write-probe\.[0-9a-f]{32}\.tmp")
_OURS = {*DATA_FILES, ANN, NAMES, PARSED}  # a data folder holding anything else was not made by us: never removed
_CHUNK_FIELDS = tuple(f.name for f in fields(Chunk))


def write_index_files(index_dir: Path, manifest: dict[str, Any], chunks: list[Chunk], sentence_counts: list[int],
                      vectors: np.ndarray, sentence_vectors: np.ndarray, vocabulary: dict[str, list[str]],
                      vocab_vectors: np.ndarray, everyday: list[str], everyday_vectors: np.ndarray,
                      documents: Sequence[Document] = (), names: dict[str, str] | None = None) -> None:
    """Write data into a fresh folder, then switch manifest.json to it in one atomic rename.

    documents: the parsed corpus files, kept so that the next build reads only changed files
    (rag.ingest.parsed); none: no such file. names: the names the build learned (NameNormalizer.canonical),
    kept so that loading does not learn them again; None: no such file.

    sentence_counts[i] is how many rows of sentence_vectors (consecutive, in chunk order) are chunk i's
    sentences; each passage row stores it, so the link is explicit and checked on load.

    A build killed at any moment leaves the previous manifest, and the data it names, intact; one that
    fails to write (disk full, read-only) removes what it wrote and raises IndexWriteError. Every file and
    both folders are fsynced before the rename, and the index folder after it, so a power cut leaves the
    old index or the complete new one.
    """
    import faiss

    data = f"data-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    tmp = f".{MANIFEST}.{os.getpid()}.tmp"
    try:
        (index_dir / data).mkdir()
        checksums = {}
        with Folder(index_dir / data) as folder:
            checksums[PASSAGES] = write_new(folder, PASSAGES,
                                            lambda write: _write_chunks(write, chunks, sentence_counts))
            exact = faiss.IndexFlatIP(vectors.shape[1])  # the exact vectors, read back as a matrix
            exact.add(vectors)
            checksums[VECTORS] = write_faiss(folder, VECTORS, exact)
            del exact
            if ann.ann_plan(len(vectors)) is not None:
                checksums[ANN] = write_faiss(folder, ANN, ann.make_faiss(vectors))
            for name, matrix in ((SENTENCE_VECTORS, sentence_vectors), (VOCABULARY_VECTORS, vocab_vectors),
                                 (EVERYDAY_VECTORS, everyday_vectors)):
                flat = faiss.IndexFlatIP(vectors.shape[1])  # read back as a matrix
                flat.add(np.ascontiguousarray(matrix, dtype=np.float32).reshape(-1, vectors.shape[1]))
                checksums[name] = write_faiss(folder, name, flat)
            checksums[VOCABULARY] = write_new(folder, VOCABULARY, json.dumps(vocabulary, ensure_ascii=False).encode())
            checksums[EVERYDAY] = write_new(folder, EVERYDAY, json.dumps(everyday, ensure_ascii=False).encode())
            if names is not None:
                checksums[NAMES] = write_new(folder, NAMES, json.dumps(names, ensure_ascii=False).encode())
            if documents:
                checksums[PARSED] = write_new(folder, PARSED, lambda write: write_parsed(write, documents))
            folder.sync()  # each file was fsynced as written; now their names in the data folder
        # ASCII JSON (\u escapes): a file name that is not UTF-8 (surrogate escapes in Python) round-trips.
        text = json.dumps({**manifest, "data": data, "checksums": checksums}, indent=2)
        with Folder(index_dir, follow=True) as top:
            top.unlink(tmp)  # left by a killed build whose process id was ours
            write_new(top, tmp, text.encode())  # fsynced
            top.sync()  # the data folder's and the temp file's names, before the rename may reach the disk
            top.replace(tmp, MANIFEST)
            top.sync()  # the rename itself: after a power cut the new index is there, or the old one
    except OSError as exc:
        shutil.rmtree(index_dir / data, ignore_errors=True)  # the partial data; frees what a full disk took
        with suppress(OSError), Folder(index_dir, follow=True) as top:
            top.unlink(tmp)
        raise _write_error(index_dir, exc) from None
    remove_leftovers(index_dir, data)


def _write_chunks(write: Callable[[bytes], None], chunks: list[Chunk], sentence_counts: list[int]) -> None:
    """The passages as JSON lines, one write per line (a big corpus is never held as one string).

    ASCII JSON: a source name that is not UTF-8 (surrogate escapes) is stored as \\u escapes and read back the same.
    """
    for chunk, sentences in zip(chunks, sentence_counts, strict=True):
        row = {field: getattr(chunk, field) for field in _CHUNK_FIELDS}  # asdict() copied deeply: 4x slower
        write((json.dumps({**row, "sentences": sentences}) + "\n").encode())


def _write_error(index_dir: Path, exc: OSError) -> IndexWriteError:
    """One line naming the folder, the cause and what to do."""
    name = Path(exc.filename or "").name or "a file"
    causes = {errno.ENOSPC: ("the disk is full", "free disk space"),
              errno.EROFS: ("the file system is read-only", "make it writable or pick another folder with --index"),
              errno.EACCES: ("permission denied", "make the folder writable or pick another with --index"),
              errno.ELOOP: (f"{name} is a symbolic link (never followed)", f"remove the link {name}")}
    causes[errno.EPERM] = causes[errno.EACCES]
    causes[errno.ENOTDIR] = (
        f"{exc.filename or index_dir} is a file, not a folder", "pick another folder with --index")
    if hasattr(errno, "EDQUOT"):
        causes[errno.EDQUOT] = ("the disk quota is used up", "free disk space")
    cause, advice = causes.get(exc.errno or 0, (exc.strerror or str(exc), "check the folder"))
    return IndexWriteError(f"cannot write the index in {index_dir}: {cause}; any index already there is unchanged: "
                           f"{advice}, then run `rag index` again")


PROBE_BYTES = 1 << 20  # a build that cannot write this much would fail at the end anyway


def check_writable(index_dir: Path) -> None:
    """Make sure the index folder can be created and written, before minutes of embedding.

    Writes and removes a small probe file (never through a symlink), so a path that is a file, a
    read-only folder or a full disk is reported at once.

    Raises:
        IndexWriteError: naming the cause and what to do.
    """
    probe = f".write-probe.{uuid.uuid4().hex}.tmp"
    try:
        if index_dir.exists() and not index_dir.is_dir():
            raise OSError(errno.ENOTDIR, "not a folder", str(index_dir))
        index_dir.mkdir(parents=True, exist_ok=True)
        with Folder(index_dir, follow=True) as folder:
            try:
                write_new(folder, probe, bytes(PROBE_BYTES))
            finally:
                with suppress(OSError):
                    folder.unlink(probe)
    except OSError as exc:
        raise _write_error(index_dir, exc) from None


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's write lock, waiting for a running build to finish first.

    filelock takes an OS lock on the file (flock on POSIX, a byte-range lock on Windows), which the OS
    releases when a killed build's process dies; it opens the lock file without following a symlink (O_NOFOLLOW, or
    refusing a reparse point on Windows), so a planted link creates nothing outside the index folder.

    Raises:
        IndexWriteError: the folder or its lock file cannot be created (read-only, full, a symlink).
    """
    from filelock import FileLock

    lock = FileLock(index_dir / LOCK)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except OSError as exc:
        raise _write_error(index_dir, exc) from None
    try:
        yield
    finally:
        lock.release()


def remove_leftovers(index_dir: Path, keep: str) -> None:
    """Delete the data folders of earlier builds, and what builds killed part-way left behind.

    Only folders this program made are removed: named as write_index_files names them and holding
    nothing but index files (a user's data-analysis/ stays, and so does a data folder someone put a file
    of their own in). Call with the build lock held, so no running build's files are taken.

    Args:
        index_dir: the index folder.
        keep: the data folder the manifest names now.
    """
    with suppress(OSError):  # tidying up is best effort: a folder we cannot list or change keeps its files
        for old in index_dir.iterdir():
            if old.name == keep or not BUILT_NAME.fullmatch(old.name) or old.is_symlink() or not old.is_dir():
                continue
            with suppress(OSError):
                if {p.name for p in old.iterdir()} <= _OURS:
                    shutil.rmtree(old, ignore_errors=True)
        for tmp in index_dir.iterdir():
            if _TMP_MANIFEST.fullmatch(tmp.name) and not tmp.is_dir():
                with suppress(OSError):
                    tmp.unlink()
