"""Corpus: a folder of files → documents made of clean, language-tagged blocks (see rag.cleaning)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.cleaning import Block, blocks, collapse
from rag.errors import CorpusError
from rag.ingest.readers import SUFFIXES, Extracted, Place, extract, suffix_of
from rag.ingest.tree import Listing, Skipped, read_source, walk
from rag.language import detect_language
from rag.lru import LRU
from rag.terminal import listing, printable
from rag.text import word_key

log = logging.getLogger("rag")

__all__ = ["Block", "Corpus", "CorpusState", "Document", "Skipped", "collapse", "corpus_state", "detect_language",
           "discover", "load_corpus", "read_corpus", "read_document"]


@dataclass(frozen=True)
class Document:
    """One corpus file: its text (as its reader extracted it), content hash, main language and clean blocks."""

    source: str
    raw: str  # what citations' offsets index into: the file itself for text, the extracted text otherwise
    sha256: str
    lang: str
    blocks: tuple[Block, ...]
    places: tuple[Place, ...] = ()  # pages (PDF) or sections (Word, HTML), by offset in raw

    def named(self, source: str) -> Document:
        """This document as the file source holds it (a stored document is found by its content)."""
        blocks = tuple(Block(source, b.start, b.end, b.text, b.lang, b.heading) for b in self.blocks)
        return replace(self, source=source, blocks=blocks)  # Block(...), not replace(): 100,000s of blocks


@dataclass(frozen=True)
class Corpus:
    """The usable documents of a corpus folder, and every file left out with its reason."""

    documents: list[Document]
    skipped: tuple[Skipped, ...]
    others: tuple[str, ...]  # files of kinds no reader takes (.xlsx, .png)
    refused: dict[str, str] = field(default_factory=dict)  # SHA-256 → why, of files read and refused by a reader
    parsed: tuple[Document, ...] = ()  # the documents before de-duplication (what rag.ingest.parsed keeps)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def discover(corpus_dir: Path, strict: bool = False) -> Listing:
    """List the corpus folder's text files and what is left out (links, special files, too deep, too big).

    Args:
        corpus_dir: the corpus folder.
        strict: raise CorpusError for the first file left out (or of another kind) instead of listing it.

    Returns:
        The Listing (nothing is logged here: the caller reports what was skipped).
    """
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist: create it and put documents in it "
                          f"({', '.join(sorted(SUFFIXES))})")
    found = walk(corpus_dir)
    if strict and found.skipped:
        first = found.skipped[0]
        raise CorpusError(f"{printable(str(corpus_dir / first.source))}: {first.reason}")
    if strict and found.others:
        raise CorpusError(f"{_others_message(corpus_dir, list(found.others))}; convert them to text or move them "
                          "out of the corpus folder")
    return found


def _others_message(corpus_dir: Path, others: list[str]) -> str:
    kinds = ", ".join(sorted(SUFFIXES))
    return (f"not reading {len(others)} file(s) of {printable(str(corpus_dir))} (only {kinds} files are read): "
            f"{listing(others)}")


def report_skipped(corpus_dir: Path, skipped: tuple[Skipped, ...], others: tuple[str, ...]) -> None:
    """Log one warning per file left out, and one for the files of other kinds: never a silent skip."""
    for item in skipped:
        log.warning("skipping %s: %s", printable(item.source), item.reason)
    if others:  # a file left out without a word would look like one the index holds
        log.warning("%s", _others_message(corpus_dir, list(others)))


def checked_text(source: str, data: bytes) -> tuple[Extracted | None, str]:
    """(extracted text, "") of a usable file's bytes; (None, reason) of one its reader refuses."""
    try:
        return extracted(source.rsplit("/", 1)[-1], data), ""
    except CorpusError as exc:
        return None, str(exc)


def _read(corpus_dir: Path, source: str) -> bytes | Skipped:
    """A corpus file's bytes, read inside the tree, or a Skipped saying why they cannot be read."""
    try:
        return read_source(corpus_dir, source)
    except OSError as exc:
        return Skipped(source, f"cannot read it ({exc.strerror or exc})")


_SEEN: LRU[tuple[str, str], Extracted] = LRU(64)  # (suffix, content hash) → text: a PDF is parsed once


def extracted(name: str, data: bytes) -> Extracted:
    """extract(), remembered for the last few files: a document added and then built is parsed once.

    Args:
        name: the file's name (its suffix chooses the reader).
        data: its bytes.

    Returns:
        The Extracted text. Raises CorpusError for a file that cannot be used.
    """
    key = (suffix_of(name), content_hash(data))
    found = _SEEN.get(key)
    if found is None:
        found = extract(name, data)
        _SEEN.put(key, found)
    return found


