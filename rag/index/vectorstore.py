"""The vector store seam: what retrieval asks of wherever the vectors live, and how a store is named.

Two backends implement it: `faiss` (rag.index.faiss_store, the default: the index folder's own vectors,
in this process) and `milvus` (rag.index.milvus_store: Milvus Lite on a local file, or a Milvus server
that many app instances share). A store is named by an address (`--store`, `RAG_STORE`):

    faiss                       the index folder's vectors (the default, also for an empty address)
    milvus:///path/to/rows.db   Milvus Lite, embedded in this process, on a local file
    http://host:19530           a Milvus standalone or cluster (https:// too); credentials come from
                                RAG_MILVUS_TOKEN (or RAG_MILVUS_USER and RAG_MILVUS_PASSWORD), never a file
    …#name                      a Milvus address may end in a collection's name: one collection per
                                corpus (the default is one per embedding model, `rag_<model>`)
"""

from __future__ import annotations

import os
import re
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import numpy as np

from rag.errors import RagError, StoreError
from rag.index.rows import Rows

FAISS, MILVUS = "faiss", "milvus"
CHECK_ALL_UP_TO = 20_000  # passages whose ids are all looked up when a store is opened for an index
_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


@dataclass(frozen=True)
class Found:
    """One query vector's nearest rows: ids, inner products and owners, aligned, in no particular order."""

    ids: np.ndarray  # int64
    scores: np.ndarray  # float32
    owners: np.ndarray  # int64


class VectorStore(Protocol):
    """Rows keyed by id; search by inner product, filtered by kind, language and owner."""

    max_k: int  # the most rows one search returns

    def upsert(self, rows: Rows) -> None:
        """Insert rows, replacing any with the same id."""

    def delete(self, ids: np.ndarray) -> None:
        """Remove the rows with these ids (unknown ids are ignored)."""

    def search(self, vectors: np.ndarray, k: int, kind: str, lang: str | None = None,
               owners: np.ndarray | None = None) -> list[Found]:
        """The k rows of kind nearest each vector (one Found per row of vectors).

        Args:
            vectors: (q, dim) query vectors.
            k: rows per query vector (at most max_k).
            kind: passage, sentence or word.
            lang: only rows of this language (None: every language).
            owners: only rows owned by these ids (a passage owns itself and its sentences).
        """

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of these ids, in their order.

        Raises:
            KeyError: an id is not stored.
        """

    def ids(self) -> np.ndarray:
        """Every stored id."""

    def held(self, ids: np.ndarray) -> int:
        """How many of these (distinct) ids are stored: a lookup by id, no vector read."""

    def count(self, kind: str | None = None, lang: str | None = None) -> int:
        """How many rows (of kind, of language) are stored."""

    def label(self) -> str:
        """What the last complete sync said the store holds (rag.index.sync: a digest of its ids); "" if none."""

    def set_label(self, label: str) -> None:
        """Keep a label with the rows, where every client of the store reads it."""

    def close(self) -> None:
        """Release the store's resources."""


@dataclass(frozen=True)
class Address:
    """A parsed store address: the backend and where it is (a file for Milvus Lite, a URL for a server)."""

    backend: str
    where: str = ""
    collection: str = ""  # a Milvus collection's own name (`#name`), so several corpora can share one Milvus

    @property
    def local(self) -> bool:
        """True for a store inside the index folder or a local file (no server)."""
        return self.backend == FAISS or not self.where.startswith(("http://", "https://"))


