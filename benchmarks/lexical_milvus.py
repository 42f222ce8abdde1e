"""Milvus' built-in BM25 full-text search against ours, as the lexical scorer alone.

    python -m benchmarks.lexical_milvus [--split test]

Puts the index's passages into a Milvus Lite collection with a BM25 function over a text field (per
language: a standard tokenizer, lowercase and the language's Snowball stemmer), then ranks each
language's passages for every eval question by that BM25 and by ours (rag/lexical.py: stems, stop
words, names in one spelling), and prints hit@3 of each for the same-language directions (a text field
cannot take our cross-language bridged terms, so en→de and de→en are ours alone).
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from rag.assistant import Assistant
from rag.corpus import collapse
from rag.evaluation import LANGS, load_set

# Milvus' "english" analyzer is the standard tokenizer, lowercase, the English stemmer and stop words;
# Milvus Lite knows only the standard and jieba tokenizers, so both are spelled out.
ANALYZERS = {lang: {"tokenizer": "standard", "filter": ["lowercase", {"type": "stemmer", "language": name}]}
             for lang, name in (("en", "english"), ("de", "german"))}


def _collection(client: Any, name: str, lang: str, texts: list[str]) -> None:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=8000, enable_analyzer=True, analyzer_params=ANALYZERS[lang])
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                 output_field_names=["sparse"]))
    params = client.prepare_index_params()
    params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection(name, schema=schema, index_params=params)
    client.insert(name, [{"id": i, "text": t} for i, t in enumerate(texts)])
    client.flush(name)


def compare(split: str = "test") -> dict[str, Any]:
    """hit@3 of lexical scoring alone, ours against Milvus', per same-language direction."""
    from pymilvus import MilvusClient

    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    assistant = Assistant.load()
    retriever, index = assistant.retriever, assistant.index
    items = [i for i in load_set() if i.split == split]
    out: dict[str, Any] = {"split": split}
    with tempfile.TemporaryDirectory() as tmp:
        client = MilvusClient(str(Path(tmp) / "bm25.db"))
        for lang in LANGS:
            lo, hi = index.ranges[lang]
            chunks = index.chunks[lo:hi]
            _collection(client, f"bm25_{lang}", lang, [index.names.normalize(c.embedding_text()) for c in chunks])
            hits = {"ours": 0, "milvus": 0, "n": 0}
            for item in items:
                gold, question = item.gold[lang], item.questions[lang]
                if not gold:
                    continue
                query = retriever.query(question, lang, [lang])
                ours = np.argsort(-retriever.fusion.lexical.every(query, lang), kind="stable")[:3]
                found = client.search(f"bm25_{lang}", data=[index.names.normalize(question)], anns_field="sparse",
                                      limit=3, search_params={"metric_type": "BM25"})[0]
                theirs = [int(h["id"]) for h in found]
                needles = [collapse(g).casefold() for g in gold]  # rag eval's rule: a passage holds a gold string
                hits["ours"] += any(n in chunks[r].text.casefold() for r in ours for n in needles)
                hits["milvus"] += any(n in chunks[r].text.casefold() for r in theirs for n in needles)
                hits["n"] += 1
            out[f"{lang}->{lang}"] = {k: (round(v / hits["n"], 3) if k != "n" else v) for k, v in hits.items()}
        client.close()
    return out


if __name__ == "__main__":
    print(json.dumps(compare(sys.argv[sys.argv.index("--split") + 1] if "--split" in sys.argv else "test"), indent=1))
