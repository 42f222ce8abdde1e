"""Command line: `rag index`, `rag ask`, `rag eval`, `rag bench`; errors become one line and exit code 2."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from rag.terminal import PrintableFormatter, exact_commands, json_safe, path_flags, printable, silence_stdout

if TYPE_CHECKING:  # imported lazily at run time: `rag --help` stays fast
    from rag.answer import Answer
    from rag.config import Settings

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
    p.add_argument("--corpus", type=Path, help=f"folder of .txt/.md documents ({corpus})")
    p.add_argument("--index", type=Path, help=f"index folder ({index})")
    p.add_argument("--model", help="embedding model: use-multilingual, minilm, hashing, a+b, "
                   "or a sentence-transformers name/path")
    p.add_argument("--force", action="store_true", help="re-embed everything")
    p.add_argument("--strict", action="store_true",
                   help="fail on unusable corpus files (and files that are not .txt/.md) instead of skipping them")
    p.add_argument("--json", action="store_true", help="print what the build did as JSON (skipped files included)")

    p = sub.add_parser("ask", help="answer a question with cited passages")
    p.add_argument("question", help="the question, in English or German")
    p.add_argument("--index", type=Path, help=f"index folder ({index})")
    p.add_argument("--corpus", type=Path, help=f"corpus the index is checked against ({corpus}); an index "
                   "other than the default one is checked only against a corpus given here or in RAG_CORPUS_DIR")
    p.add_argument("--k", type=int, help="passages per language (1-50; default: RAG_K, else 3)")
    p.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON")

    p = sub.add_parser("eval", help="measure hit@1, hit@3, MRR and abstention on the eval set")
    p.add_argument("--index", type=Path, help=f"index folder ({index}); another one is checked against a corpus "
                   "only if RAG_CORPUS_DIR names it")
    p.add_argument("--set", type=Path, help="eval set, JSON lines (default: eval/qa.jsonl)")
    p.add_argument("--turns", type=Path, help="two-turn conversations, JSON lines with history "
                   "(default: eval/conversations.jsonl, unless --set is given)")
    p.add_argument("--split", help="only this split (tune or test)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("bench", help="measure build, cold start, latency, throughput, memory and hit@3")
    p.add_argument("--index", type=Path, help="measure asks on this index (default: a fresh one of the corpus)")
    p.add_argument("--corpus", type=Path, help=f"corpus folder ({corpus})")
    p.add_argument("--files", type=int, default=1000, help="synthetic files for the update figure (0: skip)")
    p.add_argument("--set", type=Path, help="eval set for latency and hit@3 (default: eval/qa.jsonl)")
    p.add_argument("--no-baseline", action="store_true",
                   help="skip the LangChain baselines (FAISS store, BM25+FAISS ensemble)")
    p.add_argument("--full-build", type=int, default=100_000, metavar="N",
                   help="with --scale: measure the memory of a whole build of N synthetic passages (0: skip)")
    p.add_argument("--scale", nargs="?", const="10000,100000,1000000", metavar="SIZES",
                   help="instead: index size, memory, p95 and recall at these corpus sizes (comma-separated)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 2 user error, 1 when the reader of stdout went away)."""
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # a closed pipe (`| head`) shows here, inside this handler, not at exit
    except BrokenPipeError:
        silence_stdout()
        return 1


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PrintableFormatter("rag: warning: %(message)s"))  # file names come from the corpus
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub unless the user asks
    from rag.errors import RagError

    try:
        return int(COMMANDS[args.command](args) or 0)
    except RagError as exc:
        hint = exact_commands(str(exc), getattr(args, "index", None), getattr(args, "corpus", None))
        print(f"rag: error: {printable(hint)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


def _settings(args: argparse.Namespace) -> Settings:
    from rag.config import Settings

    return Settings.from_env(corpus_dir=getattr(args, "corpus", None), index_dir=getattr(args, "index", None),
                             model=getattr(args, "model", None))


def _check_stale(args: argparse.Namespace, settings: Settings) -> bool:
    """Whether to check the index against the corpus: not another index against the project's corpus.

    `rag ask --index X` alone does not say which corpus X was built from; the manifest does not record a
    path either (nothing outside an index folder is read because an index names it), so X is not checked.
    """
    from rag.config import Settings

    if getattr(args, "corpus", None) is not None or settings.corpus_dir != Settings.corpus_dir:
        return True
    if settings.index_dir == Settings.index_dir:
        return True
    print(f"rag: note: the index in {printable(str(settings.index_dir))} is not checked against a corpus; "
          "pass --corpus DIR (or set RAG_CORPUS_DIR) to check that it is up to date", file=sys.stderr)
    return False


def cmd_index(args: argparse.Namespace) -> int:
    from rag.index import build_index

    settings = _settings(args)
    report = build_index(settings, force=args.force, progress=not args.json, strict=args.strict)
    if args.json:
        out = {**asdict(report), "skipped": [asdict(s) for s in report.skipped], "others": list(report.others),
               "model": settings.model, "index": str(settings.index_dir)}
        print(json_safe(json.dumps(out, ensure_ascii=False, indent=2)))
        return 0
    langs = ", ".join(f"{lang}: {n}" for lang, n in sorted(report.languages.items()))
    state = "unchanged" if report.unchanged else f"{report.embedded} embedded, {report.reused} reused"
    left_out = f"; {len(report.skipped)} file(s) skipped (named above)" if report.skipped else ""
    print(printable(f"{report.passages} passages ({langs}); {state}{left_out}; model {settings.model}; "
                    f"{report.seconds:.1f} s → {settings.index_dir}"))
    print(printable(f'next: rag ask "Wer führte Regie?"{path_flags(args.index, args.corpus)}'))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.assistant import Assistant
    from rag.errors import InvalidQuestionError

    if any("\udc80" <= ch <= "\udcff" for ch in args.question):
        raise InvalidQuestionError("the question is not valid UTF-8 text")
    settings = _settings(args)
    assistant = Assistant.load(settings=settings, check_stale=_check_stale(args, settings))
    answer = assistant.ask(args.question, k=settings.k if args.k is None else args.k)
    if args.json:
        print(json_safe(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2)))
        return 0
    # Corpus text and file names may hold escape sequences: none reaches the terminal raw.
    print(printable(answer.text))
    names = {"en": "English", "de": "Deutsch"}
    for lang, items in answer.by_language().items():
        print(f"\n{names.get(lang, lang)}:")
        for n, p in items:
            lines = f"{p.line_start}" if p.line_start == p.line_end else f"{p.line_start}-{p.line_end}"
            print(f"  [{n}] {printable(p.source)}:{lines} (chars {p.start}-{p.end}, score {p.score:.2f})")
            print(f"      {printable(p.text)}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.assistant import Assistant
    from rag.evaluation import CONVERSATIONS, DEFAULT_SET, evaluate, format_report, load_set

    def ask(question: str, history: list[str] | None = None) -> Answer:
        return assistant.ask(question, k=3, history=history)

    items = load_set(args.set or DEFAULT_SET)
    turns = load_set(args.turns) if args.turns else [] if args.set else load_set(CONVERSATIONS)
    if args.split:
        items, turns = ([i for i in part if i.split == args.split] for part in (items, turns))
    settings = _settings(args)
    assistant = Assistant.load(settings=settings, check_stale=_check_stale(args, settings))
    report = evaluate(ask, items, progress=True)
    if turns:  # second turns of conversations, by split and kind (follow-up, or a switch of topic)
        report.update({f"two-turn {g}": r for g, r in evaluate(
            ask, turns, progress=True, group=lambda i: f"{i.split} {i.category}").items() if g != "all"})
    report["settings"] = {key: str(value) for key, value in vars(assistant.settings).items()}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report({k: v for k, v in report.items() if k != "settings"}))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from rag.errors import ConfigError

    settings = _settings(args)
    if args.scale:
        from benchmarks.scale import format_scale, run_scale

        try:
            sizes = tuple(int(size.replace("_", "")) for size in args.scale.split(","))
        except ValueError:
            raise ConfigError(f"--scale takes comma-separated passage counts, not {args.scale!r}") from None
        result = run_scale(settings, sizes, full_build=max(0, args.full_build))
        print(json.dumps(result, indent=2) if args.json else format_scale(result))
        return 0
    from benchmarks.baseline import INSTALL_HINT, available
    from benchmarks.run import format_table, run

    if not args.no_baseline and not available():
        print(f"rag: note: {INSTALL_HINT}", file=sys.stderr)
    from rag.evaluation import DEFAULT_SET

    result = run(settings, index_dir=args.index, baseline=not args.no_baseline, files=max(0, args.files),
                 eval_set=args.set or DEFAULT_SET)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else format_table(result))
    return 0


COMMANDS = {"index": cmd_index, "ask": cmd_ask, "eval": cmd_eval, "bench": cmd_bench}


if __name__ == "__main__":
    sys.exit(main())
