"""Tree: the corpus folder walked without recursion and read without ever following a link out of it.

Listing a file and reading it are separate moments: a name listed as a regular file may be swapped for a
symlink before it is read. So reading never trusts the listing: read_source opens every folder of the path
relative to the one before it (O_NOFOLLOW, O_DIRECTORY) and the file itself with O_NOFOLLOW, then checks the
open descriptor. What is read is what lies inside the tree at the moment of reading, or nothing.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from rag.ingest.readers import reader_for

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_DEPTH = 64  # folders below the corpus folder; deeper ones are reported, not walked

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a named pipe put in a file's place must not block us
_DIR_FD = os.open in os.supports_dir_fd and bool(_NOFOLLOW)


@dataclass(frozen=True)
class Skipped:
    """A corpus entry left out, and why (in words a user can act on)."""

    source: str  # relative to the corpus folder, "/"-separated; undecodable bytes as surrogate escapes
    reason: str
    sha256: str = ""  # of its content, when it was read and refused by its reader


@dataclass(frozen=True)
class Listing:
    """What a walk of the corpus folder found: the text files to read, and everything left out."""

    sources: tuple[str, ...]  # sorted
    skipped: tuple[Skipped, ...]  # links, special files, folders too deep, files too big
    others: tuple[str, ...]  # regular files of kinds no reader takes (.xlsx, .png): not read


def walk(corpus_dir: Path, max_depth: int | None = None, limit: int | None = None) -> Listing:
    """List the corpus folder's files, iteratively (no recursion limit); hidden names are passed over.

    Args:
        corpus_dir: the corpus folder (it may itself be a symlink: it is the user's choice).
        max_depth: folders nested deeper than this are reported as skipped (default MAX_DEPTH).
        limit: files larger than this many bytes are reported as skipped (default MAX_FILE_BYTES).

    Returns:
        The Listing. Nothing is followed: a symlink is reported, whatever it points at.
    """
    max_depth = MAX_DEPTH if max_depth is None else max_depth
    limit = MAX_FILE_BYTES if limit is None else limit
    sources: list[str] = []
    skipped: list[Skipped] = []
    others: list[str] = []
    stack: list[tuple[str, int]] = [("", 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(corpus_dir / folder if folder else corpus_dir) as entries:
                listed = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(folder or ".", f"cannot list the folder ({exc.strerror or exc})"))
            continue
        for entry in listed:
            if entry.name.startswith("."):
                continue
            source = f"{folder}/{entry.name}" if folder else entry.name
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                skipped.append(Skipped(source, f"cannot read it ({exc.strerror or exc})"))
                continue
            if stat.S_ISDIR(info.st_mode):
                if depth >= max_depth:
                    skipped.append(Skipped(source, f"nested deeper than {max_depth} folders; move it up"))
                else:
                    stack.append((source, depth + 1))
            elif stat.S_ISLNK(info.st_mode):
                skipped.append(Skipped(source, _LINK_TO_FOLDER if _points_to_folder(entry) else _LINK))
            elif not stat.S_ISREG(info.st_mode):
                skipped.append(Skipped(source, "not a regular file"))
            elif reader_for(entry.name) is None:
                others.append(source)
            elif info.st_size > limit:
                skipped.append(Skipped(source, f"larger than {limit // 2**20} MiB"))
            else:
                sources.append(source)
    return Listing(tuple(sorted(sources)), tuple(sorted(skipped, key=lambda s: s.source)), tuple(sorted(others)))


_LINK = "a symbolic link, never followed (copy the file into the corpus folder instead)"
_LINK_TO_FOLDER = "a link to a folder, never followed"


def _points_to_folder(entry: os.DirEntry[str]) -> bool:
    """Whether a symlink leads to a folder (stat only: nothing behind it is opened or read)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def read_source(corpus_dir: Path, source: str, limit: int | None = None) -> bytes:
    """The bytes of one corpus file, opened inside the tree without following any link on the way.

    Args:
        corpus_dir: the corpus folder.
        source: the file's path relative to it, "/"-separated (as walk lists it).
        limit: refuse files larger than this many bytes (default MAX_FILE_BYTES).

    Returns:
        Its bytes.

    Raises:
        OSError: missing, unreadable, a link anywhere on the path (ELOOP), not a regular file, or over limit.
    """
    limit = MAX_FILE_BYTES if limit is None else limit
    parts = source.split("/")
    if not source or any(part in ("", ".", "..") for part in parts):
        raise OSError(errno.EINVAL, "not a path inside the corpus folder", source)
    fd = _open_file(corpus_dir, parts)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", source)
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit // 2**20} MiB", source)
        blocks, total = [], 0
        while block := os.read(fd, 1 << 20):
            blocks.append(block)
            total += len(block)
            if total > limit:  # grew since fstat
                raise OSError(errno.EFBIG, f"larger than {limit // 2**20} MiB", source)
    finally:
        os.close(fd)
    return b"".join(blocks)


def _open_file(corpus_dir: Path, parts: list[str]) -> int:
    """A descriptor of corpus_dir/parts…, each component opened relative to its folder, none through a link."""
    flags = os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _NONBLOCK
    if not _DIR_FD:  # no openat here: check every component, then open (a narrow window remains)
        path = corpus_dir
        for part in parts:
            path = path / part
            if path.is_symlink():
                raise OSError(errno.ELOOP, "is a symbolic link, never followed", str(path))
        return os.open(path, flags)
    folder = os.open(corpus_dir, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        for part in parts[:-1]:
            inner = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=folder)
            os.close(folder)
            folder = inner
        return os.open(parts[-1], flags, dir_fd=folder)
    finally:
        os.close(folder)
