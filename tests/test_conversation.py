"""Follow-up questions: which questions lean on the earlier turns, and what is searched for them."""

from __future__ import annotations

import numpy as np
import pytest

from rag.assistant import Assistant
from rag.conversation import blend, resolve


@pytest.mark.parametrize("question", [
    "And how long is each one?", "Und wie lang ist jede?", "Who plays him?", "Wer spielt sie?",
    "What about the German article?", "Und die deutsche Quelle?", "When was it shot?", "Wie lange?",
    "Did he draw on his own life for the part?", "Was sagt er dazu?",
])
def test_follow_ups_lean_on_the_conversation(hashing_assistant: Assistant, question: str) -> None:
    assert hashing_assistant.retriever.leans_on_context(question)


@pytest.mark.parametrize("question", [
    "Who plays Seon-woo?", "Wer spielt Eun-soo?", "How many episodes does the series have?",
    "Wie viele Folgen hat die Serie?", "Who directed the series?", "Wer führte Regie?",
    "Where can I stream Soundtrack #1?", "Aus welchem Jahr ist Soundtrack #1?",
    "Is Han So-hee's acting good in it?",  # a pronoun, but the question names whom it asks about
])
def test_self_contained_questions_stand_alone(hashing_assistant: Assistant, question: str) -> None:
    assert not hashing_assistant.retriever.leans_on_context(question)


def test_resolve_joins_a_follow_up_with_the_resolved_earlier_turns() -> None:
    follows = {"And how long is each one?", "And the German one?"}.__contains__
    assert resolve("Who directed it?", [], follows) == "Who directed it?"
    assert resolve("Who plays Eun-soo?", ["How many episodes?"], follows) == "Who plays Eun-soo?"
    assert resolve("And how long is each one?", ["How many episodes?"], follows) == \
        "And how long is each one? How many episodes?"
    # An earlier follow-up carries its own context along; a topic switch starts afresh.
    assert resolve("And the German one?", ["How many episodes?", "And how long is each one?"], follows) == \
        "And the German one? And how long is each one? How many episodes?"
    assert resolve("And the German one?", ["How many episodes?", "Who directed it?"], follows) == \
        "And the German one? Who directed it?"


def test_a_follow_up_is_searched_with_the_previous_turn(hashing_assistant: Assistant) -> None:
    first = "Wie viele Folgen hat die Serie?"
    follow_up = hashing_assistant.ask("Und wie lang ist jede?", history=[first])
    assert follow_up.passages != hashing_assistant.ask("Und wie lang ist jede?").passages
    assert follow_up.question == "Und wie lang ist jede?"  # the answer still shows what was asked
    joined_only = Assistant(hashing_assistant.retriever.index, hashing_assistant.retriever.embedder,
                            hashing_assistant.settings.with_(follow_up_weight=0.0))
    assert joined_only.ask("Und wie lang ist jede?", history=[first]).passages == joined_only.ask(
        f"Und wie lang ist jede? {first}").passages  # share 0: the joined text alone


@pytest.mark.parametrize("share", [0.0, 0.3, 0.5, 1.0])
def test_a_follow_ups_vector_keeps_its_share_of_its_own_words(share: float) -> None:
    own, joined = np.array([1.0, 0.0, 0.0], np.float32), np.array([0.0, 1.0, 0.0], np.float32)
    vector = blend(own, joined, share)
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-6
    assert float(vector @ own) >= float(vector @ joined) if share >= 0.5 else float(vector @ own) < float(
        vector @ joined)
    assert np.allclose(blend(own, own, share), own)


def test_unknown_words_count_against_a_question_but_not_against_a_follow_ups_context(
        hashing_assistant: Assistant) -> None:
    # known_word_similarity above 1: every word is "unknown"; the penalty then lowers any lone question's evidence.
    strict = Assistant(hashing_assistant.retriever.index, hashing_assistant.retriever.embedder,
                       hashing_assistant.settings.with_(unknown_word_penalty=1.0, known_word_similarity=2.0))
    lone = strict.retriever.search_sides("Wer führte Regie?", 3, lang="de")["de"].features
    usual = hashing_assistant.retriever.search_sides("Wer führte Regie?", 3, lang="de")["de"].features
    assert lone["unknown_word"] == 1.0 and usual["unknown_word"] == 0.0
    assert lone["question"] == pytest.approx(usual["question"] - 1.0)  # the confidence reads it as a signal
    # A follow-up joined with its earlier turn is judged without the check: its words are partly context.
    joined = "Wie viele Folgen hat die Serie? Und wie lang ist jede?"
    follow_up = strict.retriever.search_sides(joined, 3, lang="de", joined=True)["de"].features
    assert follow_up["unknown_word"] == 0.0
    assert strict.ask("Und wie lang ist jede?", history=["Wie viele Folgen hat die Serie?"]).passages == \
        hashing_assistant.ask("Und wie lang ist jede?", history=["Wie viele Folgen hat die Serie?"]).passages