def parse_address(address: str) -> Address:
    """The backend and place an address names.

    Raises:
        StoreError: an address no backend takes (with the forms that work).
    """
    text = address.strip()
    forms = "use `faiss`, `milvus:///path/to/rows.db` or `http://host:19530` (either with `#name`)"
    if text in ("", FAISS):
        return Address(FAISS)
    text, _, collection = text.partition("#")
    if collection and not _NAME.fullmatch(collection):
        raise StoreError(f"store address {address.strip()!r}: a collection name (after #) is 1-64 letters, "
                         "digits or underscores")
    parts = urlsplit(text)
    if parts.scheme == MILVUS:
        path = (parts.netloc + parts.path) if parts.netloc in ("", ".", "..") else ""
        if not path or not path.endswith(".db") or parts.query:
            raise StoreError(f"store address {text!r}: a Milvus Lite store is a .db file, "
                             "e.g. `milvus:///tmp/rows.db`")
        # Absolute but not resolved: a symbolic link in the last place must stay visible to be refused.
        return Address(MILVUS, os.path.abspath(Path(path).expanduser()), collection)
    if parts.scheme in ("http", "https"):
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None or parts.path not in ("", "/") or parts.username or parts.password:
            raise StoreError(f"store address {text!r}: a Milvus server is `http://host:port` (credentials go in "
                             "RAG_MILVUS_TOKEN, not the address)")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # IPv6 keeps its brackets
        return Address(MILVUS, f"{parts.scheme}://{host}:{port}", collection)
    raise StoreError(f"store address {text!r} is not one this program knows: {forms}")


def credentials() -> dict[str, str]:
    """A Milvus server's credentials from the environment (never from the manifest or the address)."""
    token = os.environ.get("RAG_MILVUS_TOKEN", "")
    user, password = os.environ.get("RAG_MILVUS_USER", ""), os.environ.get("RAG_MILVUS_PASSWORD", "")
    if token:
        return {"token": token}
    return {"user": user, "password": password} if user else {}


def open_store(address: str, index: Any, check: bool = True) -> VectorStore:
    """The store an address names, for a loaded index (rag.store.Index).

    The faiss store is the index folder's own vectors; a Milvus store is opened (created if new) for the
    index's model and dimension — `rag index --store` fills it.

    Args:
        check: refuse a store that does not hold the index's passages (sync opens it to fill it: False).

    Raises:
        StoreError: a bad address, an unreachable server, a wrong token or another dimension.
    """
    parsed = parse_address(address)
    if parsed.backend == FAISS:
        from rag.index.faiss_store import FaissStore

        return FaissStore.of_index(index)
    from rag.index.milvus_store import MilvusStore

    store = MilvusStore(parsed, index.manifest["model"], int(index.vectors.shape[1]))
    if check:
        _check_holds(store, index, address)
    return store


def _check_holds(store: VectorStore, index: Any, address: str) -> None:
    """Refuse a store that does not hold the index's passages (never filled, or filled from another corpus).

    They are looked up by id; more rows than the index's are fine (a shared store being synced).
    """
    from rag.index.rows import PASSAGE

    held = store.count(PASSAGE)
    # Every passage of a small index is looked up; of a large one, a sample (and the count).
    step = 1 if len(index.chunks) <= CHECK_ALL_UP_TO else len(index.chunks) // 1000
    try:
        if held < len(index.chunks):
            raise KeyError(held)
        store.vectors(index.passage_ids[::step])
    except KeyError:
        store.close()
        raise StoreError(f"the store {address} does not hold this index's passages ({held} passages stored, "
                         f"the index has {len(index.chunks)}): fill it with `rag index --store {address}`") from None


def indexed_dim(index_dir: Path, model: str) -> int | None:
    """The vector dimension of the index in index_dir if it was built with model, else None."""
    from rag.manifest import read_manifest

    with suppress(RagError, OSError, KeyError, ValueError, TypeError):
        manifest = read_manifest(index_dir)
        if manifest["model"] == model:
            return int(manifest["dim"])
    return None


def check_store(address: str, model: str = "", dim: int | None = None) -> None:
    """Fail now if the store an address names cannot be used (before a build does any work).

    Args:
        address: the store's address.
        model, dim: the index's model and vector dimension: an existing collection for that model must
            take vectors of that dimension (None: not checked).

    Raises:
        StoreError: a bad address, an unreachable server, a wrong token, another dimension.
    """
    parsed = parse_address(address)
    if parsed.backend == FAISS:
        return
    from rag.index.milvus_store import check_dimension, connect

    client = connect(parsed)
    try:
        if dim:
            check_dimension(client, parsed, model, dim)
    finally:
        client.close()
