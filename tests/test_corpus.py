"""Ingestion: spans, cleaning, duplicates, language, and files that cannot be used."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from rag.chunking import chunk_documents
from rag.corpus import collapse, load_corpus
from rag.errors import CorpusError


def test_every_passage_text_is_its_raw_span_collapsed(corpus_dir: Path) -> None:
    docs = {d.source: d for d in load_corpus(corpus_dir)}
    chunks = chunk_documents(docs.values(), 400, 0)
    assert len(chunks) > 50
    for c in chunks:
        raw = (corpus_dir / c.source).read_text(encoding="utf-8")
        assert c.text == collapse(raw[c.start : c.end])
        assert raw.count("\n", 0, c.start) + 1 == c.line_start


def test_noise_is_removed_but_content_kept(corpus_dir: Path) -> None:
    text = " ".join(b.text for d in load_corpus(corpus_dir) for b in d.blocks)
    for noise in ("Considerați utilă această recenzie?", "Autoversicherung", "Kommentar veröffentlichen"):
        assert noise not in text
    # The sentence before the ad, in the same paragraph, survives.
    assert "ist dies die richtige Wahl für Ihre Playlist." in text
    assert "Jahr: 2022" in text and "Episoden: 4" in text  # Label:/value lines become facts


def test_repeated_body_is_indexed_once(corpus_dir: Path) -> None:
    blocks = [b for d in load_corpus(corpus_dir) for b in d.blocks]
    texts = [b.text for b in blocks]
    assert len(texts) == len(set(texts))
    review = next(d for d in load_corpus(corpus_dir) if d.source.endswith("_en.txt"))
    assert max(b.end for b in review.blocks) < len(review.raw) / 2 + 1000  # second copy dropped


def test_languages_are_detected_from_text_not_names(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        "Die Serie erzählt von zwei Freunden, die zwei Wochen lang zusammenleben und dabei "
        "ihre Gefühle füreinander entdecken.\n"
        "The series tells the story of two friends who live together for two weeks and slowly "
        "discover their feelings for each other.\n", encoding="utf-8")
    (doc,) = load_corpus(tmp_path)
    assert [b.lang for b in doc.blocks] == ["de", "en"]


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("binary.txt", b"\x00\x01\x02PNG\x00" * 20, "binary"),
    ("latin1.txt", "Grüße aus München, schöne Serie".encode("latin-1"), "not UTF-8"),
    ("empty.txt", b"   \n\n", "empty"),
])
def test_unusable_files_are_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                   name: str, data: bytes, reason: str) -> None:
    (tmp_path / name).write_bytes(data)
    (tmp_path / "good.txt").write_text("A perfectly fine review of the drama, with several words.\n",
                                       encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag"):
        docs = load_corpus(tmp_path)
    assert [d.source for d in docs] == ["good.txt"]
    assert name in caplog.text and reason in caplog.text
    with pytest.raises(CorpusError):
        load_corpus(tmp_path, strict=True)


def test_links_outside_the_corpus_and_loops_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("private text that must never be indexed", encoding="utf-8")
    os.symlink(secret, corpus / "escape.txt")
    os.symlink(corpus / "loop.txt", corpus / "loop.txt")
    os.symlink(corpus, corpus / "subdir")  # a folder link back into itself
    (corpus / "ok.md").write_text("# Title\nA short but real paragraph about the show.\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag"):
        docs = load_corpus(corpus)
    assert [d.source for d in docs] == ["ok.md"]
    assert "escape.txt: a symbolic link, never followed" in caplog.text
    assert "loop.txt" in caplog.text


def test_unreadable_file_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "locked.txt").write_text("text nobody may read", encoding="utf-8")
    (tmp_path / "open.txt").write_text("A readable paragraph about the drama series.", encoding="utf-8")
    real_open = os.open

    def open_(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if Path(str(path)).name == "locked.txt":  # root can read anything, so simulate chmod 000
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", open_)
    with caplog.at_level(logging.WARNING, logger="rag"):
        docs = load_corpus(tmp_path)
    assert [d.source for d in docs] == ["open.txt"]
    assert "locked.txt" in caplog.text and "Permission denied" in caplog.text


def test_missing_corpus_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")
