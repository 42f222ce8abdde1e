"""The default vector store: the index folder's vectors in this process, exact inner products in numpy, and
for a large index the FAISS approximate index (rag.ann) to find its passages' candidates.

Rows are kept in one matrix per (kind, language), a view of the loaded index's matrices where it can be
(no copy); a search scans only the group it asks for, and an owner filter finds a passage's sentences
by binary search. upsert and delete rebuild the touched groups (and drop the approximate index, whose row
numbers they would invalidate): the index folder itself is rewritten by `rag index`, not through here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rag import ann
from rag.index.rows import PASSAGE, SENTENCE, WORD, Rows, join, make_rows, sentence_ids_of, word_id
from rag.index.vectorstore import Found


class _Group:
    """The rows of one kind and language: ids, owners and vectors, and lookups by id and by owner."""

    def __init__(self, rows: Rows, approximate: Any = None, offset: int = 0, nprobe: int | None = None) -> None:
        self.rows = rows
        self.approximate, self.offset, self.nprobe = approximate, offset, nprobe  # a passage group of a large index
        self._by_owner: np.ndarray | None = None  # positions sorted by owner (stable)
        self._sorted_owners = np.zeros(0, dtype=np.int64)
        self._position: dict[int, int] | None = None

    def position(self) -> dict[int, int]:
        """Id → position."""
        if self._position is None:
            self._position = {int(i): p for p, i in enumerate(self.rows.ids)}
        return self._position

    def among(self, owners: np.ndarray) -> np.ndarray:
        """Positions of the rows these owners own."""
        if self._by_owner is None:
            self._by_owner = np.argsort(self.rows.owners, kind="stable")
            self._sorted_owners = self.rows.owners[self._by_owner]
        wanted = np.unique(np.asarray(owners, dtype=np.int64))  # an owner named twice is one filter, as in Milvus
        left = np.searchsorted(self._sorted_owners, wanted, "left")
        sizes = np.searchsorted(self._sorted_owners, wanted, "right") - left
        # The positions left[i] .. left[i] + sizes[i] - 1 of every owner, in one vector.
        steps = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        return self._by_owner[np.repeat(left, sizes) + steps]


class FaissStore:
    """Rows in memory, grouped by kind and language (see the module's docstring)."""

    max_k = 2**62

    def __init__(self, rows: Rows | None = None) -> None:
        self._groups: dict[tuple[str, str], _Group] = {}
        self._label = ""
        if rows is not None and len(rows):
            self._regroup(rows)

    @classmethod
    def of_index(cls, index: Any) -> FaissStore:
        """The store of a loaded index (rag.store.Index): its passages, their sentences and its words, each
        language's rows a view of the index's matrices (sentences and chunks are stored by language)."""
        store = cls()
        pids = index.passage_ids
        owner = np.asarray(index.sentence_owner, dtype=np.int64)
        sids = sentence_ids_of(pids, owner)
        nprobe = index.manifest.get("nprobe")
        for lang, (lo, hi) in index.ranges.items():
            a, b = (int(x) for x in np.searchsorted(owner, [lo, hi]))
            store._groups[(PASSAGE, lang)] = _Group(
                make_rows(pids[lo:hi], PASSAGE, [lang] * (hi - lo), pids[lo:hi], index.vectors[lo:hi]),
                index.faiss_index if nprobe else None, lo, nprobe)  # a large index's IVF finds the candidates
            store._groups[(SENTENCE, lang)] = _Group(
                make_rows(sids[a:b], SENTENCE, [lang] * (b - a), pids[owner[a:b]], index.sentence_vectors[a:b]))
        for lang, words in index.vocabulary.items():
            wids = [word_id(lang, w) for w in words]
            store._groups[(WORD, lang)] = _Group(make_rows(wids, WORD, [lang] * len(wids), wids,
                                                           index.vocabulary_vectors[lang]))
        return store

    def _regroup(self, rows: Rows) -> None:
        for kind, lang in sorted(set(zip(rows.kinds, rows.langs, strict=True))):
            mask = (rows.kinds == kind) & (rows.langs == lang)
            self._groups[(kind, lang)] = _Group(rows.select(np.flatnonzero(mask)))

    def upsert(self, rows: Rows) -> None:
        self.delete(rows.ids)
        keys = set(zip(rows.kinds, rows.langs, strict=True))
        merged = join([self._groups.pop(k).rows for k in list(self._groups) if k in keys] + [rows])
        self._regroup(merged)

    def delete(self, ids: np.ndarray) -> None:
        gone = np.asarray(ids, dtype=np.int64)
        for key, group in list(self._groups.items()):
            keep = ~np.isin(group.rows.ids, gone)
            if not keep.all():
                rest = group.rows.select(np.flatnonzero(keep))
                if len(rest):
                    self._groups[key] = _Group(rest)
                else:
                    del self._groups[key]

    def search(self, vectors: np.ndarray, k: int, kind: str, lang: str | None = None,
               owners: np.ndarray | None = None) -> list[Found]:
        groups = [g for (kd, lg), g in sorted(self._groups.items()) if kd == kind and lang in (None, lg)]
        queries = np.atleast_2d(vectors)
        parts = [[_search_group(g, q, k, owners) for g in groups] for q in queries]
        return [_best(found, k) for found in parts]

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        out = []
        for i in map(int, ids):
            for group in self._groups.values():
                p = group.position().get(i)
                if p is not None:
                    out.append(group.rows.vectors[p])
                    break
            else:
                raise KeyError(i)
        dim = next(iter(self._groups.values())).rows.vectors.shape[1] if self._groups else 0
        return np.stack(out) if out else np.zeros((0, dim), dtype=np.float32)

    def ids(self) -> np.ndarray:
        return np.concatenate([g.rows.ids for g in self._groups.values()]) if self._groups else np.zeros(0, np.int64)

    def held(self, ids: np.ndarray) -> int:
        asked = np.asarray(ids, dtype=np.int64)
        return int(sum(np.isin(asked, g.rows.ids).sum() for g in self._groups.values()))

    def label(self) -> str:
        return self._label

    def set_label(self, label: str) -> None:
        self._label = label

    def count(self, kind: str | None = None, lang: str | None = None) -> int:
        return sum(len(g.rows) for (kd, lg), g in self._groups.items() if kind in (None, kd) and lang in (None, lg))

    def close(self) -> None:
        self._groups.clear()


def _search_group(group: _Group, vector: np.ndarray, k: int, owners: np.ndarray | None) -> Found:
    """The k best rows of one group for one vector."""
    rows = group.rows
    if owners is not None:
        positions = group.among(owners)
    elif group.approximate is not None and k < len(rows):
        positions = ann.candidates(group.approximate, vector, group.offset, group.offset + len(rows), k,
                                   group.nprobe)
    else:
        positions = None
    matrix = rows.vectors if positions is None else rows.vectors[positions]
    scores = matrix @ vector
    if positions is None:
        positions = np.arange(len(rows))
    if k < len(scores):
        keep = np.argpartition(-scores, k)[:k]
        positions, scores = positions[keep], scores[keep]
    return Found(rows.ids[positions], scores.astype(np.float32, copy=False), rows.owners[positions])


def _best(found: list[Found], k: int) -> Found:
    """The k best of several groups' results."""
    if len(found) == 1:
        return found[0]
    ids, scores, owners = (np.concatenate([getattr(f, a) for f in found]) if found else np.zeros(0)
                           for a in ("ids", "scores", "owners"))
    if k < len(scores):
        keep = np.argpartition(-scores, k)[:k]
        ids, scores, owners = ids[keep], scores[keep], owners[keep]
    return Found(ids.astype(np.int64), scores.astype(np.float32), owners.astype(np.int64))
