"""Answer types: what a question asks for, and which of those things a passage contains, by rules a reader can check.

A question asks for at most one type (the first rule that matches, in TYPES order); a passage contains any
number of them. Both sides are plain regular expressions over the text, in English and German, so "How long
is an episode?" / "Wie lange dauert eine Folge?" ask for a `duration`, which "Ungefähr 40 Minuten pro
Episode" contains and a plot summary does not. The retriever uses the match as a ranking feature and its
absence from every top passage as a confidence feature ("How tall is …?" asks for a `measure` no passage has).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# Question rules, most specific first: "how long" is a duration before "how" is anything else.
_ASKS: tuple[tuple[str, str], ...] = (
    ("duration", r"\bhow long\b|\bruntime\b|\brun ?time\b|\blength of\b|\bwie lange?\b|\blaufzeit\b|\bdauer"),
    ("measure", r"\bhow (?:tall|old|big|much|heavy|high)\b|\bwhat (?:does|do) .* cost\b|\bprice\b|\bbudget\b"
                r"|\bwie (?:groß|alt|schwer|hoch|teuer)\b|\bwas kostet\b|\bbudget\b"),
    ("count", r"\bhow many\b|\bnumber of\b|\bwie viele?\b|\banzahl\b"),
    ("date", r"\bwhen\b|\bwhat year\b|\bwhich year\b|\breleased in\b|\bwann\b|\bwelche[ms]? jahr|\bin welchem jahr\b"
             r"|\berscheinungsjahr\b|\b(?:19|20)\d\d\b.*\bor\b|\b(?:19|20)\d\d\b.*\boder\b"),
    ("platform", r"\bwhere (?:can|do|could|to)\b.*\b(?:watch|stream|see)\b|\bwhich (?:platform|service|channel)\b"
                 r"|\bstream(?:ing|ed)?\b|\bwo (?:kann|läuft|gibt|sieht|schaut)\b|\bplattform\b|\banbieter\b"
                 r"|\bstreamen\b|\bsender\b"),
    ("song", r"\bsongs?\b|\bost\b|\btracks?\b|\bsings?\b|\bsinger\b|\bballads?\b|\blieder?\b|\bsingt\b"
             r"|\bsänger(?:in)?\b|\btitelsong\b|\bmusik\b|\bmusic\b"),
    ("quote", r"\bsay\b|\bsaid\b|\bsays\b|\bquotes?\b|\bline\b|\bzitat|\bsagt\b|\bsagte\b"),
    ("title", r"\bwhat (?:other )?(?:dramas|shows|series|films|movies)\b|\bwhich (?:dramas|shows|series|films)\b"
              r"|\bknown for\b|\bwelche[n]? (?:anderen )?(?:serien|dramen|filme)\b|\bin welchen\b"
              r"|\bwhat else\b|\bwas .* sonst\b|\bvorher\b|\bbefore\b"),
    ("person", r"\bwho\b|\bwhom\b|\bwhose\b|\bwhich (?:actor|actress|singer|director|writer|character)\b"
               r"|(?<!mir )\bwer\b|\bwem\b|\bwen\b|\bwessen\b|\bvon wem\b"
               r"|\bwelche[rs]? (?:schauspieler|darsteller|figur|regisseur|autor)"),
)
ASKS = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in _ASKS}
TYPES = tuple(ASKS)

_UNIT = (r"(?:minutes?|mins?|hours?|hrs?|weeks?|days?|years?|months?|episodes?|minuten|stunden|wochen|tage[n]?"
         r"|jahre[n]?|monate[n]?|folgen|episoden)")
_NUMBER_WORD = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|forty|ein|eine[nm]?|zwei|drei|vier"
                r"|fünf|sechs|sieben|acht|neun|zehn|zwölf|zwanzig|vierzig)")
_CONTAINS: dict[str, re.Pattern[str]] = {
    "duration": re.compile(rf"\b(?:\d+|{_NUMBER_WORD}|a few|several|einige)[ -]?{_UNIT}\b|\bdauer|\blaufzeit\b"
                           r"|\bruntime\b", re.IGNORECASE),
    "measure": re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:cm|m|kg|€|\$|euro|dollar|usd|won|jahre alt|years old)\b"
                          r"|[€$]\s?\d", re.IGNORECASE),
    "count": re.compile(rf"\b(?:\d+|{_NUMBER_WORD})\b", re.IGNORECASE),
    "date": re.compile(r"\b(?:19|20)\d\d\b|\b(?:january|february|march|april|may|june|july|august|september|october"
                       r"|november|december|januar|februar|märz|mai|juni|juli|oktober|dezember)\b", re.IGNORECASE),
    "platform": re.compile(r"\b(?:disney\+|disney|netflix|viki|hulu|prime video|amazon|tving|wavve|youtube)"
                           r"|\bstreaming\b|\bverfügbar\b", re.IGNORECASE),
    "song": re.compile(r"\b(?:songs?|ost|tracks?|sings?|sang|sung|singer|ballads?|lieder?|singt|sang|sänger(?:in)?"
                       r"|soundtrack album|melod(?:y|ie|ien)|lyric(?:s|ist)?|texte?rin)\b", re.IGNORECASE),
    "quote": re.compile(r"[\"“„»«][^\"”“»«]{8,}[\"”“»«]|\b(?:said|says|stated|sagte|sagt|erklärte|meinte)\b",
                        re.IGNORECASE),
    "title": re.compile(r"[‘'\"“„][ ]?[A-Z][^‘’'\"”“]{2,40}[’'\"”“]"),
}


def asked_type(question: str) -> str:
    """The type of thing the question asks for ("" when no rule matches: an open question)."""
    return next((name for name, rule in ASKS.items() if rule.search(question)), "")


def contained_types(text: str, names: Iterable[str] = ()) -> frozenset[str]:
    """The types a passage contains; a person is one of the corpus's names (names: their spellings in text)."""
    found = _rule_types(text)
    return found | {"person"} if any(name in text for name in names) else found


@lru_cache(maxsize=65_536)
def _rule_types(text: str) -> frozenset[str]:
    """The types the regular expressions find (memoised: every retriever of a corpus tags the same passages)."""
    return frozenset(name for name, rule in _CONTAINS.items() if rule.search(text))
