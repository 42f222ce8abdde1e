"""Chunking: clean blocks → passages of a few sentences, each with its exact span in the raw file."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rag.corpus import Document, collapse
from rag.ingest.readers import Extracted
from rag.text import sentence_spans, split_sentences

# Passages are whole sentences (rag.text) packed up to the size; only a sentence longer than that
# is cut, at these separators (LangChain's RecursiveCharacterTextSplitter).
SEPARATORS = ["\n\n", "\n", "; ", ", ", " ", ""]
__all__ = ["Chunk", "chunk_documents", "split_sentences"]


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
    place: str = ""  # where in the original it starts: "p. 12" (PDF), a section heading (Word, HTML), or ""

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
        keep_separator="end",  # punctuation stays with its clause
        strip_whitespace=True,
    )
    chunks = []
    for doc in docs:
        lines = LineTable(doc.raw)  # one pass per file: counting from the file start per chunk was quadratic
        places = Extracted(doc.raw, doc.places)
        for block in doc.blocks:
            raw = doc.raw[block.start : block.end]
            for start, end in _pieces(raw, splitter, chunk_size, chunk_overlap):
                a, b = block.start + start, block.start + end
                chunks.append(Chunk(doc.source, a, b, block.lang, collapse(doc.raw[a:b]), block.heading,
                                    lines.line(a), lines.line(b), places.place_at(a)))
    return chunks


class LineTable:
    """Where each line of a text starts, so the line of any offset is one binary search away."""

    def __init__(self, text: str) -> None:
        # A line ends at \n, \r\n or a lone \r (old Mac files): each break is one position.
        self.newlines = [m.start() for m in re.finditer("\r\n|\r|\n", text)]

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


def _pieces(raw: str, splitter: Any, size: int, overlap: int) -> list[tuple[int, int]]:
    """Spans of raw: consecutive sentences packed up to size characters (sharing up to overlap)."""
    if len(raw) <= size:
        return [(0, len(raw))]
    units: list[tuple[int, int]] = []
    for start, end in sentence_spans(raw):
        if end - start <= size:
            units.append((start, end))
        else:  # one overlong sentence: cut at clauses, then words
            sentence = raw[start:end]
            units.extend((start + a, start + b) for a, b in _locate(sentence, splitter.split_text(sentence)))
    out, first = [], 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and units[last + 1][1] - units[first][0] <= size:
            last += 1
        out.append((units[first][0], units[last][1]))
        following = last + 1
        # Overlap: start the next piece with this one's last sentences that fit in overlap characters.
        while following - 1 > first and units[last][1] - units[following - 1][0] <= overlap:
            following -= 1
        first = following
    return out
