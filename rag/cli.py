"""Command line: `rag index`, `rag ask`, `rag eval`, `rag bench`; errors become one line and exit code 2."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING

from rag.arguments import EXIT_USAGE, build_parser
from rag.profiles import profile
from rag.terminal import PrintableFormatter, exact_commands, json_safe, path_flags, printable, silence_stdout

if TYPE_CHECKING:  # imported lazily at run time: `rag --help` stays fast
    from rag.answer import Answer
    from rag.config import Settings

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


def as_json(value: object) -> str:
    """JSON for the terminal: UTF-8 as it is ("Führte", not "F\\u00fchrte"), control characters escaped."""
    return json_safe(json.dumps(value, ensure_ascii=False, indent=2))


def _settings(args: argparse.Namespace) -> Settings:
    from rag.config import Settings

    return Settings.from_env(corpus_dir=getattr(args, "corpus", None), index_dir=getattr(args, "index", None),
                             model=getattr(args, "model", None), store=getattr(args, "store", None))


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
        print(as_json(out))
        return 0
    langs = ", ".join(f"{lang}: {n}" for lang, n in sorted(report.languages.items()))
    state = "unchanged" if report.unchanged else f"{report.embedded} embedded, {report.reused} reused"
    if report.store is not None:
        s = report.store
        state += f"; store {settings.store}: {s.added} rows added, {s.kept} kept, {s.deleted} deleted"
    left_out = f"; {len(report.skipped)} file(s) skipped (named above)" if report.skipped else ""
    print(printable(f"{report.passages} passages ({langs}); {state}{left_out}; model {settings.model}; "
                    f"{report.seconds:.1f} s → {settings.index_dir}"))
    store = f" --store {shlex.quote(args.store)}" if getattr(args, "store", None) else ""
    print(printable(f'next: rag ask "Wer führte Regie?"{path_flags(args.index, args.corpus)}{store}'))
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from rag.assistant import add_documents

    settings = _settings(args)
    intake = add_documents(args.files, settings, progress=True)
    for refused in intake.refused:
        print(printable(f"rag: not added {refused.source}: {refused.reason}"), file=sys.stderr)
    if intake.added:
        print(printable(f"added {', '.join(intake.added)} to {settings.corpus_dir}; the index is up to date"))
        print(printable(f'next: rag ask "…"{path_flags(args.index, args.corpus)}'))
    return 2 if intake.refused else 0


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.assistant import Assistant
    from rag.errors import IndexNotFoundError, InvalidQuestionError

    if any("\udc80" <= ch <= "\udcff" for ch in args.question):
        raise InvalidQuestionError("the question is not valid UTF-8 text")
    settings = _settings(args)
    check = _check_stale(args, settings)
    try:
        assistant = Assistant.load(settings=settings, check_stale=check)
    except IndexNotFoundError:
        # An index named alone: its corpus is unknown. A folder in no existing folder: a typo, not a wish.
        # (A stale index stays an error naming `rag index`: rebuilding it is the user's call.)
        if not check or not settings.index_dir.parent.is_dir():
            raise
        from rag.index import build_index

        print(printable(f"rag: no index in {settings.index_dir} yet: building it first…"), file=sys.stderr)
        build_index(settings, progress=True)
        assistant = Assistant.load(settings=settings)
    answer = assistant.ask(args.question, k=settings.k if args.k is None else args.k)
    if args.json:
        print(as_json(answer.to_dict()))
        return 0
    # Corpus text and file names may hold escape sequences: none reaches the terminal raw.
    print(printable(answer.text))
    for lang, items in answer.by_language().items():
        sure = answer.confidence.get(lang)
        said = f" — {sure.label} ({sure.probability:.0%} sure its top 3 answer)" if sure else ""
        print(f"\n{profile(lang).name}{said}:")
        for n, p in items:
            lines = f"{p.line_start}" if p.line_start == p.line_end else f"{p.line_start}-{p.line_end}"
            where = f", {p.place}" if p.place else f":{lines}"
            print(f"  [{n}] {printable(p.source)}{where} (chars {p.start}-{p.end}, score {p.score:.2f})")
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
    if args.no_adapter:
        settings = settings.with_(adapter=0)
    assistant = Assistant.load(settings=settings, check_stale=_check_stale(args, settings))
    report = evaluate(ask, items, progress=True)
    if turns:  # second turns of conversations, by split and kind (follow-up, or a switch of topic)
        report.update({f"two-turn {g}": r for g, r in evaluate(
            ask, turns, progress=True, group=lambda i: f"{i.split} {i.category}").items() if g != "all"})
    report["settings"] = {key: str(value) for key, value in vars(assistant.settings).items()}
    if args.json:
        print(as_json(report))
    else:
        print(format_report({k: v for k, v in report.items() if k != "settings"}))
    return 0


def cmd_learn(args: argparse.Namespace) -> int:
    from rag.serve.learning import learn, reset

    settings = _settings(args)
    if args.reset:
        print(printable(reset(settings.index_dir)))
        return 0
    lesson = learn(settings, args.sources, install=not args.dry_run)
    if args.json:
        print(as_json(asdict(lesson)))
        return 0
    print(f"learned from {lesson.questions} questions ({lesson.pairs} question→language pairs)")
    for part, pair in lesson.figures.items():
        print(f"  {part:<16} " + "  ".join(
            f"{d} {pair['identity'][d]['hit@3']:.3f}→{pair['adapter'][d]['hit@3']:.3f}" for d in pair["identity"]))
    print(printable(lesson.reason) + ("" if lesson.installed or args.dry_run else "; nothing changed"))
    return 0 if lesson.installed or args.dry_run else EXIT_USAGE


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
        print(as_json(result) if args.json else format_scale(result))
        return 0
    from benchmarks.baseline import INSTALL_HINT, available
    from benchmarks.run import format_table, run

    if not args.no_baseline and not available():
        print(f"rag: note: {INSTALL_HINT}", file=sys.stderr)
    from rag.evaluation import DEFAULT_SET

    result = run(settings, index_dir=args.index, baseline=not args.no_baseline, files=max(0, args.files),
                 eval_set=args.set or DEFAULT_SET, full=args.full)
    print(as_json(result) if args.json else format_table(result))
    return 0


COMMANDS = {"index": cmd_index, "add": cmd_add, "ask": cmd_ask, "eval": cmd_eval, "learn": cmd_learn,
            "bench": cmd_bench}


if __name__ == "__main__":
    sys.exit(main())
