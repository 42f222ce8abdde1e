"""HTML: the page's main text (selectolax), navigation and boilerplate dropped; headings are places."""

from __future__ import annotations

import re
from typing import Any

from rag.ingest.readers.base import Extracted, ReadError, join_parts
from rag.ingest.readers.text import decode, head

# Never text a reader came for: code, menus, page chrome, forms.
DROPPED = ("script", "style", "noscript", "template", "svg", "iframe", "nav", "header", "footer", "aside", "form",
           "button", "select", "dialog", "menu")
# Tags that end a line of text; everything else (b, a, span, em …) flows inside one.
BLOCKS = frozenset({"p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "table", "tr",
                    "blockquote", "pre", "figure", "figcaption", "caption", "br", "hr", "address", "details",
                    "summary", "h1", "h2", "h3", "h4", "h5", "h6", "body"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
CELLS = frozenset({"td", "th"})
_CELL = "\x1f"  # between a row's cells until the row is written
_MARKUP = re.compile(r"<(!doctype html|html|head|body|p|div|h[1-6]|title|meta)[\s>]", re.IGNORECASE)
MAX_DEPTH = 5000  # elements left open at once: deeper pages are refused (the parser's time grows much faster)
# Tags that need no end tag: left open they do not nest deeper.
_SELF_CLOSING = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                           "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
                           "thead", "tbody", "tfoot", "colgroup", "rb", "rt", "rp", "html", "head", "body"})
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>")


class HtmlReader:
    """.html pages: the text of <main> (else <article>, else <body>) in reading order."""

    kind: str = "an HTML page"
    suffixes: tuple[str, ...] = (".html", ".htm", ".xhtml")

    def sniff(self, data: bytes) -> bool:
        return bool(_MARKUP.search(head(data)))

    def read(self, data: bytes) -> Extracted:
        from selectolax.lexbor import LexborHTMLParser

        text = decode(data)
        _check_depth(text)
        tree = LexborHTMLParser(text)
        for node in tree.css(", ".join(DROPPED)):
            node.decompose()
        # The main text: <main>, else <article>, else <body> — the first of them that holds any text.
        for root in (tree.css_first("main"), tree.css_first("article"), tree.body):
            if root is not None and (extracted := join_parts(_lines(root))).text.strip():
                return extracted
        raise ReadError("no text in the page")


def _check_depth(text: str) -> None:
    """Refuse a page that leaves more than MAX_DEPTH elements open at once (checked in one pass, before parsing)."""
    depth = 0
    for closing, tag, empty in _TAG.findall(text):
        if tag.lower() in _SELF_CLOSING or empty:
            continue
        depth += -1 if closing else 1
        if depth > MAX_DEPTH:
            raise ReadError(f"elements nested more than {MAX_DEPTH} deep (a damaged or hostile page?)")


def _lines(root: Any) -> list[tuple[str, str]]:
    """(section, line) in document order: a block tag ends a line, a table cell is joined to its row."""
    out: list[tuple[str, str]] = []
    line: list[str] = []
    section = ""

    def flush() -> None:
        cells = [" ".join(c.split()) for c in "".join(line).split(_CELL)]
        line.clear()
        cells = [c for c in cells if c]
        # A two-cell row reads as a fact ("Director: Kim"), as the text files write them.
        text = ": ".join(cells) if len(cells) == 2 else " | ".join(cells)
        if text:
            out.append((f"§ {section}" if section else "", text))

    stack: list[tuple[Any, bool]] = [(root, True)]
    while stack:
        node, entering = stack.pop()
        tag = node.tag
        if tag == "-text":
            line.append(node.text_content or "")
            continue
        if not entering:  # leaving a block: its text is one line
            if tag in HEADINGS:
                section = " ".join("".join(line).replace(_CELL, " ").split()) or section
            flush()
            continue
        if tag in BLOCKS:
            flush()
            stack.append((node, False))
        elif tag in CELLS:
            line.append(_CELL)
        stack.extend((child, True) for child in reversed(list(node.iter(include_text=True))))
    flush()
    return out
