"""Ranker and fusion: candidates carry every signal by name, the learned model reorders only the best of them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.config import Settings
from rag.embedding import load_embedder
from rag.index import load_index
from rag.retrieve import Retriever
from rag.search.fusion import Candidates
from rag.search.logistic import fit
from rag.search.ranker import DEPTH, FEATURES, MODEL, Ranker, features, kinds_of, parse, shipped_for


def test_fitting_is_deterministic_and_learns_the_signal() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(float)  # only the first column matters
    first, second = fit(("a", "b"), x, y), fit(("a", "b"), x, y)
    assert first == second and first.to_json() == second.to_json()
    assert first.weights[0] > 2 and abs(first.weights[1]) < 0.5
    assert first.probability({"a": 2.0, "b": 0.0}) > 0.9 > 0.1 > first.probability({"a": -2.0, "b": 0.0})
    assert np.allclose(first.logits(np.array([[2.0, 1.0]])), [first.logit({"a": 2.0, "b": 1.0})])


def test_fitting_unscaled_keeps_each_feature_as_given_and_penalises_it_as_is() -> None:
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.normal(size=300), 100 * rng.normal(size=300)])  # the second on a far larger scale
    y = (x[:, 0] + x[:, 1] / 100 > 0).astype(float)
    scaled, unscaled = fit(("a", "b"), x, y), fit(("a", "b"), x, y, l2=1.0, standardise=False)
    assert unscaled.mean == (0.0, 0.0) and unscaled.scale == (1.0, 1.0)
    assert scaled.mean != (0.0, 0.0)
    # unscaled, a large-valued feature needs only a small weight: it is penalised less than the other
    assert abs(unscaled.weights[1]) * 100 > 0.5 * abs(unscaled.weights[0]) and abs(unscaled.weights[1]) < 0.2
    assert unscaled.probability({"a": 1.0, "b": 100.0}) > 0.9


def _candidates(n: int, fused: np.ndarray) -> Candidates:
    zeros = np.zeros(n)
    return Candidates("en", np.arange(n), zeros, fused, zeros, zeros, zeros, fused, 0.0, zeros)


def _only(feature: str, weight: float) -> Ranker:
    weights = tuple(weight if name == feature else 0.0 for name in FEATURES)
    return Ranker(FEATURES, (0.0,) * len(FEATURES), (1.0,) * len(FEATURES), weights, 0.0, 0.5, {})


def test_features_say_where_a_candidate_stands_and_what_it_holds() -> None:
    texts = ["Laufzeit: 40 Minuten", "A long plot passage about two friends who live together for two weeks.",
             "Verfügbar auf: Disney+"]
    kinds = kinds_of(texts, [frozenset({"duration", "count"}), frozenset({"count"}), frozenset({"platform"})])
    found = _candidates(3, np.array([0.2, 0.5, 0.1]))
    matrix = features(found, 0, kinds, "duration", None)
    column = {name: matrix[:, i] for i, name in enumerate(FEATURES)}
    assert matrix.shape == (3, len(FEATURES))
    assert column["type_match"].tolist() == [1, 0, 0] and column["type_miss"].tolist() == [0, 1, 1]
    assert column["fact"].tolist() == [1, 0, 1]
    assert column["fused_gap"].tolist() == pytest.approx([0.3, 0.0, 0.4])
    assert column["rank"].tolist() == pytest.approx(np.log1p([1, 0, 2]).tolist())
    open_question = features(found, 0, kinds, "", np.array([0.1, -0.1, 0.0]))
    assert not open_question[:, FEATURES.index("type_match")].any()
    assert open_question[:, FEATURES.index("support")].tolist() == [0.1, -0.1, 0.0]


def test_the_ranker_reorders_only_the_fusions_best() -> None:
    n = DEPTH + 5
    fused = np.linspace(1.0, 0.0, n)  # already in the fusion's order
    matrix = np.zeros((n, len(FEATURES)))
    matrix[:, FEATURES.index("type_match")] = np.arange(n) % 2  # odd positions hold what is asked
    order, chance = _only("type_match", 5.0).order(matrix, fused)
    head = order[:DEPTH].tolist()
    assert sorted(head) == list(range(DEPTH)) and order[DEPTH:].tolist() == list(range(DEPTH, n))
    assert head[: DEPTH // 2] == [i for i in range(DEPTH) if i % 2]  # matches first, in the fusion's order
    assert chance[1] > 0.99 and chance[0] == 0.5 and not chance[DEPTH:].any()


def test_the_shipped_ranker_is_for_its_model_and_parses_back() -> None:
    shipped = shipped_for("e5-small")
    assert shipped is not None and shipped_for("hashing") is None
    assert parse(shipped.to_json()) == shipped and "tune" in shipped.info["trained_on"]
    body = json.loads(MODEL.read_text(encoding="utf-8"))
    body["features"] = body["features"][:-1]
    body["mean"], body["scale"], body["weights"] = body["mean"][:-1], body["scale"][:-1], body["weights"][:-1]
    with pytest.raises(ValueError, match="features"):
        parse(json.dumps(body))


def test_a_ranker_in_the_retriever_decides_the_order(hashing_index: Settings) -> None:
    index = load_index(hashing_index.index_dir)
    embedder = load_embedder(hashing_index.model)
    question = "How long is each episode?"
    plain = Retriever(index, embedder, hashing_index)
    assert plain.ranker is None  # the shipped ranker is for e5-small only
    typed = Retriever(index, embedder, hashing_index, ranker=_only("type_match", 20.0))
    for lang in ("en", "de"):
        hits = typed.search_sides(question, 5, lang="en")[lang].hits
        rows = [typed._row[(h.chunk.source, h.chunk.start)] for h in hits]
        holds = ["duration" in typed.kinds.types[r] for r in rows]
        assert holds[0] and holds == sorted(holds, reverse=True), [h.chunk.text[:40] for h in hits]
        assert hits[0].chance > 0.99
    assert all(h.chance == 0 for side in plain.search_sides(question, 3).values() for h in side.hits)
