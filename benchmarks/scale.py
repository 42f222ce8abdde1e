"""`rag bench --scale` and the many-files update figure: how the index behaves at 10k to 1M passages.

Embedding a million passages on 2 cores would take hours, so the real model embeds a sample of
2,000 synthetic passages (through the whole product build, which gives the build throughput), and
each size is filled with synthetic vectors made from the sample's (benchmarks.synthetic). The search is the
product's: rag/index/build.py writes and memory-maps the files and chooses the FAISS index
(make_faiss), and rag.ann.candidates finds each language's candidates, which are then
rescored with the exact vectors, as retrieve.py does. Queries are the eval questions, embedded.
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
SAMPLE_FILES, PER_FILE = 400, 5  # the 2,000-passage sample
RECALL_AT = 10
# Milvus Lite held 2.3 GB at its peak for 100,000 passages and grows with them: a million would need about
# 23 GB, this 24 GB machine's whole memory. Larger sizes are reported as not run, with that reason.
MILVUS_UP_TO = 100_000


def _milvus_size(context: Any, n: int, tmp: Path) -> dict[str, Any]:
    """The Milvus Lite figures of one size, in a fresh process (or why they were not measured)."""
    import importlib.util

    if importlib.util.find_spec("pymilvus") is None:
        return {"passages": n, "skipped": "pymilvus is not installed: `python -m pip install pymilvus milvus-lite`"}
    if n > MILVUS_UP_TO:
        return {"passages": n, "skipped": f"not run above {MILVUS_UP_TO:,} passages (memory, see MILVUS_UP_TO)"}
    from benchmarks.scale_milvus import scale_milvus

    (tmp / f"milvus-{n}").mkdir()
    with context.Pool(1) as pool:
        return dict(pool.apply(scale_milvus, (n, str(tmp / "sample.npz"), str(tmp / f"milvus-{n}"))))


def files_incremental(settings: Settings, folder: Path, files: int, progress: bool = False) -> dict[str, Any]:
    """Full build of `files` synthetic files, then the rebuild after one of them changed."""
    from benchmarks.synthetic import extend_file, write_corpus
    from rag.embedding import load_embedder
    from rag.index import build_index

    paths = write_corpus(folder / "corpus", files, PER_FILE)
    target = settings.with_(corpus_dir=folder / "corpus", index_dir=folder / "index")
    embedder = load_embedder(settings.model)
    full = build_index(target, embedder=embedder, progress=progress)
    extend_file(paths[len(paths) // 2])
    update = build_index(target, embedder=embedder)
    return {"files": files, "passages": full.passages, "full_build_s": round(full.seconds, 3),
            "incremental_build_s": round(update.seconds, 3), "embedded_on_rebuild": update.embedded,
            "ratio": round(update.seconds / full.seconds, 4)}


def embed_sample(settings: Settings, folder: Path, progress: bool = False) -> dict[str, Any]:
    """Build a real index of the 2,000-passage sample; its vectors, throughput and bytes per passage."""
    from benchmarks.synthetic import write_corpus
    from rag.embedding import load_embedder
    from rag.evaluation import LANGS, load_set
    from rag.index import build_index, load_index

    write_corpus(folder / "corpus", SAMPLE_FILES, PER_FILE, seed=1)
    # Without the everyday words: they are a fixed cost (≈ 45 s, 15 MB), not a cost per passage to project.
    target = settings.with_(corpus_dir=folder / "corpus", index_dir=folder / "index", everyday_words=0)
    embedder = load_embedder(settings.model)
    report = build_index(target, embedder=embedder, progress=progress)
    index = load_index(target.index_dir)
    data = target.index_dir / index.manifest["data"]
    questions = [item.questions[lang] for item in load_set() for lang in LANGS]
    return {"vectors": np.array(index.vectors), "langs": np.array([c.lang for c in index.chunks]),
            "queries": embedder.embed(questions), "passages": report.passages, "build_s": report.seconds,
            "bytes_per_passage": {p.name: p.stat().st_size / report.passages for p in data.iterdir()}}


def scale_one(n: int, sample_file: str, folder: str) -> dict[str, Any]:
    """Index n synthetic vectors with the product's code and measure it (run in a fresh process)."""
    import faiss

    from benchmarks.synthetic import synthetic_vectors
    from rag.ann import APPROXIMATE_ABOVE, ann_plan, candidates, for_search, make_faiss, matrix_view
    from rag.search.fusion import CANDIDATES
    from rag.store import ANN, VECTORS

    sample = np.load(sample_file)
    vectors, langs, queries = sample["vectors"], sample["langs"], sample["queries"]
    counts = [round(n * float(np.mean(langs == lang))) for lang in ("de", "en")]
    counts[1] = n - counts[0]
    x = np.vstack([synthetic_vectors(vectors[langs == lang], c, seed=i) for i, (lang, c) in
                   enumerate(zip(("de", "en"), counts, strict=True))])  # stored sorted by language
    ranges = [(0, counts[0]), (counts[0], n)]
    truth = [faiss.knn(queries, x[lo:hi], RECALL_AT, metric=faiss.METRIC_INNER_PRODUCT)[1] + lo for lo, hi in ranges]
    path = Path(folder)
    t0 = time.perf_counter()
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    faiss.write_index(flat, str(path / VECTORS))
    del flat
    plan = ann_plan(n)
    if plan is not None:
        faiss.write_index(make_faiss(x), str(path / ANN))
    build_s = time.perf_counter() - t0
    del x
    mmap = faiss.IO_FLAG_MMAP_IFC if n > APPROXIMATE_ABOVE else 0  # as rag.store.load_index reads
    exact = faiss.read_index(str(path / VECTORS), mmap)
    ann = for_search(faiss.read_index(str(path / ANN), mmap)) if plan else None  # as rag.store loads it
    nprobe = plan[1] if plan else None
    stored = matrix_view(exact)
    ms, recall = [], []
    for i, q in enumerate(np.vstack([queries[:5], queries])):  # the first five warm up
        t1 = time.perf_counter()
        found = []
        for lo, hi in ranges:
            rows = candidates(ann or exact, q, lo, hi, CANDIDATES, nprobe)  # as the Retriever finds them
            dense = stored[lo + rows] @ q  # exact rescoring, as the Retriever does
            found.append(lo + rows[np.argsort(-dense)[:RECALL_AT]])
        if i >= 5:
            ms.append((time.perf_counter() - t1) * 1000)
            recall += [len(set(f) & set(t[i - 5])) / RECALL_AT for f, t in zip(found, truth, strict=True)]
    return {"passages": n, "faiss": "flat" if plan is None else f"IVF{plan[0]},SQ8 nprobe {plan[1]}",
            "faiss_build_s": round(build_s, 2), "query_p50_ms": round(float(np.percentile(ms, 50)), 2),
            "query_p95_ms": round(float(np.percentile(ms, 95)), 2), "recall_at_10": round(float(np.mean(recall)), 4),
            "vector_files_mb": round(sum(p.stat().st_size for p in path.glob("*.faiss")) / 2**20, 1),
            "build_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "serving_rss_mb": _status_mb("VmRSS"), "serving_private_mb": _status_mb("RssAnon"), "queries": len(ms)}


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS: all resident pages, including the
    memory-mapped index files' pages, which the kernel can drop; RssAnon: private memory only)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def nn_similarity(vectors: np.ndarray) -> float:
    """Mean cosine of each vector's nearest other vector (how tightly a set is packed)."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    return round(float(sims.max(axis=1).mean()), 3)


NOTE = ("vectors are synthetic beyond the 2,000-passage sample embedded with the real model (mixtures of the "
        "sample's vectors plus noise with their covariance); build time and index size beyond the vector files "
        "are projected from the sample's measured per-passage figures")


def run_scale(settings: Settings, sizes: tuple[int, ...] = DEFAULT_SIZES, progress: bool = True,
              full_build: int = 0, milvus: bool = True) -> dict[str, Any]:
    """Figures for each corpus size; every size is indexed and measured in its own process.

    milvus: also measure the Milvus store (Milvus Lite) on the same vectors, up to MILVUS_UP_TO passages.

    full_build: also build a synthetic corpus of about this many passages through the whole product
    build (benchmarks.fullbuild), measuring its peak memory; 0 skips it.
    """
    from tqdm import tqdm

    from benchmarks.machine import machine
    from benchmarks.synthetic import synthetic_vectors

    rows: list[dict[str, Any]] = []
    milvus_rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="rag-scale-") as folder:
        tmp = Path(folder)
        sample = embed_sample(settings, tmp / "sample", progress)
        np.savez(tmp / "sample.npz", vectors=sample["vectors"], langs=sample["langs"], queries=sample["queries"])
        rate = sample["passages"] / sample["build_s"]
        per_passage = sum(b for name, b in sample["bytes_per_passage"].items()
                          if name in ("passages.jsonl", "sentences.faiss"))
        check = {}
        for lang in ("de", "en"):
            real = sample["vectors"][sample["langs"] == lang]
            fake = synthetic_vectors(real[: len(real) // 2], len(real), seed=7)
            check[lang] = {"real": nn_similarity(real), "synthetic": nn_similarity(fake)}
        context = multiprocessing.get_context("spawn")  # a fresh process per size: its own peak memory
        for n in tqdm(sizes, desc="scale", unit="size", disable=not progress):
            (tmp / str(n)).mkdir()
            with context.Pool(1) as pool:
                row = pool.apply(scale_one, (n, str(tmp / "sample.npz"), str(tmp / str(n))))
            projected = n / rate + row["faiss_build_s"]
            row.update(projected_build_s=round(projected, 1), build_passages_per_s=round(n / projected, 1),
                       projected_index_mb=round(row["vector_files_mb"] + n * per_passage / 2**20, 1))
            rows.append(row)
            if milvus:
                milvus_rows.append(_milvus_size(context, n, tmp))
        built = None
        if full_build:
            from benchmarks.fullbuild import full_build as build_all

            (tmp / "full").mkdir()
            with context.Pool(1) as pool:
                built = pool.apply(build_all, (full_build, sample["vectors"].shape[1], str(tmp / "full")))
    return {"machine": machine(), "model": settings.model, "note": NOTE, "full_build": built,
            "sample": {"passages": sample["passages"], "build_s": round(sample["build_s"], 2),
                       "build_passages_per_s": round(rate, 1), "queries": len(sample["queries"]),
                       "nearest_neighbour_cosine": check},
            "sizes": rows, "milvus": milvus_rows}


def format_scale(result: dict[str, Any]) -> str:
    """The scale figures as a plain-text table."""
    m, s = result["machine"], result["sample"]
    cosines = ", ".join(f"{lang} {v['real']} vs {v['synthetic']}" for lang, v in s["nearest_neighbour_cosine"].items())
    lines = [f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; model {result['model']}",
             f"sample: {s['passages']} passages built in {s['build_s']} s ({s['build_passages_per_s']} passages/s, "
             f"whole product build); nearest-neighbour cosine real vs synthetic: {cosines}",
             f"note: {result['note']}",
             f"{'passages':>10} {'search index':>24} {'FAISS build s':>13} {'build s*':>9} {'passages/s*':>11} "
             f"{'vectors MB':>10} {'index MB*':>9} {'build RSS MB':>12} {'serve RSS (private) MB':>22} {'p95 ms':>7} "
             f"{'recall@10':>9}"]
    for r in result["sizes"]:
        serve = f"{r['serving_rss_mb']} ({r['serving_private_mb']})"
        lines.append(f"{r['passages']:>10} {r['faiss']:>24} {r['faiss_build_s']:>13} {r['projected_build_s']:>9} "
                     f"{r['build_passages_per_s']:>11} {r['vector_files_mb']:>10} {r['projected_index_mb']:>9} "
                     f"{r['build_peak_rss_mb']:>12} {serve:>22} {r['query_p95_ms']:>7} "
                     f"{r['recall_at_10']:>9}")
    if result.get("full_build"):
        b = result["full_build"]
        lines.append(f"full build, measured: {b['passages']} passages ({b['dim']} dimensions, stand-in embedder): "
                     f"peak RSS {b['peak_rss_mb']} MB, {b['build_s']} s without the model's time, "
                     f"index {b['index_mb']} MB on disk")
    for r in result.get("milvus", []):
        lines.append(f"{r['passages']:>10} milvus: {r['skipped']}" if "skipped" in r else
                     f"{r['passages']:>10} {r['store']:>24} {r['build_s']:>13} (upsert) {'':>21} {r['store_mb']:>10} "
                     f"{'':>9} {r['peak_rss_mb']:>12} {'':>22} {r['query_p95_ms']:>7} {r['recall_at_10']:>9}")
    lines.append("* projected (see note); p95: one question, both languages, 200 candidates each + exact rescoring; "
                 "serve RSS counts the memory-mapped files' pages (page cache), private does not")
    return "\n".join(lines)
