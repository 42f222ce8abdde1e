"""Write rag/adapters/<model>.json: the query adapter trained on the eval set's tune split for the project's corpus.

A new index of exactly these corpus files gets it (rag.search.adapter.install_shipped), so the default
index answers with it from its first build without training at start-up. Training is deterministic: the
same corpus, model and questions give the same bytes.

    python tools/ship_adapter.py            # builds a fresh index in a temporary folder, trains, writes
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from rag.assistant import Assistant
from rag.config import DEFAULT_MODEL, Settings
from rag.evaluation import DEFAULT_SET, load_set
from rag.index import build_index
from rag.search.adapter import ADAPTER, SHIPPED, load_adapter
from rag.search.teach import pairs_from, teach


def main(argv: list[str] | None = None) -> int:
    """Train on the tune split of a fresh index of the project's corpus and write the shipped file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"embedding model (default {DEFAULT_MODEL})")
    args = parser.parse_args(argv)
    items = load_set(DEFAULT_SET)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(index_dir=Path(tmp) / "index", model=args.model, adapter=0)
        build_index(settings, progress=True)
        (settings.index_dir / ADAPTER).unlink(missing_ok=True)  # the shipped one, if any: train afresh
        assistant = Assistant.load(settings=settings, check_stale=False)
        retriever = assistant.retriever
        lesson = teach(retriever, pairs_from([i for i in items if i.split == "tune"], retriever),
                       pairs_from([i for i in items if i.split == "test"], retriever), settings.index_dir,
                       info={"votes": 0, "sources": ["tune"]})
        if not lesson.installed:
            print(f"not written: {lesson.reason}", file=sys.stderr)
            return 1
        load_adapter(settings.index_dir, args.model, assistant.index.vectors.shape[1])  # readable, as shipped
        SHIPPED.mkdir(exist_ok=True)
        shutil.copyfile(settings.index_dir / ADAPTER, SHIPPED / f"{args.model}.json")
    print(f"wrote {SHIPPED / (args.model + '.json')}: {lesson.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
