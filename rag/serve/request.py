"""Request: what a caller sends (question, k, languages, history) checked and cleaned before any search."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from rag.errors import InvalidQuestionError

MAX_QUESTION_CHARS = 2000
MAX_K = 50
MAX_HISTORY = 20  # earlier questions kept for a follow-up; more is refused, not cut, so nothing is silently lost
MAX_LANGUAGES = 10


def clean_question(question: object) -> str:
    """Validate a question and make it safe to process.

    Control characters become spaces and whitespace is collapsed; a question of only invisible format
    characters (zero-width space, joiners, BOM) is empty.

    Raises:
        InvalidQuestionError: not a string, empty, or longer than MAX_QUESTION_CHARS.
    """
    if not isinstance(question, str):
        raise InvalidQuestionError(f"the question must be text, not {type(question).__name__}")
    if len(question) > 20 * MAX_QUESTION_CHARS:  # refuse megabytes before looking at every character
        raise InvalidQuestionError(
            f"the question is {len(question)} characters long; keep it under {MAX_QUESTION_CHARS}")
    text = " ".join("".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in question).split())
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestionError(
            f"the question is {len(text)} characters long; keep it under {MAX_QUESTION_CHARS}")
    # Format characters (zero-width space and joiners, BOM) are invisible: a question of nothing else is empty.
    if all(unicodedata.category(ch) == "Cf" for ch in text.replace(" ", "")):
        raise InvalidQuestionError("the question is empty: type a question about “Soundtrack #1”")
    return text


def check_k(k: Any, upper: int = MAX_K) -> int:
    """Validate a passages-per-language count: a whole number from 1 to upper (3.0 is 3; NaN, True, "3" are not).

    Raises:
        InvalidQuestionError: anything else.
    """
    if isinstance(k, float) and math.isfinite(k) and k.is_integer():
        k = int(k)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= upper:
        shown = repr(k) if isinstance(k, int | float) else f"a {type(k).__name__}"
        raise InvalidQuestionError(f"k must be a whole number from 1 to {upper}, not {shown[:40]}")
    return k


def check_languages(languages: Any, known: list[str]) -> list[str] | None:
    """Validate a languages option: None (all) or a non-empty list of the index's language codes.

    Raises:
        InvalidQuestionError: not a list of strings, empty, or naming a language the index lacks.
    """
    if languages is None:
        return None
    if not isinstance(languages, list | tuple) or len(languages) > MAX_LANGUAGES or not all(
            isinstance(lang, str) for lang in languages):
        raise InvalidQuestionError(f"languages must be a list of language codes such as {known}")
    if not languages:
        raise InvalidQuestionError(f"choose at least one language of {known}")
    unknown = [lang for lang in languages if lang not in known]
    if unknown:
        raise InvalidQuestionError(f"unknown language {unknown[0][:20]!r}: choose from {known}")
    return list(dict.fromkeys(languages))


def check_history(history: Any) -> list[str]:
    """Validate the earlier questions of a conversation: a list of at most MAX_HISTORY question strings.

    Returns:
        The questions, oldest first, each cleaned like a question.

    Raises:
        InvalidQuestionError: not a list of strings, too long, or an earlier question that is invalid.
    """
    if history is None:
        return []
    if not isinstance(history, list | tuple):
        raise InvalidQuestionError(f"history must be a list of earlier questions, not a {type(history).__name__}")
    if len(history) > MAX_HISTORY:
        raise InvalidQuestionError(f"history holds {len(history)} questions; send at most the last {MAX_HISTORY}")
    out = []
    for n, earlier in enumerate(history, start=1):
        try:
            out.append(clean_question(earlier))
        except InvalidQuestionError as exc:
            raise InvalidQuestionError(f"history item {n}: {exc}") from None
    return out
