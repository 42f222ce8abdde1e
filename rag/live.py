"""Live index: notice a rebuilt index (manifest replaced) and switch to it between questions, atomically."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rag.config import Settings
from rag.embedding import Embedder, load_embedder
from rag.errors import IndexStaleError, RagError, StoreError
from rag.retrieve import Retriever
from rag.search.adapter import ADAPTER, Adapter, load_adapter
from rag.store import MANIFEST, Index, load_index

log = logging.getLogger("rag")

Stamp = tuple[int, ...]
STORE_RETRY_S = 2.0  # seconds between tries to switch to a rebuilt index whose store is not filled yet


@dataclass(frozen=True)
class Serving:
    """One loaded index and its retriever, swapped as a whole: never half of an old and half of a new one."""

    index: Index
    retriever: Retriever
    stamp: Stamp | None  # the manifest's (inode, size, mtime) when it was read


def manifest_stamp(index_dir: Path) -> Stamp | None:
    """A cheap fingerprint of manifest.json and the adapter: a rebuild or `rag learn` replaces a file."""
    try:
        st = os.stat(index_dir / MANIFEST)
    except OSError:
        return None
    try:
        learned = os.stat(index_dir / ADAPTER)
        adapter = (learned.st_ino, learned.st_size, learned.st_mtime_ns)
    except OSError:
        adapter = (0, 0, 0)
    return st.st_ino, st.st_size, st.st_mtime_ns, *adapter


def make_retriever(index: Index, embedder: Embedder, settings: Settings, adapter: Adapter | None = None) -> Retriever:
    """A retriever for index with its adapter (or the one given); IndexStaleError when the embedder gives vectors of
    another size."""
    if embedder.dim and embedder.dim != index.vectors.shape[1]:  # else every question fails in numpy
        raise IndexStaleError(
            f"index in {index.path} holds {index.vectors.shape[1]}-dimensional vectors (model "
            f"{index.manifest['model']!r}), but the model loaded gives {embedder.dim}: it was built with "
            f"another model; rebuild it with `rag index --force`")
    settings = settings.for_model(index.manifest["model"])
    if adapter is None and settings.adapter:
        adapter = load_adapter(index.path, index.manifest["model"], index.vectors.shape[1])
    return Retriever(index, embedder, settings, adapter)


class LiveIndex:
    """The index a long-lived assistant answers from, switched to a rebuilt one when its manifest changes.

    Each question takes one Serving at its start (current()) and keeps it to the end, so a question in
    flight finishes on the old index. If a rebuilt index cannot be loaded, the old one keeps answering,
    a warning is logged, and that manifest is not tried again.
    """

    def __init__(self, index: Index, embedder: Embedder, settings: Settings, live: bool = True,
                 adapter: Adapter | None = None) -> None:
        stamp = manifest_stamp(index.path)  # taken first: a manifest replaced after this is noticed
        self.settings, self.embedder, self.live = settings, embedder, live
        self._serving = Serving(index, make_retriever(index, embedder, settings, adapter), stamp)
        self._lock = threading.Lock()  # one thread loads a rebuilt index; the others keep answering
        self._failed: Stamp | None = None
        self._waiting: tuple[Stamp, float] = ((), 0.0)  # a rebuilt index waiting for its store: retried from then

    def current(self, check: bool = True) -> Serving:
        """The index to answer the next question with, after switching to a rebuilt one.

        Args:
            check: look at the manifest (one stat); False returns what is serving now.

        Returns:
            The Serving to use for one whole question.
        """
        serving = self._serving
        if not (check and self.live):
            return serving
        stamp = manifest_stamp(serving.index.path)
        if stamp is None or stamp in (serving.stamp, self._failed):
            return serving
        if stamp == self._waiting[0] and time.monotonic() < self._waiting[1]:
            return serving
        if not self._lock.acquire(blocking=False):
            return serving  # another question is loading it: answer from the current index meanwhile
        try:
            serving = self._serving
            if serving.stamp != stamp:
                serving = self._serving = self._reload(serving, stamp)  # one assignment: atomic switch
        finally:
            self._lock.release()
        return serving

    def _reload(self, serving: Serving, stamp: Stamp) -> Serving:
        """The rebuilt index, ready to answer; the current one when it cannot be loaded."""
        try:
            index = load_index(serving.index.path)
            if index.manifest["data"] == serving.index.manifest["data"] and stamp[3:] == (serving.stamp or ())[3:]:
                return Serving(serving.index, serving.retriever, stamp)  # manifest rewritten, same data and adapter
            embedder = self.embedder
            if index.manifest["model"] != serving.index.manifest["model"]:
                embedder = load_embedder(index.manifest["model"])
            fresh = Serving(index, make_retriever(index, embedder, self.settings), stamp)
        except StoreError as exc:  # `rag index --store` writes the folder, then the store: try again soon
            self._waiting = (stamp, time.monotonic() + STORE_RETRY_S)
            log.info("the rebuilt index in %s waits for its store: %s", serving.index.path, exc)
            return serving
        except (RagError, OSError, ValueError, MemoryError) as exc:
            self._failed = stamp
            log.warning("the rebuilt index in %s cannot be loaded; still answering from the previous one: %s",
                        serving.index.path, " ".join(str(exc).split())[:300])
            return serving
        self.embedder = embedder
        log.info("switched to the rebuilt index %s (%d passages)", index.manifest["data"], len(index.chunks))
        return fresh
