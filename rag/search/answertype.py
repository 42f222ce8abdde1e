"""Answer types: what a question asks for, and which of those things a passage contains, by rules a reader can check.

A question asks for at most one type (the first rule that matches, in TYPES order); a passage contains any
number of them. Both sides are plain regular expressions over the text, every language profile's cues joined
(rag.profiles: English and German complete, French and Spanish questions in part), so "How long
is an episode?" / "Wie lange dauert eine Folge?" ask for a `duration`, which "Ungefähr 40 Minuten pro
Episode" contains and a plot summary does not. The retriever uses the match as a ranking feature and its
absence from every top passage as a confidence feature ("How tall is …?" asks for a `measure` no passage has).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from rag.profiles import joined

# The types a question may ask for, most specific first: "how long" is a duration before "how" is anything else.
TYPES = ("duration", "measure", "count", "date", "platform", "song", "quote", "title", "person")


ASKS = {name: re.compile(joined("asks", name), re.IGNORECASE) for name in TYPES if joined("asks", name)}
_UNIT = f"(?:{joined('says', 'unit')})"
_NUMBER_WORD = f"(?:{joined('says', 'number')})"
_FEW = f"(?:{joined('says', 'few')})"
_CONTAINS: dict[str, re.Pattern[str]] = {
    "duration": re.compile(rf"\b(?:\d+|{_NUMBER_WORD}|{_FEW})[ -]?{_UNIT}\b|{joined('says', 'duration')}",
                           re.IGNORECASE),
    "measure": re.compile(rf"\b\d+(?:[.,]\d+)?\s?(?:cm|m|kg|€|\$|euro|dollar|usd|won|{joined('says', 'measure')})\b"
                          r"|[€$]\s?\d", re.IGNORECASE),
    "count": re.compile(rf"\b(?:\d+|{_NUMBER_WORD})\b", re.IGNORECASE),
    "date": re.compile(rf"\b(?:19|20)\d\d\b|\b(?:{joined('says', 'month')})\b", re.IGNORECASE),
    "platform": re.compile(r"\b(?:disney\+|disney|netflix|viki|hulu|prime video|amazon|tving|wavve|youtube)"
                           rf"|{joined('says', 'platform')}", re.IGNORECASE),
    "song": re.compile(rf"\b(?:{joined('says', 'song')})\b", re.IGNORECASE),
    "quote": re.compile(rf"[\"“„»«][^\"”“»«]{{8,}}[\"”“»«]|\b(?:{joined('says', 'quote')})\b", re.IGNORECASE),
    "title": re.compile(r"[‘'\"“„][ ]?[A-Z][^‘’'\"”“]{2,40}[’'\"”“]"),
}


def asked_type(question: str) -> str:
    """The type of thing the question asks for ("" when no rule matches: an open question)."""
    return next((name for name in TYPES if name in ASKS and ASKS[name].search(question)), "")


def contained_types(text: str, names: Iterable[str] = ()) -> frozenset[str]:
    """The types a passage contains; a person is one of the corpus's names (names: their spellings in text)."""
    found = _rule_types(text)
    return found | {"person"} if any(name in text for name in names) else found


@lru_cache(maxsize=65_536)
def _rule_types(text: str) -> frozenset[str]:
    """The types the regular expressions find (memoised: every retriever of a corpus tags the same passages)."""
    return frozenset(name for name, rule in _CONTAINS.items() if rule.search(text))
