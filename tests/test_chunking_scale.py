"""Chunking large files: line numbers come from one table per file, so the work grows linearly with size.

Linear is checked by counting the characters scanned, not by timing (`rag bench` measures speed)."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from rag.chunking import LineTable, chunk_documents
from rag.cleaning import Block
from rag.corpus import Document, load_corpus

WORDS = str.split("the series music song piano studio friend love camera photographer composer episode scene "
                  "actor director season summer rain night city guitar melody story heart memory album stage critic")


def big_document(mib: float, seed: int = 0) -> Document:
    """A file of mib MiB: paragraphs of lines wrapped at ~80 characters, one block per paragraph."""
    rng = random.Random(seed)
    raw, blocks, size = [], [], 0
    while size < mib * 2**20:
        words = rng.choices(WORDS, k=rng.randint(30, 90))
        text = "\n".join(" ".join(words[i : i + 12]) for i in range(0, len(words), 12))
        blocks.append(Block("big.txt", size, size + len(text), " ".join(text.split()), "en", ""))
        raw.append(text + "\n\n")
        size += len(text) + 2
    text = "".join(raw)
    return Document("big.txt", CountingStr(text), "0" * 64, "en", tuple(blocks))


class CountingStr(str):
    """A str that tallies how many characters its search methods scan (slices are plain str)."""

    scanned = 0

    def _tally(self, args: tuple[object, ...]) -> None:
        start = args[1] if len(args) > 1 and isinstance(args[1], int) else 0
        end = args[2] if len(args) > 2 and isinstance(args[2], int) else len(self)
        CountingStr.scanned += max(0, min(end, len(self)) - max(start, 0))

    def count(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self._tally(args)
        return super().count(*args, **kwargs)

    def find(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self._tally(args)
        return super().find(*args, **kwargs)

    def index(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self._tally(args)
        return super().index(*args, **kwargs)

    def rfind(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self._tally(args)
        return super().rfind(*args, **kwargs)


@given(st.text(alphabet="ab\n", max_size=60), st.data())
def test_line_table_matches_counting_newlines(text: str, data: st.DataObject) -> None:
    table = LineTable(text)
    offset = data.draw(st.integers(0, len(text)))
    assert table.line(offset) == text.count("\n", 0, offset) + 1


def test_line_numbers_of_a_big_file_are_right_and_the_whole_file_is_scanned_at_most_once() -> None:
    doc = big_document(1)
    CountingStr.scanned = 0
    chunks = chunk_documents([doc], 400, 0)
    scanned = CountingStr.scanned
    assert len(chunks) > 2000
    # Counting newlines from the file start for every chunk scanned ~ chunks × size / 2 (quadratic).
    assert scanned <= 2 * len(doc.raw), f"{scanned:,} characters scanned for a {len(doc.raw):,}-character file"
    text = str(doc.raw)
    for chunk in chunks[::97]:
        assert chunk.line_start == text.count("\n", 0, chunk.start) + 1
        assert chunk.line_end == text.count("\n", 0, chunk.end) + 1


def test_real_corpus_line_numbers_unchanged(corpus_dir: Path) -> None:
    for chunk in chunk_documents(load_corpus(corpus_dir), 400, 0):
        raw = (corpus_dir / chunk.source).read_text(encoding="utf-8")
        assert chunk.line_start == raw.count("\n", 0, chunk.start) + 1
        assert chunk.line_end == chunk.line_start + raw.count("\n", chunk.start, chunk.end)
