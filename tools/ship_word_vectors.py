"""Write rag/words/<model>.vectors(.json): the query vectors of every word of the everyday-word lists.

A first build takes them instead of embedding ~9,500 words (rag.search.wordvectors). Embedding is
deterministic, so the same model and lists give the same bytes.

    python tools/ship_word_vectors.py            # the default model (multilingual-e5-small)
"""

from __future__ import annotations

import argparse
import sys

from rag.config import DEFAULT_MODEL
from rag.embedding import load_embedder
from rag.search import wordvectors
from rag.vocabulary import WORDS, everyday_words


def main(argv: list[str] | None = None) -> int:
    """Embed every listed everyday word as a query and write the shipped file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"embedding model (default {DEFAULT_MODEL})")
    args = parser.parse_args(argv)
    languages = sorted(path.stem for path in WORDS.glob("*.txt"))
    words = everyday_words(languages)
    embedder = load_embedder(args.model)
    from tqdm import tqdm

    with tqdm(total=len(words), unit="word", file=sys.stderr) as bar:
        vectors = embedder.embed(words, kind="query", progress=bar.update)
    wordvectors.write(args.model, words, vectors)
    header, body = wordvectors.paths(args.model)
    print(f"wrote {body} ({body.stat().st_size / 1e6:.1f} MB) and {header.name}: {len(words)} words")
    return 0


if __name__ == "__main__":
    sys.exit(main())
