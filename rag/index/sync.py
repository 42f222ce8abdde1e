"""Sync: bring a vector store in line with the index folder, by id — only what changed is written."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.config import Settings
from rag.index.rows import Rows, index_rows
from rag.index.vectorstore import VectorStore, open_store
from rag.store import load_index


@dataclass(frozen=True)
class Synced:
    """What bringing a store up to date did: rows added, kept (same id: unchanged text) and deleted."""

    added: int
    kept: int
    deleted: int


def sync(store: VectorStore, rows: Rows) -> Synced:
    """Make the store hold exactly rows: upsert the ids it lacks, then delete the ids rows no longer have.

    An id stands for its text and place (rag.index.rows), so a kept id needs no new vector. Not atomic:
    a failure midway leaves the store with the new rows and some old ones, which the next sync finishes.
    """
    stored = store.ids()
    new = ~np.isin(rows.ids, stored)
    gone = stored[~np.isin(stored, rows.ids)]
    # New rows first: servers still answering from the previous index, and those switching to this one
    # (it has just been written), both find every row they know meanwhile (extra rows are ignored).
    if new.any():
        store.upsert(rows.select(np.flatnonzero(new)))
    if len(gone):
        store.delete(gone)
    return Synced(int(new.sum()), int(len(rows) - new.sum()), int(len(gone)))


def sync_store(settings: Settings) -> Synced:
    """Bring the vector store settings.store names in line with the index folder: only rows whose ids
    (their text) it lacks are added, rows the index no longer has are deleted."""
    index = load_index(settings.index_dir)
    store = open_store(settings.store, index, check=False)
    try:
        return sync(store, index_rows(index.chunks, index.vectors, index.sentence_vectors, index.sentence_owner,
                                      index.vocabulary, index.vocabulary_vectors))
    finally:
        store.close()

