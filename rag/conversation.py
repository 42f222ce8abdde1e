"""Conversation: a follow-up question ("And how long is each one?") made self-contained from earlier turns.

No language model: a question that leans on the previous turn — it starts with "and …"/"und …"/"what
about …", or points back with a pronoun ("who plays him?", "Wer spielt sie?"), or is too short to
stand alone and names nothing — is searched together with the previous question, which is itself
resolved the same way first. A question that names what it asks about is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from rag.profiles import joined

# Openers that continue the previous turn, and words that point back to something named earlier
# (rag.profiles: each language's "opener" and "points_back" cues).
_CONTINUES = re.compile(rf"^\s*(?:{joined('cues', 'opener')})\b", re.IGNORECASE)
_POINTS_BACK = re.compile(rf"\b(?:{joined('cues', 'points_back')})\b", re.IGNORECASE)
SHORT = 2  # content words: a question with fewer that names nothing cannot stand alone ("Wie lange?")


def leans_on_context(question: str, content_words: Sequence[str], names_something: bool) -> bool:
    """Whether a question needs the earlier turns to be understood.

    Args:
        question: the question as asked.
        content_words: its content words (no stop words).
        names_something: it names a person, title or term the sources know (a capitalised name, a number).

    Returns:
        True for follow-ups.
    """
    if _CONTINUES.search(question):
        return True
    if names_something:
        return False
    return bool(_POINTS_BACK.search(question)) or len(content_words) < SHORT


def resolve(question: str, history: Sequence[str], needs_context: Callable[[str], bool]) -> str:
    """The text to search for: the question, joined with the previous turn when it is a follow-up.

    Args:
        question: the current question.
        history: earlier questions, oldest first.
        needs_context: tells whether a question leans on the turn before it (see leans_on_context).

    Returns:
        The question itself, or "question previous-turn" with the previous turn resolved the same way.
    """
    context = ""
    for earlier in history:  # each earlier turn resolved against the one before it
        context = f"{earlier} {context}".strip() if context and needs_context(earlier) else earlier
    if not context or not needs_context(question):
        return question
    return f"{question} {context}"


def blend(own: np.ndarray, joined: np.ndarray, share: float) -> np.ndarray:
    """A follow-up's search vector: share of its own vector, the rest the joined text's, of unit length.

    The joined text's vector leans on the earlier turn ("How many episodes?" outweighs "And how long is
    each one?"), so its answer outranked the follow-up's; tune follow-ups: hit@3 0.777 → 0.827 at 0.5.
    """
    vector = share * own + (1 - share) * joined
    return vector / max(float(np.linalg.norm(vector)), 1e-12)
