"""Sources: an answer's passages as safe HTML cards — cited first, the rest as further reading — each with its
confidence in words, a copy-quote button and a viewer that shows it in its document."""

from __future__ import annotations

import html
import re

from rag.answer import Answer, Passage
from rag.profiles import profile
from rag.serve.viewer import MARK, lines
from rag.terminal import printable

CITATION = re.compile(r"\[(\d+)\]")
# The confidence a card or a language shows, as a word (and a colour, in the page's CSS); the score is a tooltip.
WORDS = {"answers": "answers", "related": "related, may not answer", "none": "not about this",
         "further": "further reading"}


def shown_question(question: str, limit: int = 300) -> str:
    """The question as plain text for the page, shortened when very long."""
    text = " ".join(question.split())
    return text if len(text) <= limit else text[:limit] + "…"


def cited(answer: Answer) -> set[int]:
    """The citation numbers the answer's text uses."""
    return {int(n) for n in CITATION.findall(answer.text) if 1 <= int(n) <= len(answer.passages)}


def card_id(turn: int, number: int) -> str:
    """The DOM id of a turn's passage card (a citation [n] links to it)."""
    return f"t{turn}-p{number}"


def _highlighted(passage: Passage) -> str:
    """The passage text as escaped HTML with its highlight sentence wrapped in <mark>."""
    if not passage.highlight or passage.highlight not in passage.text:
        return html.escape(passage.text)
    before, found, after = passage.text.partition(passage.highlight)
    return f'{html.escape(before)}<mark style="{MARK}">{html.escape(found)}</mark>{html.escape(after)}'


def _chip(kind: str, tooltip: str) -> str:
    return f'<span class="rag-chip rag-{kind}" title="{html.escape(tooltip)}">{WORDS[kind]}</span>'


def _card(turn: int, number: int, passage: Passage, kind: str) -> str:
    """One passage: citation number, file and lines, its confidence word, the text, copy and view buttons."""
    source = html.escape(printable(passage.source))
    cite = f"{printable(passage.source)}, {lines(passage)}"  # the copy button quotes the card's text with it
    meta = (f"<b>[{number}]</b> {source} · {lines(passage)} "
            f"{_chip(kind, f'score {passage.score:.2f} (for ranking; not a probability)')}")
    # The viewer asks the server for the passage by its shown name and span: the text comes from the index.
    buttons = (f'<button type="button" class="rag-button" data-view data-source="{source}" '
               f'data-start="{passage.start}" data-end="{passage.end}" '
               f'aria-label="Show in document [{number}]">Show in document</button>'
               f'<button type="button" class="rag-button" data-quote="{html.escape(cite)}" '
               f'aria-label="Copy quote [{number}] with its citation">Copy quote</button>')
    return (f'<li id="{card_id(turn, number)}" class="rag-card rag-card-{kind}">'
            f'<div class="rag-meta">{meta}</div><div class="rag-text">{_highlighted(passage)}</div>'
            f'<div class="rag-actions">{buttons}</div></li>')


def _side_kind(answer: Answer, lang: str) -> str:
    sure = answer.confidence.get(lang)
    return sure.label if sure is not None and sure.label in WORDS else "answers"


def _heading(answer: Answer, lang: str) -> str:
    """The language's name and, when known, its confidence as a word; the probability goes to a tooltip."""
    name = html.escape(profile(lang).name)
    sure = answer.confidence.get(lang)
    if sure is None or sure.label not in WORDS:
        return f"<h3>{name}</h3>"
    tip = f"{sure.probability:.0%} likely that its top 3 answer"
    return f"<h3>{name} {_chip(sure.label, tip)}</h3>"


def format_sources(answer: Answer, languages: list[str] | None = None, turn: int = 1) -> str:
    """A turn's sources: per language the cited passages, then the others as further reading.

    Args:
        answer: the assistant's answer.
        languages: the languages to give a column (default: those with passages).
        turn: the turn's number on the page, which makes its ids unique.

    Returns:
        HTML in which every text is escaped; "" without passages.
    """
    if not answer.passages:
        return ""
    grouped = answer.by_language()
    wanted = languages or list(grouped)
    order = sorted(wanted, key=lambda lang: (lang != answer.lang, wanted.index(lang)))
    used = cited(answer)
    columns = []
    for lang in order:
        side = grouped.get(lang, [])
        first = "".join(_card(turn, n, p, _side_kind(answer, lang)) for n, p in side if n in used)
        rest = "".join(_card(turn, n, p, "further") for n, p in side if n not in used)
        parts = [_heading(answer, lang)]
        if not side:
            parts.append(f'<p class="rag-note">{html.escape(profile(lang).no_passage)}</p>')
        if first:
            parts.append(f'<ol class="rag-cards" aria-label="Cited">{first}</ol>')
        if rest:
            parts.append(f'<p class="rag-further-title">Further reading</p><ol class="rag-cards">{rest}</ol>')
        columns.append(f'<section lang="{html.escape(lang)}" class="rag-column">{"".join(parts)}</section>')
    return f'<div class="rag-sources">{"".join(columns)}</div>'


def linked_text(answer: Answer, turn: int) -> str:
    """The answer's text as escaped HTML whose [n] markers link to their cards."""
    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if not 1 <= n <= len(answer.passages):
            return match.group(0)
        passage = answer.passages[n - 1]
        label = f"Source {n}: {printable(passage.source)}, {lines(passage)}"
        return f'<a href="#{card_id(turn, n)}" class="rag-cite" title="{html.escape(label)}">[{n}]</a>'

    return CITATION.sub(link, html.escape(answer.text, quote=False))
