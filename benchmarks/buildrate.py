"""Where a real build's time goes: N synthetic passages built with the real model, phase by phase.

    python -m benchmarks.buildrate 1000      # passages to aim for (files of 5 paragraphs)
    python -m benchmarks.buildrate 10000 --build-only

Prints the whole build's seconds and passages per second beside embedding the same passages alone, the
sentences alone and the words alone (same engine, same batch size), so the gap between a build and the
floor of embedding its passages once is plain. Nothing here is prebuilt: the texts are new.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.synthetic import write_corpus
from rag import vectorcache
from rag.config import Settings
from rag.embedding import load_embedder
from rag.index import build_index
from rag.store import load_index

PER_FILE = 5


def measure(n: int, model: str = "e5-small", alone: bool = True) -> dict[str, Any]:
    """Build about n synthetic passages with model; then (alone) time embedding each kind of text by itself."""
    embedder = load_embedder(model)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_corpus(root / "corpus", max(1, n // PER_FILE), PER_FILE, seed=7)
        settings = Settings.from_env(corpus_dir=root / "corpus", index_dir=root / "index", model=model)
        t0 = time.perf_counter()
        report = build_index(settings, embedder=embedder, progress=True)
        build = time.perf_counter() - t0
        if not alone:
            return {"passages": report.passages, "embedded": report.embedded, "build_s": round(build, 1),
                    "passages_per_s": round(report.passages / build, 1)}
        index = load_index(settings.index_dir)
        passages = vectorcache.embedding_texts(index.chunks, index.names)
        sentences = vectorcache.sentence_texts(index.chunks, index.names)
        words = [w for lang in sorted(index.vocabulary) for w in index.vocabulary[lang]]
        timed = {}
        for name, texts, kind in (("passages", passages, "passage"), ("sentences", sentences, "passage"),
                                  ("words", words, "query")):
            t0 = time.perf_counter()
            embedder.embed(texts, kind=kind)  # type: ignore[arg-type]
            timed[name] = {"texts": len(texts), "seconds": round(time.perf_counter() - t0, 1)}
    return {"passages": report.passages, "embedded": report.embedded, "build_s": round(build, 1),
            "passages_per_s": round(report.passages / build, 1), "alone": timed,
            "passages_alone_per_s": round(len(passages) / timed["passages"]["seconds"], 1)}


if __name__ == "__main__":
    sizes = [a for a in sys.argv[1:] if a.isdigit()]
    print(json.dumps(measure(int(sizes[0]) if sizes else 1000, alone="--build-only" not in sys.argv), indent=1))
