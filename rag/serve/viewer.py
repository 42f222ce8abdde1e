"""Viewer: a cited passage in its document — the paragraphs around it, read from the index, never from a path."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rag.answer import Passage
from rag.chunking import Chunk
from rag.terminal import printable

REACH = 6  # most chunks shown on each side: a long paragraph is cut, not a whole chapter shown
MARK = "background:#fde68a;color:#1f2937;padding:0 2px;border-radius:3px"


@dataclass(frozen=True)
class Context:
    """The passage and its neighbours in one document, in file order; `at` is the passage's position."""

    chunks: list[Chunk]
    at: int


class Documents:
    """An index's chunks grouped by source file and sorted by position, built once per loaded index."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self._by_source: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            self._by_source.setdefault(chunk.source, []).append(chunk)
        for rows in self._by_source.values():
            rows.sort(key=lambda chunk: chunk.start)

    def context(self, passage: Passage) -> Context | None:
        """The passage with the paragraph before and after it; None when the index no longer holds it.

        A paragraph is the chunks that start on one line of the file (the splitter cuts at blank lines
        first), so the context reaches back to the first chunk of the previous paragraph and on to the last
        chunk of the next one, at most REACH chunks each way.
        """
        rows = self._by_source.get(passage.source, [])
        at = next((i for i, chunk in enumerate(rows) if chunk.start == passage.start and chunk.end == passage.end),
                  None)
        if at is None:
            return None
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


def lines(passage: Passage | Chunk) -> str:
    """ "line 4" or "lines 4–6": where the passage is in its file."""
    if passage.line_start == passage.line_end:
        return f"line {passage.line_start}"
    return f"lines {passage.line_start}–{passage.line_end}"


def viewer_html(dom_id: str, passage: Passage, context: Context | None, neighbours: tuple[str, str]) -> str:
    """A closed <dialog> showing the passage highlighted in its context, with previous/next between passages.

    Args:
        dom_id: the dialog's id (a card's "Show in document" button opens it).
        passage: the cited passage.
        context: its neighbours in the document, or None (then the passage alone is shown, and why).
        neighbours: the ids of the previous and the next passage's dialogs ("" for none).

    Returns:
        HTML in which every text is escaped.
    """
    source = html.escape(printable(passage.source))
    title_id = f"{dom_id}-title"
    if context is None:
        body = (f'<p class="rag-note">This passage is no longer in the index (it was rebuilt); '
                f"ask again to see its context.</p><p><mark style=\"{MARK}\">{html.escape(passage.text)}</mark></p>")
    else:
        body = _paragraphs(context)
    previous, following = neighbours
    steps = "".join(
        f'<button type="button" data-view="{target}">{label}</button>' if target
        else f'<button type="button" disabled>{label}</button>'
        for target, label in ((previous, "← Previous passage"), (following, "Next passage →")))
    return (f'<dialog id="{dom_id}" class="rag-viewer" aria-labelledby="{title_id}">'
            f'<div class="rag-viewer-head"><h2 id="{title_id}">{source} · {lines(passage)}</h2>'
            f'<form method="dialog"><button type="submit" aria-label="Close the document (Escape)">Close ✕'
            f"</button></form></div>"
            f'<div class="rag-viewer-text" lang="{html.escape(passage.lang)}">{body}</div>'
            f'<div class="rag-viewer-steps">{steps}</div></dialog>')


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
            out.append(f'{heading}<p><span class="rag-line">{lines(chunk)}</span> {text}')
            line = chunk.line_start
        else:
            out[-1] += f" {text}"
    return "</p>".join(out) + "</p>"
