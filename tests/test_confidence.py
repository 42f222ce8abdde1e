"""Confidence: one model decides each language's label and probability; nothing on-topic is hidden."""

from __future__ import annotations

import json

import pytest

from rag.answer import compose
from rag.assistant import Assistant
from rag.chunking import Chunk
from rag.evaluation import auroc, reliability
from rag.retrieve import Hit
from rag.search.confidence import (
    ANSWERS,
    NONE,
    RELATED,
    Confidence,
    ConfidenceModel,
    Policy,
    parse,
    parse_policy,
    shipped,
)

MODEL = ConfidenceModel(("top", "silent"), (0.5, 0.0), (0.1, 1.0), (2.0, -3.0), 0.0, 0.8, {})


def test_the_model_grades_by_its_threshold_and_round_trips_as_json() -> None:
    assert MODEL.probability({"top": 0.5, "silent": 0.0}) == 0.5  # at the mean: the bias alone
    assert MODEL.grade({"top": 0.9, "silent": 0.0}).label == ANSWERS  # p = σ(8) ≈ 1
    assert MODEL.grade({"top": 0.55, "silent": 0.0}).label == RELATED  # p = σ(1) ≈ 0.73, below 0.8
    assert MODEL.grade({"top": 0.9, "silent": 1.0}).probability < MODEL.grade({"top": 0.9, "silent": 0.0}).probability
    assert MODEL.grade({"top": 0.9}, off_topic=True) == Confidence(NONE, 0.0)
    assert parse(MODEL.to_json()) == MODEL
    for broken in ('{"features": ["a"], "mean": [], "scale": [1], "weights": [1], "bias": 0, "threshold": 0.5}',
                   '{"features": ["a"], "mean": [0], "scale": [0], "weights": [1], "bias": 0, "threshold": 0.5}',
                   "not json"):
        with pytest.raises(ValueError):
            parse(broken)


def test_the_shipped_model_reads_what_the_retriever_gives(hashing_assistant: Assistant) -> None:
    sides = hashing_assistant.retriever.search_sides("Who directed the series?", 3, lang="en")
    policy = shipped()
    learned = {"chance_top", "chance_any", "probe_answerable", "probe_off_topic"}  # e5-small's ranker and probes
    assert not learned & set(sides["en"].features)  # another model: left out, read as their means
    for model in (policy.sides, policy.topic):
        assert set(model.features) - learned <= set(sides["en"].features) and 0 < model.threshold < 1
        assert "tune" in model.info["trained_on"]
    assert policy.sides.info["sides"] > 1000 and policy.topic.info["on_topic_refused_cv"] <= 0.01
    assert parse_policy(policy.to_json()) == policy


def test_every_language_of_an_on_topic_question_is_shown_with_its_confidence(hashing_assistant: Assistant) -> None:
    answer = hashing_assistant.ask("Who is Yoon Dong-hyun in the show?")
    assert {p.lang for p in answer.passages} == set(answer.confidence) == {"en", "de"}
    assert all(c.label in (ANSWERS, RELATED) and 0 <= c.probability <= 1 for c in answer.confidence.values())
    data = json.loads(json.dumps(answer.to_dict()))
    assert data["confidence"]["de"] == {"label": answer.confidence["de"].label,
                                        "probability": answer.confidence["de"].probability}


def test_an_off_topic_question_hides_everything_and_says_none(hashing_assistant: Assistant,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.search.confidence

    always = Policy(shipped().sides, ConfidenceModel(("gate",), (0.0,), (1.0,), (0.0,), 10.0, 0.5, {}))
    monkeypatch.setattr(rag.search.confidence, "shipped", lambda: always)  # a topic model that says off-topic
    answer = hashing_assistant.ask("Who won the 2022 World Cup?")
    assert answer.passages == [] and {c.label for c in answer.confidence.values()} == {NONE}
    assert "nothing" in answer.text


def test_a_related_side_is_hedged_not_quoted_as_the_answer() -> None:
    chunk = Chunk("a.txt", 0, 20, "de", "Laufzeit: 40 Minuten.", "", 1, 1)
    hits = {"de": [Hit(chunk, 0.5, 0.5, 0.0, "Laufzeit: 40 Minuten.")]}
    sure = compose("Wie lange?", "de", hits, {"de": Confidence(ANSWERS, 0.9)}).text
    maybe = compose("Wie lange?", "de", hits, {"de": Confidence(RELATED, 0.6)}).text
    unlikely = compose("Wie lange?", "de", hits, {"de": Confidence(RELATED, 0.3)}).text
    assert sure == "Laufzeit: 40 Minuten. [1]" and maybe == "Möglicherweise: Laufzeit: 40 Minuten. [1]"
    assert "Laufzeit" not in unlikely and "verwandte Passagen [1]" in unlikely


@pytest.mark.parametrize(("scores", "positive", "expected"), [
    ([0.1, 0.4, 0.35, 0.8], [False, False, True, True], 0.75),
    ([0.9, 0.8, 0.2, 0.1], [True, True, False, False], 1.0),
    ([0.5, 0.5, 0.5, 0.5], [True, False, True, False], 0.5),  # ties count half
    ([0.3, 0.6], [True, True], 0.0),  # no negatives: undefined, reported as 0
])
def test_auroc(scores: list[float], positive: list[bool], expected: float) -> None:
    assert auroc(scores, positive) == pytest.approx(expected)


def test_reliability_bins_predicted_against_observed() -> None:
    table = reliability([0.1, 0.15, 0.9, 0.95, 1.0], [False, True, True, True, False])
    assert [(b["low"], b["n"], b["observed"]) for b in table] == [(0.0, 2, 0.5), (0.8, 3, 0.667)]
