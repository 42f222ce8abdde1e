"""The vector store contract, run against every backend: FAISS (in memory) and Milvus Lite (a local file)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from rag.errors import StoreError
from rag.index.faiss_store import FaissStore
from rag.index.milvus_store import MilvusStore, _filter
from rag.index.rows import PASSAGE, SENTENCE, WORD, Rows, join, make_rows
from rag.index.sync import digest, sync
from rag.index.vectorstore import MILVUS, Address, VectorStore, parse_address

DIM = 16

Factory = Callable[[], VectorStore]


@pytest.fixture(scope="module")
def milvus_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("milvus") / "rows.db"


@pytest.fixture(scope="module")
def milvus_store(milvus_file: Path) -> Iterator[MilvusStore]:
    """One Milvus collection for the module's contract tests (making one costs Milvus Lite half a second)."""
    store = MilvusStore(Address(MILVUS, str(milvus_file)), "contract", DIM)
    yield store
    store.close()


@pytest.fixture(params=["faiss", "milvus"])
def make_store(request: pytest.FixtureRequest, milvus_file: Path) -> Factory:
    """A factory of an empty store of one backend."""

    def make() -> VectorStore:
        if request.param == "faiss":
            return FaissStore()
        store: MilvusStore = request.getfixturevalue("milvus_store")
        store.delete(store.ids())  # emptied and unlabelled, as a new store would be
        store.set_label("")
        assert store.count() == 0
        return store

    return make


