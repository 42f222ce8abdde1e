"""Arguments: the `rag` command line's words (sub-commands, options, help); rag.cli runs them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from rag.terminal import printable

EXIT_USAGE = 2

EPILOG = """examples:
  rag index                                   build or update the index of the project's corpus/ folder
  rag ask "Wer führte Regie?"                 answer with English and German citations
  rag ask "Who plays Seon-woo?" --k 2 --json  JSON output (Answer.to_dict())
  rag eval --split test                       retrieval quality on the eval set
  rag bench --json                            speed, memory and quality, ours next to a LangChain baseline
  rag bench --scale                           index size, memory, p95 and recall at 10k, 100k and 1M passages

default folders: the corpus/ and index/ folders of the project (next to the rag package, whatever the
current folder); settings can also come from RAG_CORPUS_DIR, RAG_INDEX_DIR, RAG_MODEL, RAG_K (see README)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + message
        message = " ".join(message.split())  # argparse echoes user input, newlines included
        print(f"rag: error: {printable(message)} (see `rag --help`)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rag", description="Bilingual (English/German) answers with citations about "
                     "the K-drama “Soundtrack #1”.", epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    from rag.config import PROJECT_DIR  # the defaults are the project's folders, not the current folder's

    corpus = f"default: RAG_CORPUS_DIR, else {PROJECT_DIR / 'corpus'}"
    index = f"default: RAG_INDEX_DIR, else {PROJECT_DIR / 'index'}"
    p = sub.add_parser("index", help="build or update the index (only new or changed files are embedded)")
    p.add_argument("--corpus", type=Path, help=f"folder of documents: .txt, .md, .pdf, .docx, .html ({corpus})")
    p.add_argument("--index", type=Path, help=f"index folder ({index})")
    p.add_argument("--model", help="embedding model: use-multilingual, minilm, hashing, a+b, "
                   "or a sentence-transformers name/path")
    p.add_argument("--force", action="store_true", help="re-embed everything")
    p.add_argument("--strict", action="store_true",
                   help="fail on unusable corpus files (and files no reader takes) instead of skipping them")
    p.add_argument("--json", action="store_true", help="print what the build did as JSON (skipped files included)")
    p.add_argument("--store", help="where vectors are searched: faiss (the index folder's, default), "
                   "milvus:///path/rows.db (Milvus Lite) or http://host:19530 (a Milvus server); default: RAG_STORE")

    p = sub.add_parser("add", help="copy documents into the corpus (checked, under safe names) and update the index")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="documents to add: .txt, .md, .pdf, .docx, .html (at most 20, each at most 50 MiB)")
    p.add_argument("--corpus", type=Path, help=f"the corpus folder to copy them into ({corpus})")
    p.add_argument("--index", type=Path, help=f"index folder ({index})")

    p = sub.add_parser("ask", help="answer a question with cited passages")
    p.add_argument("question", help="the question, in English or German")
    p.add_argument("--index", type=Path, help=f"index folder ({index})")
    p.add_argument("--corpus", type=Path, help=f"corpus the index is checked against ({corpus}); an index "
                   "other than the default one is checked only against a corpus given here or in RAG_CORPUS_DIR")
    p.add_argument("--k", type=int, help="passages per language (1-50; default: RAG_K, else 3)")
    p.add_argument("--store", help="where vectors are searched: faiss (the index folder's, default), "
                   "milvus:///path/rows.db (Milvus Lite) or http://host:19530 (a Milvus server); default: RAG_STORE")
    p.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON")

    p = sub.add_parser("eval", help="measure hit@1, hit@3, MRR and abstention on the eval set")
    p.add_argument("--index", type=Path, help=f"index folder ({index}); another one is checked against a corpus "
                   "only if RAG_CORPUS_DIR names it")
    p.add_argument("--set", type=Path, help="eval set, JSON lines (default: eval/qa.jsonl)")
    p.add_argument("--turns", type=Path, help="two-turn conversations, JSON lines with history "
                   "(default: eval/conversations.jsonl, unless --set is given)")
    p.add_argument("--split", help="only this split (tune or test)")
    p.add_argument("--no-adapter", action="store_true", help="ignore the index's learned query adapter (rag learn)")
    p.add_argument("--store", help="where vectors are searched: faiss (the index folder's, default), "
                   "milvus:///path/rows.db (Milvus Lite) or http://host:19530 (a Milvus server); default: RAG_STORE")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("learn", help="train the query adapter from labelled questions (default: the eval tune split)")
    p.add_argument("--index", type=Path, help=f"index folder ({index})")
    p.add_argument("--from", dest="sources", nargs="+", default=["tune"], metavar="tune|votes|FILE",
                   help="what to learn from, one or more: the eval set's tune split (default), the readers' votes "
                        "of the page (votes.jsonl in the index folder), or a JSON-lines file of labelled questions "
                        "in the eval set's format")
    p.add_argument("--reset", action="store_true", help="remove the adapter (back to the plain question vector)")
    p.add_argument("--dry-run", action="store_true", help="measure only; install nothing")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")

    p = sub.add_parser("bench", help="measure build, cold start, latency, throughput, memory and hit@3 "
                                     "(about 2 minutes; --full, --files and --scale measure more)")
    p.add_argument("--index", type=Path, help="measure asks on this index (default: a fresh one of the corpus)")
    p.add_argument("--corpus", type=Path, help=f"corpus folder ({corpus})")
    p.add_argument("--files", type=int, default=0,
                   help="also time an update of a corpus of N synthetic files (1000: about 3 minutes more)")
    p.add_argument("--full", action="store_true",
                   help="every eval question (not the test split) and every question for throughput: ~15 minutes")
    p.add_argument("--set", type=Path, help="eval set for latency and hit@3 (default: eval/qa.jsonl)")
    p.add_argument("--store", help="where vectors are searched: faiss (the index folder's, default), "
                   "milvus:///path/rows.db (Milvus Lite) or http://host:19530 (a Milvus server); default: RAG_STORE")
    p.add_argument("--no-baseline", action="store_true",
                   help="skip the LangChain baselines (FAISS store, BM25+FAISS ensemble)")
    p.add_argument("--full-build", type=int, default=100_000, metavar="N",
                   help="with --scale: measure the memory of a whole build of N synthetic passages (0: skip)")
    p.add_argument("--scale", nargs="?", const="10000,100000,1000000", metavar="SIZES",
                   help="instead: index size, memory, p95 and recall at these corpus sizes (comma-separated)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser
