"""The Milvus vector store: Milvus Lite on a local .db file (embedded, no server), or a Milvus standalone or
cluster at http://host:port — the same client API. Filters by kind, language and owner run inside Milvus.

One collection per embedding model (`rag_<model>`, or `rag_<name>_<model>` for an address ending in
`#name`), holding id (the primary key), kind, lang, owner and
the vector; exact inner-product search (FLAT) at every size (a server's own index types are not
chosen here yet). pymilvus is imported only when a Milvus store is opened.
"""

from __future__ import annotations

import contextlib
import logging
import re
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import StoreError
from rag.index.rows import KINDS, Rows
from rag.index.vectorstore import Address, Found, credentials

BATCH = 2000  # rows per upsert call
MAX_K = 16384  # Milvus' largest topk
LABEL = "rag.rows"  # the collection property that holds the store's label (what the last sync wrote)
_LANG = re.compile(r"[a-z]{2,8}")


def _close_quietly(client: Any) -> None:
    """Close a pymilvus client; a connection already gone (a stopped server, interpreter exit) is not an error."""
    with contextlib.suppress(Exception):
        client.close()


def collection_name(model: str, name: str = "") -> str:
    """The collection of one embedding model's rows, within the address's named collection if any (Milvus
    names: letters, digits, underscores)."""
    return "rag_" + (f"{name}_" if name else "") + re.sub(r"[^A-Za-z0-9_]", "_", model)[:180]


