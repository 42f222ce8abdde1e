"""Vector search structure by corpus size: exact search for small corpora, IVF with 8-bit codes above."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Passages above which an approximate index (ANN, IVF with 8-bit codes) finds the candidates and the
# index files are memory-mapped; below, exact search is fast enough (faiss's exact search with the
# language selector: p95 9 ms at 50,000 passages on 2 cores). vectors.faiss always keeps the exact vectors.
APPROXIMATE_ABOVE = 50_000
SCAN_AT_LEAST = 100_000  # passages an approximate search scans at the least (see ann_plan)


def ann_plan(n: int) -> tuple[int, int] | None:
    """(nlist, nprobe) of the approximate index for n passages, or None when search is exact.

    About √n lists (a power of two, at least 39 training points each). Probed: three quarters of them,
    and at least 100,000 passages' worth (small indexes scan more, which costs them little). e5's
    questions lie far from every passage, so their neighbours spread over many lists: at 1M passages
    (`rag bench --scale`, synthetic vectors from e5's) probing half the lists gave recall@10 0.882,
    three quarters 0.994, all of them 1.000; 600 candidates instead of 200 changed nothing.
    """
    if n <= APPROXIMATE_ABOVE:
        return None
    nlist = max(1, min(2 ** round(math.log2(math.sqrt(n))), n // 39))
    return nlist, min(nlist, max(1, (3 * nlist) // 4, math.ceil(nlist * SCAN_AT_LEAST / n)))


def search_plan(n: int) -> dict[str, Any]:
    """The manifest's description of the search index for n passages."""
    plan = ann_plan(n)
    return {"faiss": "flat"} if plan is None else {"faiss": f"IVF{plan[0]},SQ8", "nprobe": plan[1]}


def make_faiss(vectors: np.ndarray) -> Any:
    """The index that finds candidates: exact (flat) up to APPROXIMATE_ABOVE passages, IVF-SQ8 above.

    8-bit codes scan a quarter of the bytes of float vectors; retrieve.py rescores the candidates
    with the exact vectors, so the codes only have to bring the true neighbours into the top 200.
    """
    import faiss

    dim = vectors.shape[1]
    plan = ann_plan(len(vectors))
    if plan is None:
        flat = faiss.IndexFlatIP(dim)
        flat.add(vectors)
        return flat
    nlist, nprobe = plan
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT, False)
    index.cp.niter = 10  # k-means iterations (faiss's default is 25): seconds at 1M passages; recall measured so
    sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 40 * nlist), replace=False)
    index.train(vectors[np.sort(sample)])
    index.add(vectors)
    index.nprobe = nprobe
    return index


def for_search(index: Any) -> Any:
    """The index, set to scan the lists of one question on every core (IVF; a flat index is returned as is).

    FAISS parallelises over questions by default, and we search one question at a time: over lists,
    a 1M-passage question's p95 fell from 61 to 32 ms on 2 cores (768 of 1,024 lists probed).
    """
    import faiss

    if isinstance(index, faiss.IndexIVF):
        index.parallel_mode = 1
    return index


def search_parameters(lo: int, hi: int, nprobe: int | None) -> Any:
    """FAISS search parameters restricting a search to rows [lo, hi) (one language), with nprobe if IVF."""
    import faiss

    if nprobe:
        sel = faiss.IDSelectorRange(lo, hi, True)  # True: ids are sorted in each list (added in order)
        # faiss's stubs lack the keyword arguments its Python wrapper accepts.
        return faiss.SearchParametersIVF(sel=sel, nprobe=int(nprobe))  # type: ignore[call-arg]
    return faiss.SearchParameters(sel=faiss.IDSelectorRange(lo, hi))  # type: ignore[call-arg]


def candidates(faiss_index: Any, vector: np.ndarray, lo: int, hi: int, n: int, nprobe: int | None) -> np.ndarray:
    """Rows of [lo, hi), counted from lo, of the (at most) n passages nearest to vector."""
    _, ids = faiss_index.search(vector[None, :], n, params=search_parameters(lo, hi, nprobe))
    return ids[0][ids[0] >= 0] - lo


def matrix_view(flat_index: Any) -> np.ndarray:
    """The stored vectors of a flat index (IndexFlatIP) as a numpy view (no copy)."""
    import faiss

    n, d = flat_index.ntotal, flat_index.d
    if n == 0:  # no storage to point at
        return np.zeros((0, d), dtype=np.float32)
    return faiss.rev_swig_ptr(flat_index.get_xb(), n * d).reshape(n, d)
