"""A long-lived Assistant switches to a rebuilt index between questions, atomically, and survives a bad one."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rag import Assistant
from rag.answer import Answer
from rag.config import Settings
from rag.corpus import collapse
from rag.embedding import HashingEmbedder
from rag.index import build_index
from rag.store import PASSAGES, load_index, read_manifest
from tests.conftest import hashing_settings

GERMAN = "soundtrack1_article_de.txt"
QUESTION = "Wer führte Regie?"
PREFIX = "Vorwort: Dieser Artikel wurde überarbeitet und um eine Einleitung ergänzt.\n\n"


@pytest.fixture
def settings(corpus_dir: Path, tmp_path: Path) -> Settings:
    settings = hashing_settings(corpus_dir, tmp_path / "index")
    build_index(settings)
    return settings


def cites(answer: Answer, raw: str) -> bool:
    """Whether every German passage of answer is the text at its offsets in raw."""
    german = [p for p in answer.passages if p.source == GERMAN]
    assert german, "the question should cite the German article"
    return all(collapse(raw[p.start : p.end]) == p.text for p in german)


def test_rebuilt_index_is_used_for_the_next_question(settings: Settings) -> None:
    assistant = Assistant.load(settings=settings)
    path = settings.corpus_dir / GERMAN
    before = path.read_text(encoding="utf-8")
    assert cites(assistant.ask(QUESTION), before)

    path.write_text(PREFIX + before, encoding="utf-8")  # every offset moves
    build_index(settings)
    after = assistant.ask(QUESTION)
    assert cites(after, PREFIX + before) and not cites(after, before)
    assert assistant.index.manifest["data"] == read_manifest(settings.index_dir)["data"]


def test_a_broken_rebuild_keeps_the_old_index_answering(settings: Settings,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    assistant = Assistant.load(settings=settings)
    first = assistant.ask(QUESTION)
    old_data = assistant.index.manifest["data"]
    (settings.corpus_dir / GERMAN).write_text(PREFIX + "Neuer Text über die Regie.", encoding="utf-8")
    build_index(settings)
    (settings.index_dir / read_manifest(settings.index_dir)["data"] / PASSAGES).write_text("{broken",
                                                                                        encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag"):
        assert assistant.ask(QUESTION) == first
        assert assistant.ask(QUESTION) == first
    warnings = [r for r in caplog.records if "cannot be loaded" in r.getMessage()]
    assert len(warnings) == 1 and "previous one" in warnings[0].getMessage()  # logged once, not per question
    assert assistant.index.manifest["data"] == old_data

    build_index(settings, force=True)  # fixed by the next rebuild
    assert assistant.ask(QUESTION).passages and assistant.index.manifest["data"] != old_data


def test_a_question_in_flight_finishes_on_the_index_it_started_with(settings: Settings) -> None:
    assistant = Assistant.load(settings=settings)
    path = settings.corpus_dir / GERMAN
    versions = [path.read_text(encoding="utf-8")]
    versions.append(PREFIX + versions[0])

    def ask(_: int) -> Answer:
        return assistant.ask(QUESTION, k=5)

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(ask, n) for n in range(60)]
        for n in range(4):  # rebuild back and forth while the questions run
            path.write_text(versions[(n + 1) % 2], encoding="utf-8")
            build_index(settings)
        answers = [f.result(timeout=120) for f in futures]
    # Every answer is wholly of one version of the file: never half old, half new.
    assert all(cites(a, versions[0]) or cites(a, versions[1]) for a in answers)
    assert cites(assistant.ask(QUESTION), versions[0])  # the last rebuild was of the original text


def test_live_can_be_switched_off(settings: Settings) -> None:
    assistant = Assistant(load_index(settings.index_dir), HashingEmbedder(), settings, live=False)
    data = assistant.index.manifest["data"]
    (settings.corpus_dir / GERMAN).write_text(PREFIX + "Neu.", encoding="utf-8")
    build_index(settings)
    assistant.ask(QUESTION)
    assert assistant.index.manifest["data"] == data
