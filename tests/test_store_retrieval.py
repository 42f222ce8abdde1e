"""Retrieval through each vector store gives the same answers: the store decides where vectors live, not what
is found. The Milvus store is filled by `rag index --store` (rag.index.sync) and read by ask()."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer import Answer
from rag.assistant import Assistant
from rag.cli import main
from rag.config import Settings
from rag.index.sync import sync_store
from rag.index.vectorstore import parse_address

QUESTIONS = ["Wer führte Regie?", "Who plays Seon-woo?", "How many episodes?", "Wie lange dauert eine Folge?",
             "capital of France"]


def same(a: Answer, b: Answer) -> bool:
    """Equal answers, up to the last float32 bits of the scores (Milvus computes its own inner products)."""
    x, y = a.to_dict(), b.to_dict()
    for answer in (x, y):
        for p in answer["passages"]:
            p["score"] = round(p["score"], 3)
        for c in answer["confidence"].values():
            c["probability"] = round(c["probability"], 3)
    return x == y


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
        assert same(milvus.ask(question), faiss.ask(question)), question


@pytest.mark.slow
def test_the_candidate_path_through_milvus_answers_like_the_exact_path(
        hashing_index: Settings, milvus_index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above EXACT_BELOW passages the store picks candidates (and scores their sentences by owner)."""
    import rag.search.dense

    expected = [Assistant.load(settings=hashing_index).ask(q) for q in QUESTIONS]
    monkeypatch.setattr(rag.search.dense, "EXACT_BELOW", 5)
    milvus = Assistant.load(settings=milvus_index)
    assert all(same(milvus.ask(q), e) for q, e in zip(QUESTIONS, expected, strict=True))


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


