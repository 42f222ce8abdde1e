"""Abstention by names: a language whose source never names what the question names is left empty."""

from __future__ import annotations

import pytest

from rag.assistant import Assistant


def sides(assistant: Assistant, question: str) -> set[str]:
    """The languages that got passages."""
    return {p.lang for p in assistant.ask(question).passages}


@pytest.mark.parametrize(("question", "lang", "silent"), [
    ("Who is Yoon Dong-hyun in the show?", "en", {"de"}),  # only the English review names him
    ("Welche Rolle hat Yoon Dong-hyun in der Serie?", "de", {"de"}),
    ("Does Kyuhyun sing on the OST?", "en", {"en"}),  # only the German article names him
    ("Wie heißt Seon-woos Geschäftspartner?", "de", set()),  # a genitive is still the name
    ("Why is Disney+ making Korean dramas?", "en", set()),  # "Korean" is a word both sources translate
    ("Who plays the composer Kang Woo-il?", "en", set()),  # a lower-case word is no name
    ("Wie viele Folgen hat die Serie?", "de", set()),  # German nouns are capitalised, not names
])
def test_silent_languages(hashing_assistant: Assistant, question: str, lang: str, silent: set[str]) -> None:
    assert hashing_assistant.retriever.abstention.silent_languages(question, lang) == silent


def test_the_silent_side_gets_no_passages_and_the_other_keeps_its_own(hashing_assistant: Assistant) -> None:
    assert sides(hashing_assistant, "Who is Yoon Dong-hyun in the show?") == {"en"}
    assert sides(hashing_assistant, "Who is Lee Eun-soo in the show?") == {"en", "de"}  # both name her
