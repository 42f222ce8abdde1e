"""Prebuilt vectors: a build takes them instead of embedding, and never trusts a bad file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

import rag.search.prebuilt as prebuilt
from rag import vectorcache
from rag.embedding import HashingEmbedder
from rag.index import build_index
from rag.store import load_index
from rag.vectorcache import embedding_key
from rag.vocabulary import WORDS, everyday_words
from tests.conftest import hashing_settings


def two_words(folder: Path) -> np.ndarray:
    vectors = HashingEmbedder().embed(["haus", "house"], kind="query")
    prebuilt.write("hashing", {embedding_key("haus", "query"): vectors[0],
                               embedding_key("house", "query"): vectors[1]}, folder)
    return vectors


def test_vectors_round_trip_exactly(tmp_path: Path) -> None:
    vectors = two_words(tmp_path)
    loaded = prebuilt.load("hashing", 256, tmp_path)
    assert np.array_equal(loaded[embedding_key("house", "query")], vectors[1]) and len(loaded) == 2


@pytest.mark.parametrize("damage", ["flip a byte", "cut", "wrong dim", "other model", "bad json", "no data"])
def test_a_damaged_or_foreign_file_is_not_used_and_says_so(tmp_path: Path, damage: str,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    two_words(tmp_path)
    header, body = prebuilt.paths("hashing", tmp_path)
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
        assert prebuilt.load("hashing", 128 if damage == "wrong dim" else 256, tmp_path) == {}
    assert "embedded instead" in caplog.text


@pytest.mark.parametrize("model", ["../hashing", "/etc/passwd", "intfloat/multilingual-e5-small", ".hidden"])
def test_a_model_name_that_is_a_path_reads_nothing(tmp_path: Path, model: str) -> None:
    assert prebuilt.load(model, 256, tmp_path) == {}


def test_a_build_takes_prebuilt_vectors_and_embeds_only_the_rest(tmp_path: Path, corpus_dir: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    settings = hashing_settings(corpus_dir, tmp_path / "plain")
    first = build_index(settings)
    plain = load_index(settings.index_dir)
    shipped = vectorcache.cached_vectors(plain, plain.names)  # what tools/ship_vectors.py writes
    prebuilt.write("hashing", shipped, tmp_path / "shipped")
    monkeypatch.setattr(prebuilt, "SHIPPED", tmp_path / "shipped")
    (corpus_dir / "new.txt").write_text("A new review says the drama is about friendship and music.\n")
    second = build_index(settings.with_(index_dir=tmp_path / "fast"))
    assert first.embedded > 500 and 0 < second.embedded < 10  # only the new file's texts are embedded
    fast = load_index(tmp_path / "fast")
    rows = {c.text: i for i, c in enumerate(fast.chunks)}
    for i, chunk in enumerate(plain.chunks):  # the same vectors as embedding them: the same answers
        assert np.array_equal(plain.vectors[i], fast.vectors[rows[chunk.text]])
    words = dict(zip(fast.everyday_words, fast.everyday_vectors, strict=True))  # the new file's words left out
    assert all(np.array_equal(v, words[w]) for w, v in zip(plain.everyday_words, plain.everyday_vectors,
                                                           strict=True) if w in words)


@pytest.mark.slow  # reads the whole shipped file and both word lists: 2 s
def test_the_shipped_file_covers_the_word_lists() -> None:
    header, _ = prebuilt.paths("e5-small")
    meta = json.loads(header.read_text(encoding="utf-8"))
    languages = sorted(path.stem for path in WORDS.glob("*.txt"))
    missing = [w for w in everyday_words(languages) if embedding_key(w, "query") not in set(meta["keys"])]
    assert missing == [], "remake it: python tools/ship_vectors.py"
    assert len(prebuilt.load("e5-small", meta["dim"])) == len(meta["keys"])  # checksum and size hold