def read_document(corpus_dir: Path, source: str, known: Mapping[str, Document] | None = None) -> Document | Skipped:
    """Read one corpus file into a Document, or into a Skipped saying why it cannot be used.

    Args:
        corpus_dir: the corpus folder.
        source: the file, relative to it (as discover lists it).
        known: documents parsed before, by SHA-256 (rag.ingest.parsed): taken from there, not read again.
    """
    data = _read(corpus_dir, source)
    if isinstance(data, Skipped):
        return data
    sha = content_hash(data)
    if known and (doc := known.get(sha)) is not None:
        return doc.named(source)
    got, reason = checked_text(source, data)
    if got is None:
        return Skipped(source, reason, sha)
    for warning in got.warnings:
        log.warning("%s: %s", printable(source), warning)
    lang = detect_language(got.text[:20000], default="und", min_confidence=0.5)
    return Document(source, got.text, sha, lang, tuple(blocks(source, got.text, lang)), got.places)


def read_corpus(corpus_dir: Path, strict: bool = False, known: Mapping[str, Document] | None = None,
                hashed: Mapping[str, str] | None = None) -> Corpus:
    """A folder's Corpus: its usable documents in path order (duplicate blocks dropped) and what was left out.

    Args:
        corpus_dir: the corpus folder.
        strict: raise CorpusError on the first unusable file instead of skipping it.
        known: documents parsed before, by SHA-256 (see read_document).
        hashed: file → SHA-256 just read by the caller (corpus_state): a known one is not read again.
    """
    found = discover(corpus_dir, strict)
    docs, skipped, hashed = [], list(found.skipped), hashed or {}
    for source in found.sources:
        sha = hashed.get(source, "")
        doc = known[sha].named(source) if known and sha in known else read_document(corpus_dir, source, known)
        if isinstance(doc, Skipped):
            if strict:
                raise CorpusError(f"{printable(str(corpus_dir / source))}: {doc.reason}")
            skipped.append(doc)
        else:
            docs.append(doc)
    refused = {s.sha256: s.reason for s in skipped if s.sha256}
    return Corpus(dedupe(docs), tuple(sorted(skipped, key=lambda s: s.source)), found.others, refused, tuple(docs))


def load_corpus(corpus_dir: Path, strict: bool = False) -> list[Document]:
    """The usable documents of a corpus folder; each file left out is logged with its reason."""
    corpus = read_corpus(corpus_dir, strict)
    report_skipped(corpus_dir, corpus.skipped, corpus.others)
    return corpus.documents


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
        out.append(Document(doc.source, doc.raw, doc.sha256, doc.lang, tuple(kept), doc.places))
    return out


@dataclass(frozen=True)
class CorpusState:
    """The corpus as a build would see it: each usable file's content hash, and what is left out."""

    files: dict[str, str] | None  # source → sha256; None when there is no corpus folder
    skipped: tuple[Skipped, ...] = ()
    others: tuple[str, ...] = ()


def corpus_state(corpus_dir: Path, usable: Collection[str] = (), refused: Mapping[str, str] | None = None,
                 parse: bool = True) -> CorpusState:
    """Hash every usable corpus file (read inside the tree, never through a link), naming the rest.

    Args:
        corpus_dir: the corpus folder.
        usable: SHA-256s of files known to be readable (an index's manifest): those are hashed, not parsed
            again, so checking freshness costs a read per file, not a PDF parse per file.
        refused: SHA-256 → reason of files a build found unusable (the manifest's "refused"): not parsed again.
        parse: False hashes every readable file without asking its reader (what is in the folder, not what
            a build would use).
    """
    refused = refused or {}
    try:
        found = discover(corpus_dir)
    except CorpusError:
        return CorpusState(None)  # no corpus to compare with: the index is all there is
    files, skipped = {}, list(found.skipped)
    for source in found.sources:
        data = _read(corpus_dir, source)
        if isinstance(data, Skipped):
            skipped.append(data)
            continue
        sha = content_hash(data)
        if sha in refused:
            skipped.append(Skipped(source, refused[sha], sha))
            continue
        if parse and sha not in usable:
            got, reason = checked_text(source, data)
            if got is None:
                skipped.append(Skipped(source, reason))
                continue
        files[source] = sha
    return CorpusState(files, tuple(sorted(skipped, key=lambda s: s.source)), found.others)