class MilvusStore:
    """Rows in a Milvus collection (see the module's docstring)."""

    max_k = MAX_K

    def __init__(self, address: Address, model: str, dim: int) -> None:
        self.dim, self.name = dim, collection_name(model, address.collection)
        self._client = connect(address)
        try:
            if self._client.has_collection(self.name):
                check_dimension(self._client, address, model, dim)
            else:
                self._create()
            self._client.load_collection(self.name)
        except StoreError:
            self._client.close()
            raise
        except Exception as exc:  # pymilvus raises its own types and grpc's, none documented as a set
            self._client.close()
            raise StoreError(f"cannot open the Milvus store at {address.where}: {_reason(exc)}") from None
        # Closed by close(), or when the store is dropped: a live index that switched to a rebuilt one
        # drops the old retriever once its last question is done, and with it this store's connection.
        self._closer = weakref.finalize(self, _close_quietly, self._client)

    def _create(self) -> None:
        from pymilvus import DataType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("kind", DataType.VARCHAR, max_length=16)
        schema.add_field("lang", DataType.VARCHAR, max_length=16)
        schema.add_field("owner", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        params = self._client.prepare_index_params()
        params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
        self._client.create_collection(self.name, schema=schema, index_params=params)

    def upsert(self, rows: Rows) -> None:
        for a in range(0, len(rows), BATCH):
            part = rows.select(np.arange(a, min(a + BATCH, len(rows))))
            self._call("upsert", self._client.upsert, self.name, [
                {"id": int(i), "kind": str(k), "lang": str(lg), "owner": int(o), "vector": v}
                for i, k, lg, o, v in zip(part.ids, part.kinds, part.langs, part.owners, part.vectors, strict=True)])
        self._flush()

    def delete(self, ids: np.ndarray) -> None:
        gone = [int(i) for i in ids]
        for a in range(0, len(gone), BATCH):
            self._call("delete", self._client.delete, self.name, ids=gone[a:a + BATCH])
        self._flush()

    def _flush(self) -> None:
        # Sealed and indexed: Milvus Lite searched fresh rows 20-50 times slower until they were (0.7 s against
        # 16 ms a search at 10,000 passages, benchmarks/scale_milvus.py).
        self._call("flush", self._client.flush, self.name)

    def search(self, vectors: np.ndarray, k: int, kind: str, lang: str | None = None,
               owners: np.ndarray | None = None) -> list[Found]:
        queries = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        empty = Found(np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.int64))
        if owners is not None and not len(owners) or k <= 0:
            return [empty for _ in queries]
        result = self._call("search", self._client.search, self.name, data=list(queries), limit=min(k, MAX_K),
                            filter=_filter(kind, lang, owners), output_fields=["owner"],
                            search_params={"metric_type": "IP"})
        return [Found(np.array([h["id"] for h in hits], dtype=np.int64),
                      np.array([h["distance"] for h in hits], dtype=np.float32),
                      np.array([h["entity"]["owner"] for h in hits], dtype=np.int64)) for hits in result]

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        wanted = [int(i) for i in ids]
        got: dict[int, Any] = {}
        for a in range(0, len(wanted), BATCH):
            for row in self._call("get", self._client.get, self.name, ids=wanted[a:a + BATCH],
                                  output_fields=["vector"]):
                got[int(row["id"])] = row["vector"]
        missing = [i for i in wanted if i not in got]
        if missing:
            raise KeyError(missing[0])
        return np.array([got[i] for i in wanted], dtype=np.float32).reshape(len(wanted), self.dim)

    def ids(self) -> np.ndarray:
        # Each page is a scan in Milvus Lite: the largest pages (1.1 s a page of 2,000 ids at 400,000 rows).
        iterator = self._call("query", self._client.query_iterator, self.name, batch_size=MAX_K,
                              filter="id >= 0", output_fields=["id"])
        out: list[int] = []
        try:
            while batch := iterator.next():
                out += [int(r["id"]) for r in batch]
        finally:
            iterator.close()
        return np.array(out, dtype=np.int64)

    def held(self, ids: np.ndarray) -> int:
        wanted = [int(i) for i in ids]  # ints only: nothing from outside is spliced into the filter
        found = 0
        for a in range(0, len(wanted), MAX_K):
            part = wanted[a:a + MAX_K]
            found += len(self._call("query", self._client.query, self.name, filter=f"id in {part}",
                                    output_fields=["id"], limit=len(part)))
        return found

    def label(self) -> str:
        properties = self._call("describe", self._client.describe_collection, self.name).get("properties") or {}
        return str(properties.get(LABEL, ""))

    def set_label(self, label: str) -> None:
        self._call("label", self._client.alter_collection_properties, self.name, properties={LABEL: label})

    def count(self, kind: str | None = None, lang: str | None = None) -> int:
        expression = _filter(kind, lang, None) if kind else (f'lang == "{_lang(lang)}"' if lang else "")
        rows = self._call("count", self._client.query, self.name, filter=expression, output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def close(self) -> None:
        self._closer()  # once: a second close, or the store's collection afterwards, does nothing

    def _call(self, what: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception as exc:  # see __init__
            raise StoreError(f"the Milvus store failed to {what}: {_reason(exc)} (check that the server runs, "
                             "then run `rag index --store` again: it writes what is missing)") from None


def check_dimension(client: Any, address: Address, model: str, dim: int) -> None:
    """Refuse a collection (if it exists) whose vectors have another dimension than dim.

    Raises:
        StoreError: it does (with the fix).
    """
    name = collection_name(model, address.collection)
    try:
        if not client.has_collection(name):
            return
        fields = client.describe_collection(name).get("fields", [])
    except Exception as exc:  # see MilvusStore.__init__
        raise StoreError(f"cannot read the Milvus store at {address.where}: {_reason(exc)}") from None
    dims = [int(f.get("params", {}).get("dim", 0)) for f in fields if f.get("name") == "vector"]
    if dims != [dim]:
        raise StoreError(f"the Milvus collection {name} holds {dims[0] if dims else 'no'}-dimensional vectors, "
                         f"the index's model makes {dim}: use another store address (or `#name`), or drop the "
                         "collection and run `rag index` again")


def connect(address: Address) -> Any:
    """A client of the Milvus at address, its connection (and credentials) checked.

    Raises:
        StoreError: pymilvus missing, a symlinked or homeless Lite file, an unreachable server, a wrong token.
    """
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise StoreError("a Milvus store needs pymilvus and milvus-lite: "
                         "`python -m pip install pymilvus milvus-lite`") from None
    # pymilvus logs every failed call with a traceback on stderr, and Milvus Lite's embedded gRPC server the
    # calls it does not implement (pymilvus falls back): ours become one StoreError line instead.
    for name in ("pymilvus", "grpc._server", "milvus_lite"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if address.local:
        _check_file(Path(address.where))
    try:
        # A connection of its own, closed with the client: a shared one outlives close() in pymilvus' pool,
        # and after a long build in this process (Milvus Lite serves from a thread of it) the next client
        # got that pooled channel, shut by the server meanwhile ("too_many_pings"), and failed to connect.
        client = MilvusClient(address.where, timeout=10, dedicated=True,
                              **({} if address.local else credentials()))
        client.list_collections()  # a wrong token fails here, not at the first search
        return client
    except Exception as exc:  # see MilvusStore.__init__
        hint = ("Milvus Lite serves one process at a time: stop the other one (a page, a `rag` command) or use "
                "a Milvus server" if address.local else "check the address, that the server runs, and RAG_MILVUS_TOKEN")
        raise StoreError(f"cannot open the Milvus store at {address.where}: {_reason(exc)} ({hint})") from None


def _filter(kind: str | None, lang: str | None, owners: np.ndarray | None) -> str:
    """A Milvus boolean expression; every value is checked or an int, so nothing from outside is spliced in."""
    if kind not in KINDS:
        raise ValueError(f"unknown row kind {kind!r}")
    parts = [f'kind == "{kind}"']
    if lang is not None:
        parts.append(f'lang == "{_lang(lang)}"')
    if owners is not None:
        parts.append(f"owner in [{', '.join(str(int(o)) for o in owners)}]")
    return " and ".join(parts)


def _lang(lang: str | None) -> str:
    if not lang or not _LANG.fullmatch(lang):
        raise ValueError(f"not a language code: {lang!r}")
    return lang


def _check_file(path: Path) -> None:
    """A Milvus Lite file: never a symlink, in a folder that exists."""
    if path.is_symlink():
        raise StoreError(f"the Milvus store {path} is a symbolic link: give the real file's path")
    if not path.parent.is_dir():
        raise StoreError(f"the folder of the Milvus store {path} does not exist: create it first "
                         f"(`mkdir -p {path.parent}`)")


def _reason(exc: Exception) -> str:
    """One short line from a pymilvus or grpc error."""
    text = " ".join(str(getattr(exc, "message", "") or exc).split())
    return (text or type(exc).__name__)[:200]
