"""Retrieval through each vector store gives the same answers: the store decides where vectors live, not what
is found. The Milvus store is filled by `rag index --store` (rag.index.sync) and read by ask()."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.cli import main
from rag.config import Settings
from rag.index.sync import sync_store

QUESTIONS = ["Wer führte Regie?", "Who plays Seon-woo?", "How many episodes?", "Wie lange dauert eine Folge?",
             "capital of France"]


@pytest.fixture(scope="module")
def milvus_index(hashing_index: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = hashing_index.with_(store=f"milvus://{tmp_path_factory.mktemp('store') / 'rows.db'}")
    sync_store(settings)
    return settings


@pytest.mark.slow  # a few seconds: Milvus Lite answers each search over gRPC
def test_answers_from_milvus_equal_answers_from_faiss(hashing_index: Settings, milvus_index: Settings) -> None:
    faiss, milvus = Assistant.load(settings=hashing_index), Assistant.load(settings=milvus_index)
    assert type(milvus.retriever.store).__name__ == "MilvusStore"
    for question in QUESTIONS:
        assert milvus.ask(question).to_dict() == faiss.ask(question).to_dict(), question


@pytest.mark.slow
def test_the_candidate_path_through_milvus_answers_like_the_exact_path(
        hashing_index: Settings, milvus_index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above EXACT_BELOW passages the store picks candidates (and scores their sentences by owner)."""
    import rag.search.dense

    expected = [Assistant.load(settings=hashing_index).ask(q).to_dict() for q in QUESTIONS]
    monkeypatch.setattr(rag.search.dense, "EXACT_BELOW", 5)
    milvus = Assistant.load(settings=milvus_index)
    assert [milvus.ask(q).to_dict() for q in QUESTIONS] == expected


@pytest.mark.slow
def test_rag_index_syncs_the_store_by_id(hashing_index: Settings, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"RAG_CORPUS_DIR": hashing_index.corpus_dir, "RAG_INDEX_DIR": hashing_index.index_dir,
                       "RAG_MODEL": "hashing"}.items():
        monkeypatch.setenv(key, str(value))
    address = f"milvus://{tmp_path / 'rows.db'}"
    assert main(["index", "--store", address]) == 0
    first = capsys.readouterr().out
    assert main(["index", "--store", address]) == 0
    second = capsys.readouterr().out
    added = int(first.split(f"store {address}: ")[1].split(" rows added")[0])
    assert added > 100 and f"store {address}: 0 rows added, {added} kept, 0 deleted" in second


@pytest.mark.parametrize(("address", "says"), [
    ("milvus:///no/such/folder/rows.db", "does not exist: create it first (`mkdir -p /no/such/folder`)"),
    ("elastic://x", "not one this program knows"),
])
def test_a_bad_store_is_one_line_and_exit_2(hashing_index: Settings, address: str, says: str,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"RAG_CORPUS_DIR": hashing_index.corpus_dir, "RAG_INDEX_DIR": hashing_index.index_dir,
                       "RAG_MODEL": "other"}.items():  # a build would have to rebuild: it must not start
        monkeypatch.setenv(key, str(value))
    before = sorted(p.name for p in hashing_index.index_dir.iterdir())
    for argv in (["index", "--store", address], ["ask", "Wer führte Regie?", "--store", address]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and says in err and "Traceback" not in err
    assert sorted(p.name for p in hashing_index.index_dir.iterdir()) == before
