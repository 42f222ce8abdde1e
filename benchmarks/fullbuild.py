"""`rag bench --scale`'s full-build figure: the whole product build of a large corpus, its peak memory measured."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rag.config import Settings

PER_FILE = 5


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def full_build(n: int, dim: int, folder: str) -> dict[str, Any]:
    """Build the index of about n synthetic passages, every stage of the product's build (run in a fresh process).

    The embedder is a stand-in of the model's dimension (the hashing embedder): embedding n passages and
    their sentences with the real model would take hours on 2 cores, and what is stored, and so held in
    memory, depends only on the number of vectors and their dimension. The real model's own memory is
    measured apart (the sample build) and added by the caller.

    Args:
        n: passages to aim for (files of PER_FILE paragraphs each).
        dim: vector dimension of the real model.
        folder: an empty folder for the corpus and the index.

    Returns:
        Passages built, build seconds, peak RSS of the process, and the index's size on disk.
    """
    from benchmarks.synthetic import write_corpus
    from rag.embedding import HashingEmbedder
    from rag.index import build_index

    root = Path(folder)
    write_corpus(root / "corpus", max(1, n // PER_FILE), PER_FILE, seed=3)
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", model="hashing")
    before = _peak_rss_mb()
    t0 = time.perf_counter()
    report = build_index(settings, embedder=HashingEmbedder(dim))
    seconds = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in (root / "index").rglob("*") if p.is_file())
    return {"passages": report.passages, "dim": dim, "build_s": round(seconds, 1),
            "peak_rss_mb": _peak_rss_mb(), "rss_before_build_mb": before, "index_mb": round(size / 2**20, 1)}
