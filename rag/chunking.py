"""Chunking: clean blocks → passages of a few sentences, each with its exact span in the raw file."""

from __future__ import annotations

import re
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
        for block in doc.blocks:
            raw = doc.raw[block.start : block.end]
            pieces = [raw] if len(raw) <= chunk_size else splitter.split_text(raw)
            for start, end in _locate(raw, pieces):
                a, b = block.start + start, block.start + end
                first = doc.raw.count("\n", 0, a) + 1
                last = first + doc.raw.count("\n", a, b)
                chunks.append(Chunk(doc.source, a, b, block.lang, collapse(doc.raw[a:b]), block.heading,
                                    first, last))
    return chunks


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
