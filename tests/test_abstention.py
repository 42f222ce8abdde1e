"""Names: a language whose source never names what the question names is shown as `related`, never as answering."""

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
    ("Who is Seon-woo? And who is Han So-hee?", "en", set()),  # a sentence's first word is no name
    ("What happens in the show? Does Seon-woo win?", "en", set()),
    ("How Many Episodes Does It Have?", "en", set()),  # title case: stop words and everyday words
    ("HAN SO-HEE: WHO IS SHE?", "en", set()),  # capitals say nothing
    ("Why do Koreans like the show?", "en", set()),  # a plural of an everyday word
    ("Kyuhyun is on the OST, right? Does Yoon Dong-hyun sing?", "en", {"de"}),  # inside a second sentence
])
def test_silent_languages(hashing_assistant: Assistant, question: str, lang: str, silent: set[str]) -> None:
    query = hashing_assistant.index.names.normalize(question)
    assert hashing_assistant.retriever.abstention.silent_languages(query, lang) == silent


def test_the_silent_side_is_shown_as_related_never_hidden(hashing_assistant: Assistant) -> None:
    answer = hashing_assistant.ask("Who is Yoon Dong-hyun in the show?")  # only the English review names him
    assert sides(hashing_assistant, "Who is Yoon Dong-hyun in the show?") == {"en", "de"}
    assert answer.confidence["de"].label == "related"
    assert answer.confidence["de"].probability < answer.confidence["en"].probability
    both = hashing_assistant.ask("Who is Lee Eun-soo in the show?")  # both name her: the German side is not silent
    assert both.confidence["de"].probability > answer.confidence["de"].probability
