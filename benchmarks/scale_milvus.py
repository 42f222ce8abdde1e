"""`rag bench --scale` on the Milvus store: the same synthetic vectors and questions as benchmarks.scale's
FAISS figures, written into Milvus Lite (a local file) through the product's MilvusStore and searched as the
Retriever searches it (one filtered search per language), so the two backends sit side by side.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

RECALL_AT = 10
QUERIES = 200  # questions timed per size (the first five warm up); Milvus Lite answers over gRPC, one at a time


def scale_milvus(n: int, sample_file: str, folder: str) -> dict[str, Any]:
    """Upsert n synthetic passage vectors into Milvus Lite and measure search (run in a fresh process)."""
    import faiss

    from benchmarks.synthetic import synthetic_vectors
    from rag.index.milvus_store import MilvusStore
    from rag.index.rows import PASSAGE, make_rows
    from rag.index.vectorstore import MILVUS, Address

    sample = np.load(sample_file)
    vectors, langs, queries = sample["vectors"], sample["langs"], sample["queries"][:QUERIES + 5]
    counts = [round(n * float(np.mean(langs == lang))) for lang in ("de", "en")]
    counts[1] = n - counts[0]
    parts = [synthetic_vectors(vectors[langs == lang], c, seed=i) for i, (lang, c) in
             enumerate(zip(("de", "en"), counts, strict=True))]  # the same vectors as scale_one's
    truth = {lang: faiss.knn(queries, x, RECALL_AT, metric=faiss.METRIC_INNER_PRODUCT)[1]
             for lang, x in zip(("de", "en"), parts, strict=True)}
    store = MilvusStore(Address(MILVUS, str(Path(folder) / "rows.db")), "scale", vectors.shape[1])
    t0 = time.perf_counter()
    first = 1
    for lang, x in zip(("de", "en"), parts, strict=True):
        for a in range(0, len(x), 50_000):  # in slices: the rows' Python objects stay small
            ids = list(range(first + a, first + a + len(x[a:a + 50_000])))
            store.upsert(make_rows(ids, PASSAGE, [lang] * len(ids), ids, x[a:a + 50_000]))
        first += len(x)
    build_s = time.perf_counter() - t0
    offsets = {"de": 1, "en": 1 + counts[0]}
    ms, recall = [], []
    for i, q in enumerate(queries):
        t1 = time.perf_counter()
        found = {lang: store.search(q, RECALL_AT, PASSAGE, lang)[0] for lang in ("de", "en")}
        if i >= 5:
            ms.append((time.perf_counter() - t1) * 1000)
            recall += [len(set((f.ids - offsets[lang]).tolist()) & set(truth[lang][i].tolist())) / RECALL_AT
                       for lang, f in found.items()]
    store.close()
    size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
    return {"passages": n, "store": "milvus-lite FLAT", "build_s": round(build_s, 2),
            "query_p50_ms": round(float(np.percentile(ms, 50)), 2),
            "query_p95_ms": round(float(np.percentile(ms, 95)), 2), "recall_at_10": round(float(np.mean(recall)), 4),
            "store_mb": round(size / 2**20, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "queries": len(ms)}
