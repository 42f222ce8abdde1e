"""Assistant.ask options: languages filter what is shown (never what is understood), history, k."""

from __future__ import annotations

import math

import pytest

import rag.assistant
from rag import Assistant, InvalidQuestionError
from rag.profiles import PROFILES, profile
from rag.search.confidence import ANSWERS, RELATED, Confidence
from rag.serve.request import MAX_HISTORY

QUESTIONS = ["Wer führte Regie?", "Who wrote the script?", "How's the cinematography?", "Wie gut ist der Schnitt?",
             "Who plays Seon-woo?", "Wie viele Folgen hat die Serie?", "How do I reverse a list in Python?",
             "Worum geht es in Crash Landing on You?"]


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("lang", ["en", "de"])
def test_one_language_shows_exactly_that_languages_share_of_the_full_answer(
        hashing_assistant: Assistant, question: str, lang: str) -> None:
    full = hashing_assistant.ask(question, k=3)
    one = hashing_assistant.ask(question, k=3, languages=[lang])
    assert one.passages == [p for p in full.passages if p.lang == lang]
    if full.passages:  # answerable stays answerable: never "nothing found"
        assert one.text not in {p.nothing_found for p in PROFILES.values()}
    else:  # an off-topic question stays refused whatever is ticked
        assert one.text == full.text


@pytest.mark.parametrize(("question", "lang"), [("How's the cinematography?", "en"), ("Who wrote the script?", "de")])
def test_evidence_from_every_language_decides_relevance(hashing_assistant: Assistant, question: str,
                                                        lang: str) -> None:
    # Searching one language alone finds too little evidence and refuses the question ...
    assert hashing_assistant.retriever.search(question, 3, [lang], lang="en")[lang] == []
    # ... but the assistant decides on every language, then shows the chosen one.
    assert {p.lang for p in hashing_assistant.ask(question, languages=[lang]).passages} == {lang}


def test_answer_only_in_a_hidden_language_says_where_it_is(hashing_assistant: Assistant,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    class GermanAnswers:  # as when only the German side is sure: the question's own language is only related
        def grade(self, signals: dict[str, dict[str, float]]) -> dict[str, Confidence]:
            return {lang: Confidence(RELATED if s["same_language"] else ANSWERS, 0.5) for lang, s in signals.items()}

    monkeypatch.setattr(rag.assistant.confidence, "shipped", GermanAnswers)
    answer = hashing_assistant.ask("Who directed the series?", languages=["en"])
    assert answer.text == profile("en").only_elsewhere.format(shown="English", hidden="German")
    assert {p.lang for p in answer.passages} == {"en"} and answer.confidence["en"].label == RELATED  # shown, related
    german = hashing_assistant.ask("Wer führte Regie?", languages=["en"])  # English is not its language: answers
    assert german.confidence["en"].label == ANSWERS and "Deutsch" not in german.text


@pytest.mark.parametrize("languages", [[], "en", ["fr"], [1], ["en", None], {"en": 1}, ["en"] * 11])
def test_malformed_languages_are_refused(hashing_assistant: Assistant, languages: object) -> None:
    with pytest.raises(InvalidQuestionError, match="language"):
        hashing_assistant.ask("Who plays Seon-woo?", languages=languages)  # type: ignore[arg-type]


@pytest.mark.parametrize("history", [None, [], ["Wie viele Folgen hat die Serie?"], ("Who directed it?", "And?"),
                                     ["x" * 2000] * MAX_HISTORY])
def test_valid_history_is_accepted_and_leaves_a_self_contained_question_alone(
        hashing_assistant: Assistant, history: object) -> None:
    alone = hashing_assistant.ask("Who plays Seon-woo?")
    assert hashing_assistant.ask("Who plays Seon-woo?", history=history) == alone  # type: ignore[arg-type]


@pytest.mark.parametrize(("history", "words"), [
    ("Wer führte Regie?", "must be a list"), ({"q": "x"}, "must be a list"), ([123], "history item 1"),
    (["ok", ["Wer", "Regie"]], "history item 2"), (["ok", ""], "history item 2: the question is empty"),
    (["x" * 2001], "history item 1"), (["Wer?"] * (MAX_HISTORY + 1), f"at most the last {MAX_HISTORY}"),
    (["Wer?"] * 5000, "5000 questions")])
def test_malformed_history_is_refused(hashing_assistant: Assistant, history: object, words: str) -> None:
    with pytest.raises(InvalidQuestionError, match=words):
        hashing_assistant.ask("And how long is each one?", history=history)  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [True, math.nan, math.inf, "3", None, 3.5, [3]])
def test_k_must_be_a_whole_number(hashing_assistant: Assistant, k: object) -> None:
    with pytest.raises(InvalidQuestionError, match="k must"):
        hashing_assistant.ask("Who plays Seon-woo?", k=k)  # type: ignore[arg-type]


def test_k_as_a_whole_float_is_accepted(hashing_assistant: Assistant) -> None:
    assert hashing_assistant.ask("Who plays Seon-woo?", k=2.0) == hashing_assistant.ask("Who plays Seon-woo?", k=2)
