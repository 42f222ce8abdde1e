"""Sources: an answer's passages as safe, structured HTML cards, and the chat reply with its [n] citations."""

from __future__ import annotations

import html

from rag.answer import Answer, Passage
from rag.api import as_sentence
from rag.terminal import printable

LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
NO_PASSAGE = {"en": "No relevant English passage.", "de": "Keine passende deutsche Textstelle."}


def shown_question(question: str, limit: int = 300) -> str:
    """The question as plain text for the chat, shortened when very long."""
    text = " ".join(question.split())
    return text if len(text) <= limit else text[:limit] + "…"


# The chat holds plain text (what screen readers announce); the sources panel is HTML built here
# from escaped text, with inline styles.
CARD = ("margin:6px 0;padding:8px 10px;border-left:3px solid var(--color-accent);"
        "border-radius:6px;background:var(--background-fill-secondary)")
META = "font-size:0.85em;color:var(--body-text-color-subdued);margin-bottom:4px"
HEADING = "font-weight:600;margin:10px 0 2px;border-bottom:1px solid var(--border-color-primary)"
TEXT = "font-size:0.95em;line-height:1.5"
GRID = "display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:0 16px"
MARK = "background:#fde68a;color:#1f2937;padding:0 2px;border-radius:3px"
def _highlighted(passage: Passage) -> str:
    """The passage text as escaped HTML with its highlight sentence wrapped in <mark>."""
    if not passage.highlight or passage.highlight not in passage.text:
        return html.escape(passage.text)
    before, found, after = passage.text.partition(passage.highlight)
    return (f"{html.escape(before)}<mark style=\"{MARK}\">{html.escape(found)}</mark>"
            f"{html.escape(after)}")


def _lines(passage: Passage) -> str:
    if passage.line_start == passage.line_end:
        return f"line {passage.line_start}"
    return f"lines {passage.line_start}–{passage.line_end}"


def _passage_card(number: int, passage: Passage) -> str:
    """One cited passage as a list item: citation number, source, lines, score, then the highlighted text."""
    meta = (f"<b>[{number}]</b> {html.escape(printable(passage.source))} · {_lines(passage)} · "
            f"score {passage.score:.2f}")
    body = f'<div style="{TEXT}">{_highlighted(passage)}</div>'
    return f'<li style="{CARD}"><div style="{META}">{meta}</div>{body}</li>'


def format_sources(answer: Answer, languages: list[str] | None = None) -> str:
    """The sources panel: the passages grouped by language, as safe, structured HTML.

    Args:
        answer: the assistant's answer.
        languages: the languages to give a section (default: those with passages).

    Returns:
        HTML (headings and lists, for screen readers too) in which every text is escaped; "" without passages.
    """
    if not answer.passages:
        return ""
    grouped = answer.by_language()
    wanted = languages or list(grouped)
    order = sorted(wanted, key=lambda lang: (lang != answer.lang, wanted.index(lang)))
    sections = []
    for lang in order:
        name = html.escape(LANGUAGE_NAMES.get(lang, "Other")) + _sureness(answer, lang)
        cards = "".join(_passage_card(n, p) for n, p in grouped.get(lang, []))
        none = NO_PASSAGE.get(lang, f"No relevant {lang} passage.")
        cards = (f'<ol style="list-style:none;padding:0;margin:0">{cards}</ol>' if cards
                 else f"<p><i>{html.escape(none)}</i></p>")
        sections.append(f'<section lang="{html.escape(lang)}"><h3 style="{HEADING}">{name}</h3>{cards}</section>')
    title = f"Sources for “{html.escape(shown_question(answer.question, 120))}”"
    return (f'<div role="region" aria-label="Sources"><h2 style="font-size:1.05em;margin:4px 0">{title}</h2>'
            f'<div style="{GRID}">{"".join(sections)}</div></div>')


SURENESS = {"answers": "answers", "related": "related, may not answer"}


def _sureness(answer: Answer, lang: str) -> str:
    """The language's confidence in words for its heading; the probability goes to a tooltip."""
    sure = answer.confidence.get(lang)
    if sure is None or sure.label not in SURENESS:
        return ""
    return (f' <small title="{sure.probability:.0%} likely that its top 3 answer">— '
            f"{html.escape(SURENESS[sure.label])}</small>")


def format_reply(answer: Answer) -> str:
    """The chat reply: the short answer and where its [n] citations come from, as escaped plain text."""
    lines = [answer.text]
    if answer.passages:
        cited = "; ".join(f"[{n}] {printable(p.source)}, {_lines(p)}" for n, p in enumerate(answer.passages, start=1))
        lines.append(f"Sources (below): {cited}")
    return html.escape("\n".join(lines), quote=False)


def format_error(message: str) -> str:
    """An error message for the chat, as escaped plain text."""
    return html.escape(f"⚠ {as_sentence(message)}", quote=False)
