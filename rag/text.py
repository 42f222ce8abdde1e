"""Text: the one definition of what a word is and where a sentence ends (with exact character spans)."""

from __future__ import annotations

import re
from typing import NamedTuple

# A candidate end: terminal punctuation, closing quotes or brackets, footnote markers ("[1]"),
# then whitespace or the end of the text.
_CANDIDATE = re.compile(r"[.!?…]+[\"'”“»’)\]]*(?:\s?\[\d{1,3}\])*(?=\s|$)")
_WORD_BEFORE = re.compile(r"(#?)([^\W_]+)$")
# Abbreviations that (practically) never end a sentence; "etc." and "usw." often do, so they are
# left out. Single letters (initials, "z. B.", "u. a.", "d. h.", "e.g.") are handled as a rule.
ABBREVIATIONS = frozenset([
    "mr", "mrs", "ms", "dr", "prof", "jr", "sr", "st", "mt", "vs", "no", "nr", "hr", "fr", "bzw", "ca",
    "vgl", "ggf", "evtl", "inkl", "bspw", "sog", "hrsg", "bzgl", "ebd", "geb", "jh", "jhd", "mio", "mrd",
    "str", "tel", "zzgl", "ugs", "dt", "engl"])
# After the whitespace, these continue the sentence: a lower-case word, a dash or closing punctuation.
_CONTINUES = set("—–-,;:)]}")


# Words. A word is a run of letters and digits (never "_"); the variants below say which part of
# the text each stage looks at, and every stage takes its words from here.
_WORD = re.compile(r"[^\W_]+")
_LETTERS = re.compile(r"[^\W\d_]+")  # words of letters only: no numbers
_NAME_LIKE = re.compile(r"[^\W\d_][\w'’-]*")  # a word with its apostrophes and hyphens ("Hee-won", "ZE:A’s")
_NOT_WORD = re.compile(r"[\W_]+")
_NAME_OR_NUMBER = re.compile(r"\b(?:[A-Z][\w’'-]*|\d[\d.,]*)")
_CAPITALISED_INSIDE = re.compile(r"(?<=[\w,;] )[A-Z][\w’'-]+")
_LOWER = re.compile(r"(?<![\w’'-])[a-z]+(?![\w’'-])")


def all_words(text: str) -> list[str]:
    """Every word of a text, as written (letters and digits; punctuation and "_" separate words)."""
    return _WORD.findall(text)


def letter_words(text: str) -> list[str]:
    """The words of a text that start with a letter and hold no digits, as written."""
    return _LETTERS.findall(text)


def name_like_words(text: str) -> list[str]:
    """Words with their inner apostrophes and hyphens kept, starting with a letter ("Seon-woo", "Kim’s")."""
    return _NAME_LIKE.findall(text)


def names_and_numbers(text: str) -> list[str]:
    """Capitalised words and numbers, as written ("Kim", "Hee-won", "2022", "4.5")."""
    return _NAME_OR_NUMBER.findall(text)


def capitalised_inside_sentences(text: str) -> list[str]:
    """Capitalised words that follow another word or a comma (not a sentence's first word): names, titles,
    and in German every noun."""
    return _CAPITALISED_INSIDE.findall(text)


def lower_case_words(text: str) -> list[str]:
    """Words written wholly in lower case, as standalone words ("other", not the "s" of "Kim’s")."""
    return _LOWER.findall(text)


def word_key(token: str) -> str:
    """A token casefolded and stripped of everything but letters and digits ("Soundtrack," → "soundtrack")."""
    return _NOT_WORD.sub("", token.casefold())


def word_parts(token: str) -> list[str]:
    """A token's casefolded words ("Hee-won" → ["hee", "won"])."""
    return [p for p in _NOT_WORD.split(token.casefold()) if p]


class Sentence(NamedTuple):
    """One sentence: text == source[start:end], without surrounding whitespace."""

    text: str
    start: int
    end: int


def _ends_sentence(text: str, match: re.Match[str]) -> bool:
    """Whether a candidate end really ends a sentence (not "Mr.", "z. B.", "5. Folge", "Kim J. Lee")."""
    rest = text[match.end():].lstrip()
    if not rest:
        return True
    if rest[0].islower() or rest[0] in _CONTINUES:  # “Yes.” — Kim / "…and so on. and"
        return False
    terminal = match.group().rstrip("\"'”“»’)]0123456789[ ")
    if terminal != ".":
        return True
    before = _WORD_BEFORE.search(text, max(0, match.start() - 24), match.start())
    if before is None:
        return True
    hash_sign, word = before.groups()
    if word.casefold() in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return False
    # "23. März", "5. Erfrischendes Format", "1. Folge": ordinals of up to three digits; not "#1." or years.
    return not (word.isdigit() and len(word) <= 3 and not hash_sign)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of text, in order, each without surrounding whitespace.

    Every non-space character is in exactly one span; a piece without a letter ("4.", "…") is
    joined to its neighbour, so no sentence is a bare number or punctuation.

    Args:
        text: any text (line breaks count as spaces).

    Returns:
        (start, end) pairs; text[start:end] is a sentence. Empty for text without non-space characters.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in _CANDIDATE.finditer(text):
        if match.end() > pos and _ends_sentence(text, match):
            spans.append((pos, match.end()))
            pos = match.end()
    spans.append((pos, len(text)))
    trimmed = []
    for start, end in spans:
        piece = text[start:end]
        if piece.strip():
            start += len(piece) - len(piece.lstrip())
            trimmed.append((start, start + len(piece.strip())))
    merged: list[tuple[int, int]] = []
    for start, end in trimmed:
        if merged and not _has_letter(text[merged[-1][0]:merged[-1][1]]):
            merged[-1] = (merged[-1][0], end)  # a letterless piece first: join the next
        elif merged and not _has_letter(text[start:end]):
            merged[-1] = (merged[-1][0], end)  # join the previous
        else:
            merged.append((start, end))
    return merged


def _has_letter(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def sentences(text: str) -> list[Sentence]:
    """The sentences of text with their spans (see sentence_spans).

    Args:
        text: any text.

    Returns:
        Sentence(text, start, end) tuples, in order.
    """
    return [Sentence(text[a:b], a, b) for a, b in sentence_spans(text)]


def split_sentences(text: str) -> list[str]:
    """The sentence texts of a passage; a text without sentence ends (or blank) is one sentence.

    Args:
        text: passage text.

    Returns:
        At least one string; their concatenation with single spaces equals text when its whitespace
        is collapsed.
    """
    return [text[a:b] for a, b in sentence_spans(text)] or [text]
