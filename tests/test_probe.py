"""Probes: read-outs of the question's vector, stored as JSON for one model, named signals for the policy."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from rag.search.probe import MODEL, Probe, Probes, parse, shipped_for, terms_of
from tests.conftest import CORPUS


def test_probes_give_named_log_odds_and_round_trip() -> None:
    probes = Probes("m", {"off_topic": Probe(np.array([1.0, -2.0]), 0.5, {"auroc_cv": 0.9}),
                          "answerable_de": Probe(np.array([0.0, 1.0]), -1.0, {})}, {"a.txt": "00"})
    signals = probes.signals(np.array([0.6, 0.8]))
    assert signals == pytest.approx({"probe_off_topic": 0.6 - 1.6 + 0.5, "probe_answerable_de": -0.2})
    again = parse(probes.to_json())
    assert again.model == "m" and again.files == {"a.txt": "00"}
    assert again.signals(np.array([0.6, 0.8])) == pytest.approx(signals)
    assert again.named["off_topic"].info == {"auroc_cv": 0.9}


def test_terms_are_words_and_neighbouring_pairs_casefolded_once() -> None:
    assert terms_of("How much does Disney+ cost, how much?") == [
        "how", "much", "does", "disney+", "cost", "how much", "much does", "does disney+", "disney+ cost",
        "cost how"]
    assert terms_of("") == [] and terms_of("1997 Reply") == ["1997", "reply", "1997 reply"]


def test_a_probes_terms_add_their_weights_over_the_square_root_of_the_questions_terms() -> None:
    probe = Probe(np.array([1.0, 0.0]), 0.0, {}, {"kimchi": 3.0, "make kimchi": 1.0, "soundtrack": -2.0})
    probes = Probes("m", {"off_topic": probe}, {})
    # "how do i make kimchi": 5 words + 4 pairs = 9 terms, two of them weighted
    assert probes.signals(np.array([0.5, 0.5]), "How do I make kimchi")["probe_off_topic"] == pytest.approx(
        0.5 + (3.0 + 1.0) / 3)
    assert probes.signals(np.array([0.5, 0.5]))["probe_off_topic"] == pytest.approx(0.5)  # no text: the vector
    assert probe.term_logit("Soundtrack") == pytest.approx(-2.0) and probe.term_logit("") == 0.0
    again = parse(probes.to_json())
    assert again.named["off_topic"].terms == probe.terms
    assert again.signals(np.array([0.5, 0.5]), "make kimchi") == probes.signals(np.array([0.5, 0.5]), "make kimchi")


@pytest.mark.parametrize("broken", [
    '{"model": "m", "files": {}, "probes": {"a": {"dim": 1, "weights": [1], "bias": 0, "terms": {"x": NaN}}}}',
    '{"model": "m", "files": {}, "probes": {"a": {"dim": 3, "weights": [1, 2], "bias": 0}}}',
    '{"model": "m", "files": {}, "probes": {"a": {"dim": 1, "weights": [NaN], "bias": 0}}}',
    '{"model": "m", "files": {}, "probes": {"a": {"dim": 1, "weights": [1], "bias": 0}, "b": {"dim": 2, '
    '"weights": [1, 2], "bias": 0}}}',
    '{"model": "m", "probes": {}}',
    "[]",
])
def test_a_malformed_file_is_refused(broken: str) -> None:
    with pytest.raises((ValueError, TypeError, KeyError)):
        parse(broken)


def test_the_shipped_probes_are_for_e5_small_and_the_shipped_corpus_only() -> None:
    files = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in CORPUS.iterdir()}
    probes = shipped_for("e5-small", 384, files)
    assert probes is not None and shipped_for("hashing", 384, files) is None
    assert shipped_for("e5-small", 512, files) is None
    assert shipped_for("e5-small", 384, {**files, "mine.txt": "ab"}) is None  # another corpus: no probes
    assert {"off_topic", "answerable_en", "answerable_de"} == set(probes.named)
    assert all(p.info["auroc_cv"] > 0.75 and "tune" in p.info["trained_on"] for p in probes.named.values())
    assert parse(MODEL.read_text(encoding="utf-8")).named.keys() == probes.named.keys()
    # the off-topic probe reads words too: a recipe question's words push it off-topic, the show's title on
    off_topic = probes.named["off_topic"]
    assert off_topic.terms and off_topic.term_logit("how do i make kimchi") > 0 > off_topic.term_logit("soundtrack")
