"""The reader seam: a file's bytes → its text and the places in it (page, section) a citation names."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from rag.errors import CorpusError

ReadError = CorpusError  # what every reader raises for a file it cannot use: the message says why


@dataclass(frozen=True)
class Place:
    """Where a stretch of the extracted text comes from, from start on: "p. 3" or a section heading."""

    start: int
    label: str


@dataclass(frozen=True)
class Extracted:
    """The text a citation's offsets index into, the places in it, and what the reader wants the user to know."""

    text: str
    places: tuple[Place, ...] = ()  # sorted by start
    warnings: tuple[str, ...] = field(default=())  # e.g. pages without a text layer

    def place_at(self, offset: int) -> str:
        """The label of the place text[offset] lies in ("" when the format has none)."""
        i = bisect_right(self._starts, offset) - 1
        return self.places[i].label if i >= 0 else ""

    @cached_property
    def _starts(self) -> list[int]:  # once per document: a PDF of thousands of pages has thousands of passages
        return [p.start for p in self.places]


class Reader(Protocol):
    """One file format: which names it takes, how to recognise its content, and how to read it."""

    kind: str  # "a PDF", said in messages
    suffixes: tuple[str, ...]  # lower case, with the dot; the first is the one to suggest

    def sniff(self, data: bytes) -> bool:
        """Whether data looks like this format (a few bytes checked; never a full parse)."""
        ...

    def read(self, data: bytes) -> Extracted:
        """The text of data. Raises ReadError for a file of this kind that cannot be used."""
        ...


def join_parts(parts: list[tuple[str, str]]) -> Extracted:
    """Paragraph texts with their place labels → one text (blank line between parts) and its places.

    A label of "" (a paragraph before any heading) becomes "¶ n", the paragraph's number.
    """
    text: list[str] = []
    places: list[Place] = []
    at, last = 0, None
    for label, part in parts:
        if not part.strip():
            continue
        label = label or f"¶ {len(text) + 1}"
        if label != last:
            places.append(Place(at, label))
            last = label
        text.append(part)
        at += len(part) + 2
    return Extracted("\n\n".join(text), tuple(places))
