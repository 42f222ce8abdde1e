"""Scorers and the query: each signal scores candidate rows by itself; the query is built once per search."""

from __future__ import annotations

import numpy as np
import pytest

from rag.assistant import Assistant
from rag.search.scorers import Entity, Lexical, Scorer, Soft


@pytest.fixture(scope="module")
def retriever(hashing_assistant: Assistant):  # type: ignore[no-untyped-def]
    return hashing_assistant.retriever


def test_the_query_is_built_once_with_what_every_stage_reads(retriever) -> None:  # type: ignore[no-untyped-def]
    query = retriever.query("Wie lange dauert eine Folge von Sun Woo?", "de", ["de", "en"])
    assert query.lang == "de" and query.asked == "duration" and not query.joined
    assert "Seon-woo" in query.text  # names in one spelling
    assert set(query.terms) == {"de", "en"} and query.terms["de"]
    assert query.soft.shape == (len(query.words), len(query.vector))
    follow_up = retriever.query("Wie viele Folgen? Und wie lange dauert jede?", "de", ["de"], True,
                                "Und wie lange dauert jede?")
    assert follow_up.joined and follow_up.asked == "duration"  # the follow-up's own type, not the first turn's


def test_every_scorer_scores_the_rows_it_is_given(retriever) -> None:  # type: ignore[no-untyped-def]
    query = retriever.query("Who directed the series?", "en", ["en"])
    lo, hi = retriever.ranges["en"]
    rows = np.array([0, 3, 5])
    scorers: list[Scorer] = [retriever.fusion.lexical, retriever.fusion.soft, retriever.fusion.entity]
    for scorer in scorers:
        assert scorer.scores(query, "en", rows).shape == (3,)
    lexical: Lexical = retriever.fusion.lexical
    every = lexical.every(query, "en")
    assert len(every) == hi - lo and np.array_equal(lexical.scores(query, "en", rows), every[rows])
    assert every.max() > 0 and every[int(np.argmax(every))] >= every[rows].max()
    soft: Soft = retriever.fusion.soft
    silent = type(query)(**{**query.__dict__, "soft": query.soft[:0]})  # soft matching off
    assert not soft.scores(silent, "en", rows).any() and soft.scores(query, "en", rows).any()


def test_the_entity_pass_takes_names_and_numbers_the_language_knows(retriever) -> None:  # type: ignore[no-untyped-def]
    entity: Entity = retriever.fusion.entity
    row = next(i for i, c in enumerate(retriever.index.chunks) if "Regie von Kim Hee-won" in c.text)
    text = retriever.index.chunks[row].text
    terms = entity.terms(row, text, "en", {})
    assert terms and all(weight == 1.0 for weight in terms.values())
    assert all(retriever.fusion.bm25["en"].knows(t) for t in terms)
    known = {next(iter(terms)): 1.0}
    assert set(entity.terms(row, text, "en", known)) == set(terms) - set(known)  # the query's own are left out
    assert (row, "en") in entity.cache
    query = retriever.query("Who directed it?", "en", ["en"])
    rows = np.arange(retriever.ranges["en"][1] - retriever.ranges["en"][0])
    assert not entity.scores(query, "en", rows).any() and entity.scores(query, "en", rows, terms).any()
