"""The one sentence splitter (rag.text): real corpus lines, abbreviations, ordinals, spans, every passage."""

from __future__ import annotations

import re

import pytest

from rag.assistant import Assistant
from rag.text import sentence_spans, sentences, split_sentences
from tests.conftest import CORPUS

EN = (CORPUS / "soundtrack1_review_en.txt").read_text(encoding="utf-8").splitlines()
DE = (CORPUS / "soundtrack1_article_de.txt").read_text(encoding="utf-8").splitlines()
# What a sentence may not end with, unless the text ends there: an abbreviation, an initial or an ordinal.
INSIDE = re.compile(r"(?:\b(?:Mr|Mrs|Dr|Prof|bzw|ca|Nr|vgl)|(?<![\w#])[^\W\d_]|(?<![\w#])\d{1,2})\.$")


def real_line(lines: list[str], needle: str) -> str:
    found = [line for line in lines if needle in line]
    assert found, f"the corpus no longer has a line with {needle!r}"
    return found[0].strip()


def test_mr_in_a_real_english_line_stays_inside_its_sentence() -> None:
    line = real_line(EN, "‘Mr. Sunshine’")
    parts = split_sentences(line)
    assert len(parts) == 1 and "‘Mr. Sunshine’ and ‘ Vincenzo’" in parts[0]


@pytest.mark.parametrize("number", range(1, 7))
def test_german_list_numbers_in_real_lines_start_their_sentence(number: int) -> None:
    line = real_line(DE, f"{number}. ")
    assert line.startswith(f"{number}. ")
    parts = split_sentences(line)
    assert parts[0].startswith(f"{number}. ") and len(parts[0]) > 20
    assert all(re.search(r"[^\W\d_]", part) for part in parts)


@pytest.mark.parametrize(("text", "expected"), [
    ("Dr. Kim agrees. Mr. Lee does not.", ["Dr. Kim agrees.", "Mr. Lee does not."]),
    ("Das ist z. B. gut. Es läuft ca. 40 Minuten.", ["Das ist z. B. gut.", "Es läuft ca. 40 Minuten."]),
    ("Er sang bzw. spielte. Es gibt u. a. Lieder, d. h. Musik.",
     ["Er sang bzw. spielte.", "Es gibt u. a. Lieder, d. h. Musik."]),
    ("Sie lief am 23. März 2022 an. Die 1. Folge zeigt Seon-woo.",
     ["Sie lief am 23. März 2022 an.", "Die 1. Folge zeigt Seon-woo."]),
    ("Siehe Episode 4. Folge für das Ende.", ["Siehe Episode 4. Folge für das Ende."]),
    ("5. Erfrischendes Format: kurz. 6. Liebe: still.", ["5. Erfrischendes Format: kurz.", "6. Liebe: still."]),
    ("Written by J. K. Kim. It aired in 2022. Then it ended.",
     ["Written by J. K. Kim.", "It aired in 2022.", "Then it ended."]),
    ("It was a hit.[1] Critics agreed [2]. Soundtrack #1. Was it good?! Yes… mostly.",
     ["It was a hit.[1]", "Critics agreed [2].", "Soundtrack #1.", "Was it good?!", "Yes… mostly."]),
    ("He said “Yes.” — Kim nodded. “Fine.” She left.", ["He said “Yes.” — Kim nodded.", "“Fine.”", "She left."]),
    ("Toll! … Dann ging es los.", ["Toll! …", "Dann ging es los."]),
])
def test_abbreviations_initials_ordinals_and_footnotes(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@pytest.mark.parametrize("text", ["  Mr. Lee sang.\n\n2. Teil: Dr. Kim.  ", "…", "a. b. c.", "Ende. 4.", "4. 5. 6."])
def test_spans_are_exact_and_cover_every_character(text: str) -> None:
    found = sentences(text)
    assert all(s.text == text[s.start : s.end] == s.text.strip() and s.text for s in found)
    assert all(a.end <= b.start for a, b in zip(found, found[1:], strict=False))
    covered = "".join(s.text for s in found)
    assert covered.replace(" ", "").replace("\n", "") == "".join(text.split())


def test_no_bare_number_or_punctuation_when_a_letter_is_near() -> None:
    assert split_sentences("Ende. 4.") == ["Ende. 4."]
    assert split_sentences("4. Dann.") == ["4. Dann."]
    assert sentence_spans("   ") == [] and split_sentences("") == [""]


def test_every_passage_of_the_real_corpus_splits_cleanly(hashing_assistant: Assistant) -> None:
    index = hashing_assistant.index
    assert len(index.chunks) > 50
    total = 0
    for chunk in index.chunks:
        assert not INSIDE.search(chunk.text), f"passage ends inside an abbreviation: {chunk.text[-60:]!r}"
        parts = split_sentences(chunk.text)
        assert " ".join(parts) == chunk.text
        for part in parts:
            assert re.search(r"[^\W\d_]", part), f"bare number or punctuation: {part!r} in {chunk.source}"
        for part in parts[:-1]:
            assert not INSIDE.search(part), f"sentence ends inside an abbreviation: {part[-60:]!r}"
        total += len(parts)
    assert total == len(index.sentence_vectors)  # the stored sentence vectors follow the same splitter


@pytest.mark.parametrize("question", ["Who is Yoon Dong Hyun?", "Was macht die Serie erfrischend?",
                                      "Welche Höhepunkte hat die Serie?", "Who plays Seon-woo?"])
def test_highlights_and_answer_text_are_whole_sentences(hashing_assistant: Assistant, question: str) -> None:
    answer = hashing_assistant.ask(question, k=5)
    assert answer.passages
    for passage in (p for p in answer.passages if p.highlight):  # passages far below the best have none
        assert passage.highlight in split_sentences(passage.text)
        assert re.search(r"[^\W\d_]", passage.highlight) and not INSIDE.search(passage.highlight)
    assert not re.search(r"(?:Mr|Dr|\b\d{1,2})\.\s*\[\d+\]", answer.text)
