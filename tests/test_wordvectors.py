"""Shipped word vectors: a build takes them instead of embedding the everyday words, and never trusts a bad file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

import rag.search.wordvectors as wordvectors
from rag.embedding import HashingEmbedder
from rag.index import build_index
from rag.store import load_index
from rag.vectorcache import embedding_key
from rag.vocabulary import WORDS, everyday_words
from tests.conftest import hashing_settings


def shipped_hashing(folder: Path, words: list[str]) -> np.ndarray:
    """Ship the hashing model's vectors of words into folder, the way tools/ship_word_vectors.py does."""
    vectors = HashingEmbedder().embed(words, kind="query")
    wordvectors.write("hashing", words, vectors, folder)
    return vectors


def test_vectors_round_trip_exactly(tmp_path: Path) -> None:
    vectors = shipped_hashing(tmp_path, ["haus", "house"])
    loaded = wordvectors.load("hashing", 256, tmp_path)
    assert set(loaded) == {embedding_key("haus", "query"), embedding_key("house", "query")}
    assert np.array_equal(loaded[embedding_key("house", "query")], vectors[1])


@pytest.mark.parametrize("damage", ["flip a byte", "cut", "wrong dim", "other model", "bad json", "no data"])
def test_a_damaged_or_foreign_file_is_not_used_and_says_so(tmp_path: Path, damage: str,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    shipped_hashing(tmp_path, ["haus", "house"])
    header, body = wordvectors.paths("hashing", tmp_path)
    meta = json.loads(header.read_text())
    if damage == "flip a byte":
        data = bytearray(body.read_bytes())
        data[5] ^= 1
        body.write_bytes(bytes(data))
    elif damage == "cut":
        body.write_bytes(body.read_bytes()[:-4])
    elif damage == "other model":
        header.write_text(json.dumps({**meta, "model": "e5-small"}))
    elif damage == "bad json":
        header.write_text("{")
    elif damage == "no data":
        body.unlink()
    with caplog.at_level(logging.WARNING, logger="rag"):
        assert wordvectors.load("hashing", 128 if damage == "wrong dim" else 256, tmp_path) == {}
    assert "embedded instead" in caplog.text


@pytest.mark.parametrize("model", ["../hashing", "/etc/passwd", "intfloat/multilingual-e5-small", ".hidden"])
def test_a_model_name_that_is_a_path_reads_nothing(tmp_path: Path, model: str) -> None:
    assert wordvectors.load(model, 256, tmp_path) == {}


def test_a_build_takes_shipped_word_vectors_and_embeds_the_rest(tmp_path: Path, corpus_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    settings = hashing_settings(corpus_dir, tmp_path / "plain")
    plain = build_index(settings)
    words = everyday_words(["de", "en"], settings.everyday_words)
    shipped = shipped_hashing(tmp_path, words)
    monkeypatch.setattr(wordvectors, "SHIPPED", tmp_path)
    fast = build_index(settings.with_(index_dir=tmp_path / "fast"))
    assert fast.embedded <= plain.embedded - len(words) // 2  # the everyday words (minus the corpus's) not embedded
    one, two = load_index(tmp_path / "plain"), load_index(tmp_path / "fast")
    assert one.everyday_words == two.everyday_words
    assert np.array_equal(one.everyday_vectors, two.everyday_vectors)  # the same vectors: the same answers
    row = words.index(two.everyday_words[0])
    assert np.array_equal(two.everyday_vectors[0], shipped[row])


def test_the_shipped_file_covers_the_word_lists() -> None:
    header, body = wordvectors.paths("e5-small")
    meta = json.loads(header.read_text(encoding="utf-8"))
    languages = sorted(path.stem for path in WORDS.glob("*.txt"))
    assert meta["words"] == everyday_words(languages), "remake it: python tools/ship_word_vectors.py"
    assert len(wordvectors.load("e5-small", meta["dim"])) == len(meta["words"])  # checksum and size hold
