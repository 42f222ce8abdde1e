"""Corpus: a folder of files → documents made of clean, language-tagged blocks (see rag.cleaning)."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.cleaning import Block, blocks, collapse
from rag.errors import CorpusError
from rag.language import detect_language
from rag.terminal import listing, printable
from rag.text import word_key

log = logging.getLogger("rag")

__all__ = ["Block", "Document", "collapse", "detect_language", "discover", "load_corpus", "read_document",
           "read_file"]

SUFFIXES = {".txt", ".md", ".markdown", ".text"}
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """One corpus file: its raw text, content hash, main language and clean blocks."""

    source: str
    raw: str
    sha256: str
    lang: str
    blocks: tuple[Block, ...]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def discover(corpus_dir: Path, strict: bool = False) -> list[Path]:
    """List the text files under corpus_dir, skipping (or with strict, refusing) unusable ones.

    Args:
        corpus_dir: the corpus folder.
        strict: raise CorpusError instead of skipping a bad file with a warning.

    Returns:
        Sorted file paths, all inside corpus_dir.
    """
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist: create it and put .txt or .md files in it")
    root = corpus_dir.resolve()
    found, others = [], []
    for path in sorted(_walk(corpus_dir)):
        if path.is_dir():  # a symlink to a folder (real folders were walked into)
            problem: str | None = "a link to a folder, never followed"
        elif path.suffix.lower() not in SUFFIXES:
            others.append(path.relative_to(corpus_dir).as_posix())
            continue
        else:
            problem = _problem(path, root)
        if problem is None:
            found.append(path)
        elif strict:
            raise CorpusError(f"{printable(str(path))}: {problem}")
        else:
            log.warning("skipping %s: %s", printable(str(path)), problem)
    if others:  # a .pdf or .docx left out without a word would look like a file the index holds
        kinds = ", ".join(sorted(SUFFIXES))
        message = (f"not reading {len(others)} file(s) of {printable(str(corpus_dir))} (only {kinds} files are "
                   f"read): {listing(others)}")
        if strict:
            raise CorpusError(f"{message}; convert them to text or move them out of the corpus folder")
        log.warning("%s", message)
    return found


def _walk(folder: Path) -> Iterator[Path]:
    """Every entry under folder but its subfolders (and hidden names): symlinked folders are not followed."""
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and not entry.is_symlink():
            yield from _walk(entry)
        else:
            yield entry


def _problem(path: Path, root: Path) -> str | None:
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "broken or looping symlink"
    if not real.is_relative_to(root):
        return "links outside the corpus folder"
    if not real.is_file():
        return "not a regular file"
    size = real.stat().st_size
    if size > MAX_FILE_BYTES:
        return f"larger than {MAX_FILE_BYTES // 2**20} MiB"
    return None


def read_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a regular file whole, without ever blocking on a named pipe or device put in its place.

    The file may have been swapped since discover() listed it: open without waiting (O_NONBLOCK) and
    check what was opened, not what the name pointed to earlier.

    Args:
        path: the file.
        limit: refuse files larger than this many bytes.

    Returns:
        Its bytes.

    Raises:
        OSError: unreadable, not a regular file, or larger than limit.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit // 2**20} MiB", str(path))
        parts, total = [], 0
        while block := os.read(fd, 1 << 20):
            parts.append(block)
            total += len(block)
            if total > limit:  # grew since fstat
                raise OSError(errno.EFBIG, f"larger than {limit // 2**20} MiB", str(path))
    finally:
        os.close(fd)
    return b"".join(parts)


def read_document(path: Path, corpus_dir: Path) -> Document | None:
    """Read one file into a Document, or None (with a warning) when it holds no usable text.

    Args:
        path: the file.
        corpus_dir: the corpus folder; sources are named relative to it.

    Returns:
        The document, or None.
    """
    source = path.relative_to(corpus_dir).as_posix()
    try:
        data = read_file(path)
    except OSError as exc:
        log.warning("skipping %s: cannot read (%s)", printable(source), exc.strerror or exc)
        return None
    if b"\x00" in data[:8192]:
        log.warning("skipping %s: binary file", printable(source))
        return None
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("skipping %s: not UTF-8 text (convert it to UTF-8)", printable(source))
        return None
    if not raw.strip():
        log.warning("skipping %s: empty file", printable(source))
        return None
    lang = detect_language(raw[:20000], default="und", min_confidence=0.5)
    return Document(source, raw, content_hash(data), lang, tuple(blocks(source, raw, lang)))


def load_corpus(corpus_dir: Path, strict: bool = False) -> list[Document]:
    """Read every usable document of a corpus folder, with duplicate blocks dropped corpus-wide.

    Args:
        corpus_dir: the corpus folder.
        strict: raise CorpusError on the first unusable file instead of skipping it.

    Returns:
        Documents in path order.
    """
    docs = []
    for path in discover(corpus_dir, strict):
        doc = read_document(path, corpus_dir)
        if doc is None and strict:
            raise CorpusError(f"{printable(str(path))}: unusable file (see the warning above)")
        if doc is not None:
            docs.append(doc)
    return dedupe(docs)


def dedupe(docs: list[Document]) -> list[Document]:
    """Drop every block whose normalised text was already seen earlier in the corpus."""
    seen: set[str] = set()
    out = []
    for doc in docs:
        kept = []
        for block in doc.blocks:
            key = word_key(block.text)
            if key not in seen:
                seen.add(key)
                kept.append(block)
        out.append(Document(doc.source, doc.raw, doc.sha256, doc.lang, tuple(kept)))
    return out


