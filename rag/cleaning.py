"""Cleaning: one raw document → language-tagged blocks without chrome or ads, each with its span."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

from rag.language import detect_language
from rag.profiles import joined
from rag.text import sentence_spans

log = logging.getLogger("rag")

# Site chrome and advertising, matched on whole short lines or on single sentences (rag.profiles: each
# language's "chrome" and "ad" cues). Heuristic by design: the sources are scraped web pages, and these are
# the shapes their noise takes.
_CHROME_LINE = re.compile(rf"^({joined('cues', 'chrome')})$", re.IGNORECASE)
_AD_SENTENCE = re.compile(joined("cues", "ad"), re.IGNORECASE)
_TERMINAL = tuple(".!?\"'”“»")
_BULLETS = {"-", "–", "—", "*", "•"}


@dataclass(frozen=True)
class Block:
    """A paragraph-like unit: raw[start:end] of its source, with whitespace collapsed in text."""

    source: str
    start: int
    end: int
    text: str
    lang: str
    heading: str


def collapse(text: str) -> str:
    """Collapse every whitespace run to one space and strip the ends."""
    return " ".join(text.split())


def _lines(raw: str) -> list[tuple[int, int, str]]:
    """Non-blank lines as (start, end, stripped text), spans excluding surrounding whitespace."""
    out = []
    for match in re.finditer(r"[^\r\n]+", raw):
        text = match.group()
        stripped = text.strip()
        if stripped:
            start = match.start() + len(text) - len(text.lstrip())
            out.append((start, start + len(stripped), stripped))
    return out


def _kind(text: str) -> str:
    if text in _BULLETS:
        return "bullet"
    words = len(text.split())
    if text.endswith(":") and words <= 6:
        return "label"
    if len(text) <= 80 and words <= 12 and not text.endswith(_TERMINAL):
        return "heading"
    return "text"


def blocks(source: str, raw: str, doc_lang: str) -> Iterator[Block]:
    """Split a document into blocks: paragraphs, `Label:` / value facts and bullet items.

    Headings become the context of the blocks under them; chrome lines, short lines in another
    language than the page, and advertising sentences are dropped.

    Args:
        source: the document's name, stored in each block.
        raw: the document's text.
        doc_lang: the document's main language.

    Returns:
        Blocks in reading order, each raw[start:end] of the document.
    """
    lines = _lines(raw)
    heading = ""
    i = 0
    while i < len(lines):
        start, end, text = lines[i]
        kind = _kind(text)
        nxt = _kind(lines[i + 1][2]) if i + 1 < len(lines) else None
        if kind == "bullet" and nxt == "label" and i + 2 < len(lines):
            end, i = lines[i + 2][1], i + 3  # "-" / "Episode 1:" / value
        elif kind in ("bullet", "label") and nxt in ("text", "heading"):
            end, i = lines[i + 1][1], i + 2  # "Jahr:" / "2022" is one fact
        elif kind == "heading":
            if not _CHROME_LINE.match(text):
                heading = text
            i += 1
            continue
        else:
            i += 1
        yield from _clean(source, raw, start, end, doc_lang, heading)


def _clean(source: str, raw: str, start: int, end: int, doc_lang: str, heading: str) -> Iterator[Block]:
    """Drop chrome and ad sentences from raw[start:end]; yield what is left as blocks."""
    text = collapse(raw[start:end])
    if _CHROME_LINE.match(text):
        return
    lang = detect_language(text, default=doc_lang)
    if lang != doc_lang and len(text.split()) < 10:
        # A short line in another language than its page is site chrome ("Was this helpful?").
        log.debug("dropping chrome in %s: %r", source, text)
        return
    run_start: int | None = None
    run_end = start
    for s_start, s_end in _sentences(raw, start, end):
        if _AD_SENTENCE.search(raw[s_start:s_end]):
            log.debug("dropping ad sentence in %s: %r", source, raw[s_start:s_end])
            if run_start is not None:
                yield _block(source, raw, run_start, run_end, lang, heading)
            run_start = None
            continue
        if run_start is None:
            run_start = s_start
        run_end = s_end
    if run_start is not None:
        yield _block(source, raw, run_start, run_end, lang, heading)


def _block(source: str, raw: str, start: int, end: int, lang: str, heading: str) -> Block:
    return Block(source, start, end, collapse(raw[start:end]), lang, heading)


def _sentences(raw: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Sentence spans inside raw[start:end] (rag.text), each without surrounding whitespace."""
    for a, b in sentence_spans(raw[start:end]):
        yield start + a, start + b
