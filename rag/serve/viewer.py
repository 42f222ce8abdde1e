"""Viewer: a cited passage in its document — the paragraphs around it, read from the index, never from a path.

The page asks for it when a reader opens a card ("Show in document"), naming the passage by its file name
as shown and its character span; only an exact match among the index's passages is shown.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rag.chunking import Chunk
from rag.terminal import printable

REACH = 6  # most chunks shown on each side: a long paragraph is cut, not a whole chapter shown
MARK = "background:#fde68a;color:#1f2937;padding:0 2px;border-radius:3px"
NOT_FOUND = "This passage is no longer in the index (it was rebuilt meanwhile): ask again to see it."


@dataclass(frozen=True)
class Context:
    """The passage and its neighbours in one document, in file order; `at` is the passage's position."""

    chunks: list[Chunk]
    at: int


class Documents:
    """An index's chunks grouped by source file and sorted by position, built once per loaded index."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        by_source: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            by_source.setdefault(chunk.source, []).append(chunk)
        # (file name as shown, start, end) → (that file's chunks in order, position): names travel escaped
        self._where: dict[tuple[str, int, int], tuple[list[Chunk], int]] = {}
        for rows in by_source.values():
            rows.sort(key=lambda chunk: chunk.start)
            for i, chunk in enumerate(rows):
                self._where[(printable(chunk.source), chunk.start, chunk.end)] = (rows, i)

    def context(self, source: str, start: int, end: int) -> Context | None:
        """The passage with the paragraph before and after it; None when the index holds no such passage.

        Args:
            source: the file name as the page shows it (rag.terminal.printable).
            start, end: the passage's character span in that file.

        A paragraph is the chunks that start on one line of the file (the splitter cuts at blank lines
        first), so the context reaches back to the first chunk of the previous paragraph and on to the last
        chunk of the next one, at most REACH chunks each way.
        """
        found = self._where.get((source, start, end))
        if found is None:
            return None
        rows, at = found
        lo, hi = _paragraph_edge(rows, at, -1), _paragraph_edge(rows, at, 1)
        return Context(rows[lo:hi + 1], at - lo)


def _paragraph_edge(rows: list[Chunk], at: int, step: int) -> int:
    """The row index where the context stops going one way: the far end of the neighbouring paragraph."""
    paragraphs, i = {rows[at].line_start}, at
    while 0 <= i + step < len(rows) and abs(i + step - at) <= REACH:
        line = rows[i + step].line_start
        if line not in paragraphs:
            if len(paragraphs) == 2:  # the passage's own paragraph and one neighbour: enough
                break
            paragraphs.add(line)
        i += step
    return i


_CACHE: dict[int, tuple[Any, Documents]] = {}


def documents_of(index: Any) -> Documents:
    """The Documents of a loaded index (kept for the two most recent indexes: a rebuild switches them)."""
    cached = _CACHE.get(id(index))
    if cached is None or cached[0] is not index:
        while len(_CACHE) >= 2:
            _CACHE.pop(next(iter(_CACHE)))
        cached = (index, Documents(index.chunks))
        _CACHE[id(index)] = cached
    return cached[1]


def lines(passage: Any) -> str:
    """Where a passage or chunk is in its file: "p. 12" (PDF), "§ Cast" (Word, HTML), "line 4" or "lines 4–6"."""
    if getattr(passage, "place", ""):
        return str(passage.place)
    if passage.line_start == passage.line_end:
        return f"line {passage.line_start}"
    return f"lines {passage.line_start}–{passage.line_end}"


def view(index: Any, request: Any) -> dict[str, str]:
    """What the page's viewer shows for a request [file name as shown, start, end] from the browser.

    Args:
        index: the loaded index (its chunks are the only text shown).
        request: the browser's arguments, unchecked.

    Returns:
        {"title": plain text, "html": escaped HTML}; a request matching no passage gets NOT_FOUND.
    """
    ok = (isinstance(request, list) and len(request) == 3 and isinstance(request[0], str)
          and len(request[0]) <= 4096 and all(type(n) is int for n in request[1:]))
    context = documents_of(index).context(*request) if ok else None
    if context is None:
        return {"title": "Passage not found", "html": f'<p class="rag-note">{html.escape(NOT_FOUND)}</p>'}
    here = context.chunks[context.at]
    return {"title": f"{printable(here.source)} · {lines(here)}", "html": _paragraphs(context)}


def _paragraphs(context: Context) -> str:
    """The context's chunks as paragraphs (chunks of one line join), the passage itself marked."""
    out: list[str] = []
    line = None
    for i, chunk in enumerate(context.chunks):
        text = html.escape(chunk.text)
        if i == context.at:
            text = f'<mark style="{MARK}" class="rag-here">{text}</mark>'
        if chunk.line_start != line:
            heading = ""
            if chunk.heading and (not out or context.chunks[i - 1].heading != chunk.heading):
                heading = f'<p class="rag-heading">{html.escape(chunk.heading)}</p>'
            out.append(f'{heading}<p lang="{html.escape(chunk.lang)}"><span class="rag-line">{lines(chunk)}</span> '
                       f"{text}")
            line = chunk.line_start
        else:
            out[-1] += f" {text}"
    return "</p>".join(out) + "</p>"


VIEWER = ('<dialog id="rag-viewer" class="rag-viewer" aria-labelledby="rag-viewer-title">'
          '<div class="rag-viewer-head"><h2 id="rag-viewer-title">Document</h2>'
          '<form method="dialog"><button type="submit" class="rag-button" aria-label="Close the document">'
          "Close ✕</button></form></div>"
          '<div class="rag-viewer-text"></div>'
          '<div class="rag-viewer-steps"><button type="button" class="rag-button" data-step="-1">'
          '← Previous passage</button><button type="button" class="rag-button" data-step="1">Next passage →'
          "</button></div></dialog>")
