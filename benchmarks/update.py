"""How long an index takes to follow a one-file edit, in the folder and in a store.

    python -m benchmarks.update 100000 [--store milvus:///tmp/update-rows.db]
    python -m benchmarks.update 100000 --interleave    # one-file rebuilds, kept documents against none

Writes a synthetic corpus of about N passages (files of 5 paragraphs), builds it with a stand-in
embedder of e5's dimension (the hashing embedder: what is timed is the build's own work, not the
model's), fills the store if one is named, then appends a paragraph to one file and times the rebuild
and the store's sync. Prints JSON. --interleave times four one-file rebuilds of the folder in turn: with
the parsed documents the index keeps, and as if it kept none (every file read again).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from unittest.mock import patch

import rag.index.build
from benchmarks.synthetic import extend_file, write_corpus
from rag.config import Settings
from rag.embedding import HashingEmbedder
from rag.index import build_index
from rag.index.sync import sync_store

PER_FILE = 5
DIM = 384  # e5-small's


def measure(n: int, store: str = "") -> dict[str, Any]:
    """Seconds of a full build and of the rebuild after one file changed, each as `rag index [--store]` runs
    it: the folder first, then the store's sync (timed apart)."""
    out: dict[str, Any] = {"passages_asked": n, "store": store or "faiss"}
    synced: list[float] = []

    def timed_sync(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return sync_store(*args, **kwargs)
        finally:
            synced.append(time.perf_counter() - t0)

    with tempfile.TemporaryDirectory(prefix="rag-update-") as tmp, \
            patch.object(rag.index.build, "sync_store", timed_sync):
        root = Path(tmp)
        paths = write_corpus(root / "corpus", max(1, n // PER_FILE), PER_FILE, seed=3)
        settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", model="hashing",
                            store=store or "faiss")
        embedder = HashingEmbedder(DIM)
        for step in ("full", "one_file"):
            if step == "one_file":
                extend_file(paths[len(paths) // 2])
            synced.clear()
            t0 = time.perf_counter()
            report = build_index(settings, embedder=embedder)
            total = time.perf_counter() - t0
            out[f"{step}_build_s"] = round(total - sum(synced), 1)
            out[f"{step}_embedded"] = report.embedded
            if report.store is not None:
                out[f"{step}_sync_s"] = round(sum(synced), 1)
                out[f"{step}_synced"] = vars(report.store)
        out["passages"] = report.passages
    return out


def interleave(n: int) -> dict[str, Any]:
    """Seconds of one-file rebuilds, taking turns: the index's kept documents used, then ignored."""
    out: dict[str, Any] = {"passages_asked": n, "kept_s": [], "reread_s": []}
    with tempfile.TemporaryDirectory(prefix="rag-update-") as tmp:
        root = Path(tmp)
        paths = write_corpus(root / "corpus", max(1, n // PER_FILE), PER_FILE, seed=3)
        settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", model="hashing")
        embedder = HashingEmbedder(DIM)
        t0 = time.perf_counter()
        out["passages"] = build_index(settings, embedder=embedder).passages
        out["full_build_s"] = round(time.perf_counter() - t0, 1)
        for turn, mode in enumerate(["kept", "reread"] * 2):
            extend_file(paths[(len(paths) // 2 + turn) % len(paths)])
            with patch.object(rag.index.build, "load_parsed", lambda _: {}) if mode == "reread" else nullcontext():
                t0 = time.perf_counter()
                build_index(settings, embedder=embedder)
                out[f"{mode}_s"].append(round(time.perf_counter() - t0, 1))
    return out


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 100_000
    address = sys.argv[sys.argv.index("--store") + 1] if "--store" in sys.argv else ""
    print(json.dumps(interleave(size) if "--interleave" in sys.argv else measure(size, address), indent=1))
