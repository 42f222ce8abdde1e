"""Chunking: clean blocks → passages of a few sentences, each with its exact span in the raw file."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rag.corpus import Document, collapse

SEPARATORS = ["\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " ", ""]
# A sentence ends at . ! ? … (plus closing quotes) followed by a space, except after short
# abbreviations such as "Mr." or "Dr.", and not before a dash or a lower-case word (“…” — Eun-soo).
_SENTENCE_END = re.compile(r"(?<!\b[A-Z][a-z])(?<!\b[A-Z])[.!?…]+[\"'”“»)\]]*\s+(?![—–a-z])")


@dataclass(frozen=True)
class Chunk:
    """A passage as stored in the index: raw[start:end] of source, whitespace collapsed in text."""

    source: str
    start: int
    end: int
    lang: str
    text: str
    heading: str
    line_start: int  # 1-based lines of the raw file, for people reading the citation
    line_end: int

    def embedding_text(self) -> str:
        """The text the models see: the section heading gives short facts their context."""
        return f"{self.heading}: {self.text}" if self.heading else self.text


def chunk_documents(docs: Iterable[Document], chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Split every block of every document into chunks of at most chunk_size characters.

    Args:
        docs: documents from rag.corpus.load_corpus.
        chunk_size: maximum characters per chunk (measured on the raw span).
        chunk_overlap: characters shared by neighbouring chunks of one block.

    Returns:
        Chunks in document order.
    """
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=SEPARATORS,
        keep_separator="end",  # sentence punctuation stays with its sentence
        strip_whitespace=True,
    )
    chunks = []
    for doc in docs:
        lines = LineTable(doc.raw)  # one pass per file: counting from the file start per chunk was quadratic
        for block in doc.blocks:
            raw = doc.raw[block.start : block.end]
            pieces = [raw] if len(raw) <= chunk_size else splitter.split_text(raw)
            for start, end in _locate(raw, pieces):
                a, b = block.start + start, block.start + end
                chunks.append(Chunk(doc.source, a, b, block.lang, collapse(doc.raw[a:b]), block.heading,
                                    lines.line(a), lines.line(b)))
    return chunks


class LineTable:
    """Where each line of a text starts, so the line of any offset is one binary search away."""

    def __init__(self, text: str) -> None:
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        """1 + the newlines before offset: the 1-based line of text[offset] (of a newline, the line it ends)."""
        return bisect_right(self.newlines, offset - 1) + 1


def _locate(raw: str, pieces: list[str]) -> Iterator[tuple[int, int]]:
    """Find each piece in raw, left to right; the splitter returns substrings in order."""
    cursor = 0
    for piece in pieces:
        pos = raw.find(piece, cursor)
        if pos < 0:  # overlap can start a piece before the cursor
            pos = raw.find(piece)
        if pos < 0:
            raise AssertionError(f"splitter returned text not in its input: {piece[:40]!r}")
        yield pos, pos + len(piece)
        cursor = pos + 1


def split_sentences(text: str) -> list[str]:
    """Split passage text into sentences; every non-space character ends up in exactly one."""
    out, pos = [], 0
    for match in _SENTENCE_END.finditer(text):
        out.append(text[pos : match.end()].strip())
        pos = match.end()
    out.append(text[pos:].strip())
    return [s for s in out if s] or [text]
