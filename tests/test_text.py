"""Chunking, name normalisation and BM25 on small inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.chunking import chunk_documents, split_sentences
from rag.corpus import collapse, load_corpus
from rag.lexical import BM25, tokenize
from rag.names import NameNormalizer


@pytest.mark.parametrize("size", [120, 250, 400, 800])
def test_chunks_respect_size_and_spans(corpus_dir: Path, size: int) -> None:
    docs = load_corpus(corpus_dir)
    raws = {d.source: d.raw for d in docs}
    chunks = chunk_documents(docs, size, 0)
    assert all(c.end - c.start <= size for c in chunks)
    assert all(c.text == collapse(raws[c.source][c.start : c.end]) for c in chunks)
    # Together the chunks cover every kept block's words exactly once.
    words_in_blocks = sum(len(b.text.split()) for d in docs for b in d.blocks)
    assert sum(len(c.text.split()) for c in chunks) == words_in_blocks


def test_sentences_keep_every_character_and_skip_abbreviations() -> None:
    text = "He stars in ‘Mr. Sunshine’ too. Is it good? “Yes.” — Kim. Dr. Kim agrees"
    parts = split_sentences(text)
    assert parts == ["He stars in ‘Mr. Sunshine’ too.", "Is it good?", "“Yes.” — Kim.", "Dr. Kim agrees"]
    assert " ".join(parts) == text


NAMES = NameNormalizer.learn(["Han Seon-woo met Lee Eun-soo and Park Hyung-sik; So-hee smiled."])


@pytest.mark.parametrize(("variant", "canonical"), [
    ("Sun Woo", "Seon-woo"), ("Seon-woo", "Seon-woo"), ("seonwoo", "Seon-woo"), ("Sunwoo", "Seon-woo"),
    ("Eun Soo", "Eun-soo"), ("Hyung Sik", "Hyung-sik"), ("Hyung-Sik", "Hyung-sik"), ("So Hee", "So-hee"),
])
def test_romanized_names_get_one_spelling(variant: str, canonical: str) -> None:
    assert NAMES.normalize(f"Who is {variant}?") == f"Who is {canonical}?"


@pytest.mark.parametrize("text", ["The sun rises", "so he said", "Han Sun Woo's friend" ])
def test_ordinary_words_are_left_alone(text: str) -> None:
    assert NAMES.normalize(text).replace("Seon-woo", "Sun Woo") == text


def test_tokens_are_stemmed_per_language_and_spelling_proof() -> None:
    assert tokenize("Die Episoden", "de") == tokenize("Episode", "de")
    assert tokenize("directing directed", "en") == ["direct", "direct"]
    assert tokenize("Seon-woo", "en") == tokenize("Sun Woo", "en")


def test_bm25_scores_are_bounded_and_zero_for_unknown_words() -> None:
    docs = [tokenize(t, "en") for t in ["the director of the show", "a song by the band", "weather"]]
    bm25 = BM25(docs)
    scores = bm25.scores({t: 1.0 for t in tokenize("who was the director", "en")})
    assert scores.argmax() == 0 and 0 < scores[0] <= 1 and np.all(scores >= 0)
    assert not bm25.scores({t: 1.0 for t in tokenize("quantum chromodynamics", "en")}).any()
