"""Intake: copy a user's documents into the corpus folder — checked, under a safe name, never over a file.

A file is read once (no link followed, regular files only, within the size limit), checked by its reader
(a broken, encrypted or empty file is refused here, before anything is written), and written to the corpus
folder's top level through a hidden temporary name that is then linked to its final name: a name that
exists is never replaced, and nothing is written anywhere else.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from rag.corpus import content_hash, corpus_state, extracted
from rag.errors import CorpusError
from rag.ingest.readers import SUFFIXES, reader_for
from rag.ingest.tree import MAX_FILE_BYTES, Skipped

MAX_FILES = 20  # files per call: an upload or `rag add` of more is refused whole, with the count
MAX_NAME_BYTES = 180  # a name's stem, in UTF-8: room for "-999", a suffix and the temporary name's parts
_UNSAFE = re.compile(r"[^\w.\- ]+")  # letters and digits of any script, dot, dash, underscore, space
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Intake:
    """What an add did: the corpus names written, and each file refused with its reason."""

    added: tuple[str, ...]
    refused: tuple[Skipped, ...]


def safe_name(name: str) -> str:
    """A file name that is one plain name in the corpus folder: no folders, no dots first, no odd characters.

    Args:
        name: the name the user's file had (any folders in it are dropped).

    Returns:
        The sanitised name, suffix kept in lower case, at most 120 characters.
    """
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _UNSAFE.sub("_", stem).strip(" ._-")[:100] or "document"
    while len(stem.encode("utf-8")) > MAX_NAME_BYTES:  # file systems count bytes: 100 Hangul are 300
        stem = stem[:-1]
    suffix = _UNSAFE.sub("", suffix).lower()[:10]
    return f"{stem}.{suffix}" if suffix else stem


def add_files(paths: Sequence[Path], corpus_dir: Path, known: dict[str, str] | None = None,
              limit: int = MAX_FILE_BYTES, max_files: int = MAX_FILES) -> Intake:
    """Copy readable documents into the corpus folder; refuse the rest, each with its reason.

    Args:
        paths: the files to add (an upload's temporary files, or `rag add`'s arguments).
        corpus_dir: the corpus folder (it must exist).
        known: source → SHA-256 of the files already in the corpus: an identical file is not added twice
            (default: every file there, hashed, none parsed).
        limit: the largest file accepted, in bytes.
        max_files: the most files one call takes.

    Returns:
        The Intake.

    Raises:
        CorpusError: too many files, or the corpus folder is missing.
    """
    if len(paths) > max_files:
        raise CorpusError(f"{len(paths)} files at once: add at most {max_files} per call")
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist: create it first")
    if known is None:
        known = corpus_state(corpus_dir, parse=False).files or {}
    seen = {sha: source for source, sha in known.items()}
    added: list[str] = []
    refused: list[Skipped] = []
    for path in paths:
        name = safe_name(path.name)
        try:
            data = _read_file(path, limit)
            if reader_for(name) is None:
                raise CorpusError(f"not a kind of document this assistant reads ({', '.join(sorted(SUFFIXES))})")
            extracted(name, data)  # refused now if unreadable (and remembered for the build that follows)
            sha = content_hash(data)
            if sha in seen:
                raise CorpusError(f"already in the corpus as {seen[sha]}")
            final = _write_new(corpus_dir, name, data)
        except CorpusError as exc:
            refused.append(Skipped(path.name, str(exc)))
            continue
        except OSError as exc:
            why = "a symbolic link: add the file itself" if exc.errno == errno.ELOOP else (
                f"cannot add it ({exc.strerror or exc})")
            refused.append(Skipped(path.name, why))
            continue
        seen[sha] = final
        added.append(final)
    return Intake(tuple(added), tuple(refused))


def _read_file(path: Path, limit: int) -> bytes:
    """A user's file, if it is a regular file (not through a link) of at most limit bytes."""
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CorpusError("not a regular file")
        if info.st_size > limit:
            raise CorpusError(f"larger than {limit // 2**20} MiB")
        parts, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            parts.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew since fstat
                raise CorpusError(f"larger than {limit // 2**20} MiB")
        return b"".join(parts)
    finally:
        os.close(fd)


def _write_new(corpus_dir: Path, name: str, data: bytes) -> str:
    """Write data as a new file at the corpus folder's top level: name, else name-2, name-3 … (never replaced)."""
    folder = os.open(corpus_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC)
    temporary = f".{secrets.token_hex(8)}.part"  # hidden (a build running meanwhile does not list it) and new
    created = False
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o644, dir_fd=folder)
        created = True
        try:
            view = memoryview(data)
            while view:  # os.write may write less than asked
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        stem, dot, suffix = name.rpartition(".")
        for n in range(1, 1000):
            final = name if n == 1 else (f"{stem}-{n}.{suffix}" if dot else f"{name}-{n}")
            try:
                os.link(temporary, final, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=False)
                return final
            except FileExistsError:
                continue
        raise OSError(errno.EEXIST, "no free name", name)
    finally:
        if created:  # never a file someone else made under that name
            with suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=folder)
        os.close(folder)
