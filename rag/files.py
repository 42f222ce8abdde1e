"""Files: index files opened inside their folder without following symlinks, read and written with checksums."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a named pipe put in a file's place must not block us
_DIR_FD = os.open in os.supports_dir_fd and bool(_NOFOLLOW)  # else paths, with a symlink check first
BLOCK = 1 << 20


class ChecksumError(ValueError):
    """A file's size or hash differs from what the manifest recorded when it was written."""


def symlink_error(path: Path) -> OSError:
    return OSError(errno.ELOOP, "is a symbolic link, which is never followed out of the index folder", str(path))


class Folder:
    """A folder opened once; files are opened relative to it and never through a symlink.

    Args:
        path: the folder.
        follow: whether path itself may be a symlink (the user's own index folder may be).
    """

    def __init__(self, path: Path, follow: bool = False) -> None:
        self.path = path
        if not follow and path.is_symlink():
            raise symlink_error(path)
        self.fd = os.open(path, os.O_RDONLY | _DIRECTORY | _CLOEXEC | (0 if follow else _NOFOLLOW)) if _DIR_FD else None

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def open(self, name: str, flags: int, mode: int = 0o644) -> int:
        """os.open of a file in this folder, refusing a symlink (ELOOP)."""
        flags |= _NOFOLLOW | _CLOEXEC
        if self.fd is not None:
            return os.open(name, flags, mode, dir_fd=self.fd)
        if (self.path / name).is_symlink():
            raise symlink_error(self.path / name)
        return os.open(self.path / name, flags, mode)

    def same_file(self, name: str, info: os.stat_result) -> bool:
        """Whether name still is the file info describes (and not a symlink)."""
        if self.fd is not None:
            now = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        else:
            now = os.lstat(self.path / name)
        return (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino) and stat.S_ISREG(now.st_mode)

    def unlink(self, name: str) -> None:
        """Remove a file of this folder if it exists."""
        try:
            if self.fd is not None:
                os.unlink(name, dir_fd=self.fd)
            else:
                (self.path / name).unlink()
        except FileNotFoundError:
            pass

    def sync(self) -> None:
        """fsync the folder, so its new entries (files, renames) survive a power cut.

        Where a folder cannot be opened (Windows), or its file system cannot fsync one, this does nothing:
        there the file system's own journal is all there is.

        Raises:
            OSError: the disk reported an error while flushing.
        """
        fd = self.fd
        if fd is None:
            try:
                fd = os.open(self.path, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
            except OSError:
                return
        try:
            os.fsync(fd)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):  # cannot fsync a folder here
                raise
        finally:
            if fd != self.fd:
                os.close(fd)

    def replace(self, source: str, target: str) -> None:
        """Rename source over target in one atomic step."""
        if self.fd is not None:
            os.replace(source, target, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        else:
            os.replace(self.path / source, self.path / target)


def open_regular(folder: Folder, name: str) -> tuple[int, os.stat_result]:
    """Open a regular file of folder for reading: not a symlink, pipe or device; never blocks."""
    fd = folder.open(name, os.O_RDONLY | _NONBLOCK)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(folder.path / name))
    return fd, info


def _blocks(fd: int) -> Iterable[bytes]:
    while block := os.read(fd, BLOCK):
        yield block


def _check(name: str, size: int, digest: str, expected: dict[str, Any]) -> None:
    if size != expected["size"]:
        raise ChecksumError(f"{name} has {size} bytes, {expected['size']} were written")
    if digest != expected["sha256"]:
        raise ChecksumError(f"{name} is not the file that was written (its checksum differs)")


def read_bytes(folder: Folder, name: str, expected: dict[str, Any] | None, limit: int) -> bytes:
    """A file's bytes, checked against expected ({"size", "sha256"}) when given.

    Raises:
        OSError: missing, a symlink, not a regular file, or over limit bytes.
        ChecksumError: size or hash differs from expected.
    """
    fd, info = open_regular(folder, name)
    parts, total = [], 0
    try:
        if expected is not None and info.st_size != expected["size"]:  # cheap: no need to read it
            raise ChecksumError(f"{name} has {info.st_size} bytes, {expected['size']} were written")
        for block in _blocks(fd):
            total += len(block)
            if total > limit:
                raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(folder.path / name))
            parts.append(block)
    finally:
        os.close(fd)
    data = b"".join(parts)
    if expected is not None:
        _check(name, len(data), hashlib.sha256(data).hexdigest(), expected)
    return data


def read_faiss(folder: Folder, name: str, expected: dict[str, Any], mmap: bool = False) -> Any:
    """A FAISS index file, its size and hash checked before FAISS parses a byte of it.

    mmap: map the file instead of reading it (large indexes); it is checked once, then mapped by name
    after making sure the name still is the checked file.
    """
    import faiss

    fd, info = open_regular(folder, name)
    try:
        if info.st_size != expected["size"]:
            raise ChecksumError(f"{name} has {info.st_size} bytes, {expected['size']} were written")
        _check(name, *_digest(_blocks(fd)), expected)
        if mmap:
            if not folder.same_file(name, info):
                raise ChecksumError(f"{name} was replaced while being read")
            return faiss.read_index(str(folder.path / name), faiss.IO_FLAG_MMAP_IFC)
        os.lseek(fd, 0, os.SEEK_SET)
        digest = hashlib.sha256()

        def read(size: int) -> bytes:
            block = os.read(fd, size)
            digest.update(block)
            return block

        # PyCallbackIOReader/Writer are in faiss's Python wrapper but not in its stubs.
        index = faiss.read_index(faiss.PyCallbackIOReader(read, BLOCK))  # type: ignore[attr-defined]
        for block in _blocks(fd):
            digest.update(block)
        if digest.hexdigest() != expected["sha256"]:  # changed between the check and the parse
            raise ChecksumError(f"{name} changed while being read")
        return index
    finally:
        os.close(fd)


def _digest(blocks: Iterable[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    for block in blocks:
        digest.update(block)
        size += len(block)
    return size, digest.hexdigest()


def write_new(folder: Folder, name: str, content: bytes | Callable[[Callable[[bytes], None]], object]
              ) -> dict[str, Any]:
    """Create a new file (never through a symlink, never over an existing file), fill it and fsync it.

    Args:
        folder: where.
        name: the file name.
        content: the bytes, or a function called with a write function that writes them in pieces.

    Returns:
        {"size": bytes written, "sha256": hex digest}, as the manifest records it.

    Raises:
        OSError: the disk is full, the folder is read-only, the name exists, or the disk failed to flush.
    """
    fd = folder.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    digest, size = hashlib.sha256(), 0

    def write(data: bytes) -> None:
        nonlocal size
        view = memoryview(data)
        digest.update(view)
        size += len(view)
        while view:
            view = view[os.write(fd, view) :]

    try:
        if isinstance(content, bytes):
            write(content)
        else:
            content(write)
        os.fsync(fd)  # on disk before anything names it: a power cut must not leave a manifest naming empty files
    finally:
        os.close(fd)
    return {"size": size, "sha256": digest.hexdigest()}


def write_faiss(folder: Folder, name: str, index: Any) -> dict[str, Any]:
    """Write a FAISS index as write_new does (FAISS hands us its bytes; we write and hash them)."""
    import faiss

    def produce(write: Callable[[bytes], None]) -> None:
        faiss.write_index(index, faiss.PyCallbackIOWriter(write, BLOCK))  # type: ignore[attr-defined]

    return write_new(folder, name, produce)
