"""Rows: ids stand for what a vector is of, so an unchanged text keeps its id and a changed one does not."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rag.chunking import Chunk
from rag.index.rows import (
    PASSAGE,
    SENTENCE,
    WORD,
    Rows,
    index_rows,
    make_rows,
    passage_id,
    row_id,
    sentence_ids,
    word_id,
)

CHUNK = Chunk("a.txt", 10, 60, "en", "First one. Second one here.", "Cast", 2, 3)


def test_ids_are_stable_positive_int64_and_differ_by_kind_and_parts() -> None:
    ids = {row_id(PASSAGE, "a", 1), row_id(SENTENCE, "a", 1), row_id(PASSAGE, "a", 2), row_id(PASSAGE, "a\0", 1)}
    assert len(ids) == 4 and all(0 < i < 2**63 for i in ids)
    assert row_id(PASSAGE, "a", 1) == row_id(PASSAGE, "a", 1)
    assert passage_id(CHUNK) == passage_id(replace(CHUNK, line_start=9))  # where it is read from: no matter


@pytest.mark.parametrize("change", [{"source": "b.txt"}, {"start": 11}, {"end": 61}, {"text": "First one. Changed."},
                                    {"heading": "Crew"}])
def test_a_changed_passage_gets_new_ids(change: dict[str, object]) -> None:
    other = replace(CHUNK, **change)  # type: ignore[arg-type]
    assert passage_id(other) != passage_id(CHUNK)
    assert not set(sentence_ids(other)) & set(sentence_ids(CHUNK))


def test_sentence_ids_follow_the_sentences_in_order() -> None:
    ids = sentence_ids(CHUNK)
    assert len(ids) == 2 and len(set(ids)) == 2
    repeated = replace(CHUNK, text="Same. Same.")
    assert len(set(sentence_ids(repeated))) == 2  # the same sentence twice is two rows
    assert word_id("en", "song") != word_id("de", "song")


def test_index_rows_name_every_vector_with_its_kind_language_and_owner() -> None:
    chunks = [CHUNK, replace(CHUNK, source="b.txt", lang="de", text="Nur einer")]
    vectors, sentences = np.eye(4, dtype=np.float32)[:2], np.eye(4, dtype=np.float32)[:3]
    rows = index_rows(chunks, vectors, sentences, np.array([0, 0, 1]), {"de": ["lied"], "en": ["song", "cast"]},
                      {"de": np.eye(4, dtype=np.float32)[:1], "en": np.eye(4, dtype=np.float32)[1:3]})
    assert rows.kinds.tolist() == [PASSAGE, PASSAGE, SENTENCE, SENTENCE, SENTENCE, WORD, WORD, WORD]
    assert rows.langs.tolist() == ["en", "de", "en", "en", "de", "de", "en", "en"]
    p0, p1 = passage_id(chunks[0]), passage_id(chunks[1])
    assert rows.owners[:5].tolist() == [p0, p1, p0, p0, p1]
    assert rows.owners[5:].tolist() == rows.ids[5:].tolist()  # a word owns itself
    assert rows.ids[2:5].tolist() == sentence_ids(chunks[0]) + sentence_ids(chunks[1])  # one rule, two ways


def test_rows_refuse_misaligned_fields_and_repeated_ids() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        Rows(np.array([1, 2]), np.array([PASSAGE]), np.array(["en"]), np.array([1]), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="twice"):
        make_rows([1, 1], PASSAGE, ["en", "en"], [1, 1], np.zeros((2, 2)))
