"""Sentences: the one definition of where a sentence ends, with exact character spans."""

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
