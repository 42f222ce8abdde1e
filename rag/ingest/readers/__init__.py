"""Readers: one module per file format; `extract` picks one by suffix and checks the content matches it."""

from __future__ import annotations

from rag.ingest.readers.base import Extracted, Place, Reader, ReadError
from rag.ingest.readers.pdf import PdfReader
from rag.ingest.readers.text import TextReader
from rag.ingest.readers.web import HtmlReader
from rag.ingest.readers.word import DocxReader

# The most particular first: a content check asks them in this order what a misnamed file really is.
READERS: tuple[Reader, ...] = (PdfReader(), DocxReader(), HtmlReader(), TextReader())
SUFFIXES = frozenset(s for reader in READERS for s in reader.suffixes)

__all__ = ["READERS", "SUFFIXES", "Extracted", "Place", "ReadError", "Reader", "extract", "reader_for", "suffix_of"]


def suffix_of(name: str) -> str:
    """A file name's suffix in lower case, with its dot (".pdf"), or "" when it has none."""
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def reader_for(name: str) -> Reader | None:
    """The reader of a file name's suffix (case-insensitive), or None for a kind nobody reads."""
    return next((r for r in READERS if suffix_of(name) in r.suffixes), None)


def extract(name: str, data: bytes) -> Extracted:
    """A file's text and the places in it (pages, sections), read by the reader its suffix names.

    Args:
        name: the file's name (its suffix chooses the reader).
        data: its bytes.

    Returns:
        The Extracted text.

    Raises:
        ReadError: no reader for the suffix, content of another kind, or a file its reader cannot use.
    """
    reader = reader_for(name)
    if reader is None:
        raise ReadError(f"no reader for this kind of file (readable: {', '.join(sorted(SUFFIXES))})")
    if not data:
        raise ReadError("empty file")
    if not reader.sniff(data):
        actual = next((r for r in READERS if r is not reader and r.sniff(data)), None)
        if actual is not None:
            raise ReadError(f"not {reader.kind}: its content is {actual.kind} (rename it to …{actual.suffixes[0]})")
        if not isinstance(reader, TextReader):  # text says best itself what is wrong (binary, not UTF-8)
            raise ReadError(f"not {reader.kind}: its content is of no kind this assistant reads")
    return reader.read(data)