@pytest.mark.slow
def test_a_store_holding_another_versions_rows_too_answers_the_same(hashing_index: Settings, tmp_path: Path) -> None:
    """While a shared store is synced it holds the old and the new index's rows: each index reads its own."""
    import numpy as np

    from rag.index.milvus_store import MilvusStore
    from rag.index.rows import PASSAGE, SENTENCE, join, make_rows
    from rag.index.vectorstore import parse_address

    settings = hashing_index.with_(store=f"milvus://{tmp_path / 'rows.db'}")
    sync_store(settings)
    faiss = Assistant.load(settings=hashing_index)
    dim = faiss.index.vectors.shape[1]
    store = MilvusStore(parse_address(settings.store), "hashing", dim)
    # Rows of passages this index does not have (their texts were edited, say), near its own vectors.
    noise = faiss.index.vectors[:20] + 0.01 * np.random.default_rng(0).normal(size=(20, dim)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    langs = [c.lang for c in faiss.index.chunks[:20]]
    store.upsert(join([make_rows(list(range(1, 21)), PASSAGE, langs, list(range(1, 21)), noise),
                       make_rows(list(range(21, 41)), SENTENCE, langs, list(range(1, 21)), noise)]))
    store.close()
    milvus = Assistant.load(settings=settings)
    for question in QUESTIONS:
        assert same(milvus.ask(question), faiss.ask(question)), question


@pytest.mark.slow
def test_a_page_switches_to_a_rebuilt_index_once_its_store_holds_it(corpus_dir: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`rag index --store` writes the folder, then the store: a live assistant waits for the store, then switches."""
    import rag.live
    from rag.index import build_index
    from tests.conftest import hashing_settings

    monkeypatch.setattr(rag.live, "STORE_RETRY_S", 0.0)  # else a try waits two seconds after the last
    settings = hashing_settings(corpus_dir, tmp_path / "index").with_(store=f"milvus://{tmp_path / 'rows.db'}")
    build_index(settings)
    assistant = Assistant.load(settings=settings)
    before = assistant.ask("Who plays Seon-woo?")
    (corpus_dir / "extra_en.txt").write_text("Seon-woo is played by the singer Park Hyung-sik in this drama.\n",
                                             encoding="utf-8")
    build_index(settings.with_(store=""))  # the folder only: the store still holds the old rows
    assert same(assistant.ask("Who plays Seon-woo?"), before)  # answered from the old index meanwhile
    sync_store(settings)
    after = assistant.ask("Who plays Seon-woo?")
    assert any(p.source == "extra_en.txt" for p in after.passages)


@pytest.mark.slow
def test_a_one_file_rebuild_syncs_the_store_from_the_previous_rows(corpus_dir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The build knows the rows it replaces: the store is checked by id, not listed (a scan of every row)."""
    from rag.index import build_index
    from rag.index.milvus_store import MilvusStore
    from rag.index.rows import index_row_ids
    from rag.store import load_index
    from tests.conftest import hashing_settings

    settings = hashing_settings(corpus_dir, tmp_path / "index").with_(store=f"milvus://{tmp_path / 'rows.db'}")
    build_index(settings)
    listed: list[int] = []
    ids = MilvusStore.ids
    monkeypatch.setattr(MilvusStore, "ids", lambda self: listed.append(1) or ids(self))
    (corpus_dir / "extra_en.txt").write_text("Seon-woo is played by the singer Park Hyung-sik in this drama.\n",
                                             encoding="utf-8")
    report = build_index(settings)
    assert report.store is not None and report.store.added >= 2 and report.store.deleted == 0 and not listed
    index = load_index(settings.index_dir)
    store = MilvusStore(parse_address(settings.store), "hashing", index.vectors.shape[1])
    try:
        assert sorted(ids(store).tolist()) == sorted(index_row_ids(index.passage_ids, index.sentence_owner,
                                                                   index.vocabulary).tolist())
    finally:
        store.close()


@pytest.mark.slow
def test_a_store_of_another_dimension_fails_before_the_folder_is_rebuilt(corpus_dir: Path, tmp_path: Path) -> None:
    from rag.errors import StoreError
    from rag.index import build_index
    from rag.index.milvus_store import MilvusStore
    from rag.index.vectorstore import parse_address
    from tests.conftest import hashing_settings

    address = f"milvus://{tmp_path / 'rows.db'}"
    settings = hashing_settings(corpus_dir, tmp_path / "index")
    build_index(settings)
    MilvusStore(parse_address(address), "hashing", 8).close()  # a collection for 8-dimensional vectors
    (corpus_dir / "extra_en.txt").write_text("A new page about the drama.\n", encoding="utf-8")
    before = (tmp_path / "index" / "manifest.json").read_bytes()
    with pytest.raises(StoreError, match="8-dimensional"):
        build_index(settings.with_(store=address))
    assert (tmp_path / "index" / "manifest.json").read_bytes() == before


def test_the_page_takes_a_store(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import load_app

    app = load_app()
    assert app.parse_args(["--store", "milvus:///srv/rows.db"]).store == "milvus:///srv/rows.db"
    assert app.parse_args([]).store is None  # then RAG_STORE, through Settings.from_env
    monkeypatch.setenv("RAG_STORE", "http://db:19530")
    assert Settings.from_env(store=None).store == "http://db:19530"
    assert Settings.from_env(store="faiss").store == "faiss"  # an explicit value wins


@pytest.mark.slow
def test_a_new_index_is_not_built_for_a_store_of_another_dimension(corpus_dir: Path, tmp_path: Path) -> None:
    from rag.errors import StoreError
    from rag.index import build_index
    from rag.index.milvus_store import MilvusStore
    from rag.index.vectorstore import parse_address
    from tests.conftest import hashing_settings

    address = f"milvus://{tmp_path / 'rows.db'}#c"
    MilvusStore(parse_address(address), "hashing", 8).close()
    with pytest.raises(StoreError, match="8-dimensional"):
        build_index(hashing_settings(corpus_dir, tmp_path / "index").with_(store=address))
    assert not (tmp_path / "index" / "manifest.json").exists()
