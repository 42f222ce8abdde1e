"""Chat: a visitor's conversation as turns (question, answer or error) and its HTML — the answer first, its
[n] citations linked to the cards below it."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.answer import Answer
from rag.api import GENERIC_ERROR, as_sentence, brief
from rag.errors import RagError
from rag.serve.request import MAX_HISTORY, check_k
from rag.serve.sources import format_sources, linked_text, shown_question

if TYPE_CHECKING:
    from rag.assistant import Assistant

log = logging.getLogger("rag.ui")

MAX_TURNS = MAX_HISTORY  # turns kept on the page per visitor (the oldest go first); each is a follow-up's history
SLIDER_MAX = 10  # most passages per language the page asks for
NO_LANGUAGE = "Tick at least one language under “Options” to search."


@dataclass(frozen=True)
class Turn:
    """One question and what the page said to it: an Answer, or an error sentence."""

    question: str
    answer: Answer | None = None
    error: str = ""
    languages: tuple[str, ...] = ()  # the columns its sources show


def asked(turns: list[Turn]) -> list[str]:
    """The questions answered so far, oldest first: a follow-up's history."""
    return [turn.answer.question for turn in turns if turn.answer is not None]


def take_turn(assistant: Assistant, question: Any, turns: Any, k: Any = 3, languages: Any = None) -> list[Turn]:
    """Answer a question after the earlier turns; every input arrives unprocessed from the browser.

    Args:
        assistant: the shared assistant.
        question: the text typed by the user.
        turns: the conversation so far (this visitor's server-side state).
        k: passages per language (the slider).
        languages: the ticked languages.

    Returns:
        The conversation with the new turn last (at most MAX_TURNS); a bad input becomes an error turn.
    """
    turns = [turn for turn in turns if isinstance(turn, Turn)] if isinstance(turns, list) else []
    shown = question if isinstance(question, str) else ""
    try:
        if isinstance(languages, list) and not languages:
            turn = Turn(shown, error=NO_LANGUAGE)
        else:
            answer = assistant.ask(question, k=check_k(k, SLIDER_MAX), languages=languages,
                                   history=asked(turns)[-MAX_HISTORY:])
            turn = Turn(answer.question, answer, languages=tuple(languages or assistant.languages))
    except RagError as exc:
        turn = Turn(shown, error=as_sentence(str(exc)))
    except Exception:
        log.exception("answering %s failed", brief(question))
        turn = Turn(shown, error=GENERIC_ERROR)
    return [*turns, turn][-MAX_TURNS:]


def format_error(message: str) -> str:
    """An error sentence for the page, as escaped text."""
    return html.escape(f"⚠ {as_sentence(message)}", quote=False)


def turn_html(turn: Turn, number: int, latest: bool) -> str:
    """One turn: the question, the answer with linked citations, then its sources (older turns: folded)."""
    question = html.escape(shown_question(turn.question), quote=False) if turn.question.strip() else "…"
    head = (f'<div class="rag-q"><span class="rag-who">You asked</span> <h2 class="rag-q-text">{question}</h2>'
            f"</div>")
    if turn.answer is None:
        return (f'<article class="rag-turn" id="t{number}" aria-label="Question {number}">{head}'
                f'<div class="rag-a rag-error" role="alert">{format_error(turn.error)}</div></article>')
    answer = turn.answer
    body = (f'<div class="rag-a"><span class="rag-who">Answer</span> '
            f'<p class="rag-a-text">{linked_text(answer, number)}</p></div>')
    sources = format_sources(answer, list(turn.languages) or None, number)
    if sources:
        count = len(answer.passages)
        sources = (f'<details class="rag-turn-sources"{" open" if latest else ""}>'
                   f"<summary>Sources of this answer ({count} passage{'s' if count != 1 else ''})</summary>"
                   f"{sources}</details>")
    return (f'<article class="rag-turn" id="t{number}" aria-label="Question {number}" '
            f'lang="{html.escape(answer.lang)}">{head}{body}{sources}</article>')


def conversation_html(turns: list[Turn]) -> str:
    """The whole conversation, oldest first; the newest turn's sources open.

    Args:
        turns: the visitor's turns.

    Returns:
        HTML in which every text is escaped; "" for an empty conversation.
    """
    if not turns:
        return ""
    last = len(turns)
    return "".join(turn_html(turn, n, n == last) for n, turn in enumerate(turns, start=1))