def unit(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def sample_rows(seed: int = 0) -> Rows:
    """Six passages (three a language), two sentences each, and four words."""
    passages = make_rows(list(range(1, 7)), PASSAGE, ["en"] * 3 + ["de"] * 3, list(range(1, 7)), unit(6, seed))
    owners = [p for p in range(1, 7) for _ in range(2)]
    sentences = make_rows(list(range(101, 113)), SENTENCE, ["en"] * 6 + ["de"] * 6, owners, unit(12, seed + 1))
    words = make_rows([201, 202, 203, 204], WORD, ["en", "en", "de", "de"], [201, 202, 203, 204], unit(4, seed + 2))
    return join([passages, sentences, words])


def exact(rows: Rows, vector: np.ndarray, kind: str, lang: str | None = None,
          owners: list[int] | None = None) -> dict[int, float]:
    keep = (rows.kinds == kind) & ((rows.langs == lang) if lang else True)
    if owners is not None:
        keep &= np.isin(rows.owners, owners)
    return {int(i): float(s) for i, s in zip(rows.ids[keep], rows.vectors[keep] @ vector, strict=True)}


def top(scores: dict[int, float], k: int) -> set[int]:
    return set(sorted(scores, key=lambda i: -scores[i])[:k])


def test_search_finds_the_exact_nearest_rows_of_a_kind_and_language(make_store: Factory) -> None:
    store, rows = make_store(), sample_rows()
    store.upsert(rows)
    q = unit(1, 9)[0]
    for kind, lang, k in [(PASSAGE, "en", 2), (PASSAGE, None, 4), (SENTENCE, "de", 3), (WORD, "en", 5)]:
        found = store.search(q, k, kind, lang)[0]
        want = exact(rows, q, kind, lang)
        assert set(found.ids.tolist()) == top(want, k)
        assert np.allclose(found.scores, [want[i] for i in found.ids.tolist()], atol=1e-5)


def test_an_owner_filter_returns_those_passages_and_their_sentences_only(make_store: Factory) -> None:
    store, rows = make_store(), sample_rows()
    store.upsert(rows)
    q = unit(1, 3)[0]
    sentences = store.search(q, 100, SENTENCE, owners=np.array([2, 5]))[0]
    assert set(sentences.ids.tolist()) == {103, 104, 109, 110}
    assert sorted(sentences.owners.tolist()) == [2, 2, 5, 5]
    passages = store.search(q, 100, PASSAGE, owners=np.array([5]))[0]
    assert passages.ids.tolist() == [5] and passages.scores[0] == pytest.approx(exact(rows, q, PASSAGE)[5], abs=1e-5)


def test_an_owner_named_twice_filters_once(make_store: Factory) -> None:
    store, rows = make_store(), sample_rows()
    store.upsert(rows)
    found = store.search(unit(1, 8)[0], 3, SENTENCE, owners=np.array([2, 2, 5]))[0]
    assert len(set(found.ids.tolist())) == len(found.ids) == 3 and found.scores.dtype == np.float32


def test_several_query_vectors_get_one_result_each(make_store: Factory) -> None:
    store, rows = make_store(), sample_rows()
    store.upsert(rows)
    queries = unit(3, 4)
    for q, found in zip(queries, store.search(queries, 1, PASSAGE, "de"), strict=True):
        assert found.ids.tolist() == list(top(exact(rows, q, PASSAGE, "de"), 1))


def test_count_ids_and_vectors_by_id(make_store: Factory) -> None:
    store, rows = make_store(), sample_rows()
    store.upsert(rows)
    assert store.count() == 22 and store.count(PASSAGE) == 6 and store.count(SENTENCE, "en") == 6
    assert sorted(store.ids().tolist()) == sorted(rows.ids.tolist())
    asked = np.array([203, 1, 110])
    got = store.vectors(asked)
    assert np.allclose(got, rows.vectors[[list(rows.ids).index(i) for i in asked]], atol=1e-6)
    with pytest.raises(KeyError):
        store.vectors(np.array([1, 999]))


def test_upsert_replaces_a_row_and_delete_removes_it(make_store: Factory) -> None:
    store, rows = make_store(), sample_rows()
    store.upsert(rows)
    moved = rows.select(np.flatnonzero(rows.ids == 4))
    new = Rows(moved.ids, moved.kinds, moved.langs, moved.owners, unit(1, 77))
    store.upsert(new)
    assert store.count() == 22
    assert np.allclose(store.vectors(np.array([4])), new.vectors, atol=1e-6)
    assert store.search(new.vectors[0], 1, PASSAGE, "de")[0].ids.tolist() == [4]
    store.delete(np.array([4, 107, 108, 12345]))  # an unknown id is ignored
    assert store.count() == 19 and 4 not in store.ids().tolist()
    assert 4 not in store.search(new.vectors[0], 10, PASSAGE)[0].ids.tolist()


def test_sync_writes_only_what_changed(make_store: Factory) -> None:
    store, rows = make_store(), sample_rows()
    first = sync(store, rows)
    assert (first.added, first.kept, first.deleted) == (22, 0, 0)
    again = sync(store, rows)
    assert (again.added, again.kept, again.deleted) == (0, 22, 0)
    # One passage's text changed: its id is new (ids stand for text), the old row goes.
    changed = rows.ids.copy()
    changed[rows.ids == 2] = 7
    owners = rows.owners.copy()
    owners[rows.owners == 2] = 7
    edited = Rows(changed, rows.kinds, rows.langs, owners, rows.vectors)
    step = sync(store, edited)
    assert (step.added, step.kept, step.deleted) == (1, 21, 1)
    assert sorted(store.ids().tolist()) == sorted(edited.ids.tolist())


def test_held_counts_the_ids_stored_without_reading_vectors(make_store: Factory) -> None:
    store, rows = make_store(), sample_rows()
    assert store.held(rows.ids) == 0
    store.upsert(rows)
    assert store.held(rows.ids) == 22 and store.held(np.array([1, 203, 999, 12345])) == 2
    assert store.held(np.zeros(0, dtype=np.int64)) == 0


def edit(rows: Rows, old: int, new: int) -> Rows:
    """rows with passage old's text changed: its id becomes new (ids stand for text), its sentences' owner too."""
    return Rows(np.where(rows.ids == old, new, rows.ids), rows.kinds, rows.langs,
                np.where(rows.owners == old, new, rows.owners), rows.vectors)


def test_sync_from_the_previous_rows_does_not_list_the_store(make_store: Factory,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store, rows = make_store(), sample_rows()
    sync(store, rows)
    listed: list[int] = []
    ids = store.ids
    monkeypatch.setattr(store, "ids", lambda: listed.append(1) or ids())
    step = sync(store, edit(rows, 2, 7), before=rows.ids)
    assert (step.added, step.kept, step.deleted) == (1, 21, 1) and not listed
    monkeypatch.undo()
    assert sorted(store.ids().tolist()) == sorted(edit(rows, 2, 7).ids.tolist())


def test_a_synced_store_is_labelled_with_its_rows_and_trusted_without_lookups(make_store: Factory,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    store, rows = make_store(), sample_rows()
    assert store.label() == ""
    sync(store, rows)
    assert store.label() == digest(rows.ids) == digest(rows.ids[::-1])  # the set of ids, not their order
    looked_up: list[int] = []
    held = store.held
    monkeypatch.setattr(store, "held", lambda ids: looked_up.append(1) or held(ids))
    edited = edit(rows, 2, 7)
    step = sync(store, edited, before=rows.ids)
    assert (step.added, step.deleted) == (1, 1) and not looked_up  # the label vouched for the rows
    assert store.label() == digest(edited.ids)
    store.set_label("")  # a sync that stopped midway: the rows are looked up, then labelled again
    sync(store, edited, before=edited.ids)
    assert looked_up == [1] and store.label() == digest(edited.ids)


def test_sync_from_rows_the_store_does_not_hold_lists_it_instead(make_store: Factory) -> None:
    # The store is one version behind what the build thinks (an index rebuilt once without --store): the
    # same row count, one row different. Trusting `before` would leave it without a row; it lists instead.
    store, rows = make_store(), sample_rows()
    sync(store, rows)
    middle, last = edit(rows, 2, 7), edit(edit(rows, 2, 7), 3, 8)
    step = sync(store, last, before=middle.ids)
    assert (step.added, step.deleted) == (2, 2)
    assert sorted(store.ids().tolist()) == sorted(last.ids.tolist())


@pytest.mark.slow  # makes its own Milvus collections: half a second each
def test_a_milvus_collection_of_another_dimension_is_refused(milvus_file: Path) -> None:
    MilvusStore(Address(MILVUS, str(milvus_file)), "dims", DIM).close()
    with pytest.raises(StoreError, match=r"16-dimensional .* makes 8: use another store address"):
        MilvusStore(Address(MILVUS, str(milvus_file)), "dims", 8)


def test_a_dropped_milvus_store_closes_its_connection_and_leaves_others_working(milvus_file: Path,
                                                                                milvus_store: MilvusStore) -> None:
    # What a live index does on a switch: the old retriever (and its store) is dropped after its last question.
    old = MilvusStore(Address(MILVUS, str(milvus_file)), "contract", DIM)
    client = old._client
    del old
    gc.collect()
    assert client._handler is None  # closed (pymilvus clears its handler on close)
    sync(milvus_store, sample_rows())  # a store on the same file and collection still works
    assert milvus_store.count() == 22
    closed_twice = MilvusStore(Address(MILVUS, str(milvus_file)), "contract", DIM)
    closed_twice.close()
    closed_twice.close()  # a second close does nothing


@pytest.mark.slow  # makes its own Milvus collections: half a second each
def test_a_named_collection_keeps_one_corpus_apart_from_another(milvus_file: Path) -> None:
    plain = MilvusStore(Address(MILVUS, str(milvus_file)), "shared", DIM)
    named = MilvusStore(Address(MILVUS, str(milvus_file), "news"), "shared", DIM)
    try:
        sync(plain, sample_rows())
        assert named.count() == 0 and sync(named, sample_rows(5)).deleted == 0 and plain.count() == 22
    finally:
        plain.close()
        named.close()


def test_a_symlinked_milvus_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real.db").mkdir()
    (tmp_path / "link.db").symlink_to(tmp_path / "real.db")
    with pytest.raises(StoreError, match="symbolic link"):
        MilvusStore(parse_address(f"milvus://{tmp_path / 'link.db'}"), "m", DIM)


def test_a_file_milvus_lite_cannot_open_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "garbage.db").write_text("not a Milvus Lite store")
    with pytest.raises(StoreError, match="cannot open the Milvus store") as caught:
        MilvusStore(parse_address(f"milvus://{tmp_path / 'garbage.db'}"), "m", DIM)
    assert "\n" not in str(caught.value) and "Traceback" not in capsys.readouterr().err


def test_milvus_filters_never_splice_in_outside_text() -> None:
    assert _filter(SENTENCE, "de", np.array([3, 4])) == 'kind == "sentence" and lang == "de" and owner in [3, 4]'
    for kind, lang in [('passage" or 1==1 or "', None), (PASSAGE, 'de" or kind != "x')]:
        with pytest.raises(ValueError):
            _filter(kind, lang, None)


@pytest.mark.parametrize(("address", "backend", "where"), [
    ("", "faiss", ""), ("faiss", "faiss", ""), (" faiss ", "faiss", ""),
    ("milvus:///tmp/x.db", "milvus", "/tmp/x.db"),
    ("http://db.example:19530", "milvus", "http://db.example:19530"),
    ("https://db.example:443/", "milvus", "https://db.example:443"),
    ("milvus:///tmp/x.db#news_2", "milvus", "/tmp/x.db"), ("http://h:19530#a", "milvus", "http://h:19530"),
    ("http://[::1]:19530", "milvus", "http://[::1]:19530"),
])
def test_store_addresses(address: str, backend: str, where: str) -> None:
    parsed = parse_address(address)
    assert (parsed.backend, parsed.where) == (backend, where)
    assert parsed.collection == address.partition("#")[2]


@pytest.mark.parametrize(("address", "says"), [
    ("milvus://x", "a .db file"), ("milvus:///tmp/x.txt", "a .db file"), ("milvus:///tmp/x.db?a=1", "a .db file"),
    ("http://host", "http://host:port"), ("http://user:pw@host:19530", "RAG_MILVUS_TOKEN"),
    ("http://host:19530/db", "http://host:port"), ("http://host:99999", "http://host:port"),
    ("ftp://host", "not one this program knows"), ("qdrant", "not one this program knows"),
    ("milvus:///tmp/x.db#bad-name", "letters, digits or underscores"),
])
def test_bad_store_addresses_name_the_forms_that_work(address: str, says: str) -> None:
    with pytest.raises(StoreError, match=says.replace(".", r"\.")):
        parse_address(address)


def test_milvus_connections_are_dedicated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A pooled connection outlived close() and failed the sync after a long build (docs/scaling.md, Updates).
    import pymilvus

    from rag.index.milvus_store import connect

    seen: list[dict[str, object]] = []

    class Client:
        def __init__(self, uri: str, **kwargs: object) -> None:
            seen.append(kwargs)

        def list_collections(self) -> list[str]:
            return []

    monkeypatch.setattr(pymilvus, "MilvusClient", Client)
    connect(Address(MILVUS, str(tmp_path / "rows.db")))
    assert seen and seen[0].get("dedicated") is True
