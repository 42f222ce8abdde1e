"""Start the chat page: python app.py [--host 0.0.0.0] [--port 7860] [--auth-file FILE] [--allow-upload]."""

from __future__ import annotations

import argparse
import errno
import importlib.util
import logging
import os
import socket
import sys
from pathlib import Path
from typing import NoReturn

UI_HINT = 'the chat page needs the ui extra: pip install -e ".[ui]"'


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and exit code 2, not usage + message
        print(f"error: {' '.join(message.split())} (see `python app.py --help`)", file=sys.stderr)
        raise SystemExit(2)


def port_number(text: str) -> int:
    """A TCP port from the command line: a whole number from 1 to 65535."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"--port takes a whole number from 1 to 65535, not {text!r}")
    return int(text)


def port_in_use(host: str, port: int) -> str | None:
    """Why the page cannot listen on host:port (in use, not allowed), or None when it can."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return f"port {port} is in use on {host}: stop what uses it, or pick another with --port"
        return f"cannot listen on {host}:{port} ({exc.strerror or exc}): pick another --host or --port"
    return None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; --port defaults to GRADIO_SERVER_PORT, --auth to RAG_AUTH."""
    parser = _Parser(description="Chat page for questions about “Soundtrack #1”.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; "
                             "0.0.0.0 exposes the page to the network)")
    port = os.environ.get("GRADIO_SERVER_PORT", "7860")
    parser.add_argument("--port", type=port_number, default=port_number(port) if port.isdigit() and
                        0 < int(port) < 65536 else 7860, help="port (default: GRADIO_SERVER_PORT, else 7860)")
    parser.add_argument("--allow-upload", action="store_true",
                        help="let readers add documents from the page (PDF, Word, HTML, text); only on "
                             "127.0.0.1 or with --auth-file")
    parser.add_argument("--store", default=None, metavar="ADDRESS",
                        help="where vectors are searched: faiss (default), milvus:///path/rows.db (Milvus Lite) or "
                             "http://host:19530 (a Milvus server many pages share); default: RAG_STORE")
    parser.add_argument("--auth", default=os.environ.get("RAG_AUTH"), metavar="USER:PASSWORD",
                        help="ask for this login before showing the page (default: RAG_AUTH); other users "
                             "of this machine can read it in `ps`: prefer RAG_AUTH or --auth-file")
    parser.add_argument("--auth-file", type=Path, metavar="FILE",
                        help="read the login, user:password on its first line, from this file (keep it private)")
    args = parser.parse_args(argv)
    if args.auth_file is not None:
        try:
            lines = args.auth_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            parser.error(f"--auth-file {args.auth_file}: cannot read it ({getattr(exc, 'strerror', None) or exc})")
        args.auth = lines[0].strip() if lines else ""
        if not args.auth:
            parser.error(f"--auth-file {args.auth_file} is empty: write user:password on its first line")
    if args.auth:
        user, _, password = args.auth.partition(":")
        if not (user and password):
            parser.error("--auth (or RAG_AUTH, or the --auth-file's line) must look like user:password")
        args.auth = (user, password)
    return args


def main(argv: list[str] | None = None) -> int:
    """Serve the page until interrupted; returns the exit code (2: the ui extra is missing, or no index)."""
    args = parse_args(argv)
    if importlib.util.find_spec("gradio") is None:  # say so now, not after loading (or building) the index
        print(f"error: {UI_HINT}", file=sys.stderr)
        return 2
    from rag.terminal import PrintableFormatter, printable

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PrintableFormatter("%(message)s"))  # file names in warnings come from the corpus
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    from rag.config import Settings
    from rag.errors import RagError
    from rag.serve.page import launch
    from rag.serve.preparing import open_or_prepare

    if args.host not in ("127.0.0.1", "localhost") and not args.auth:
        print(f"warning: serving on {args.host} without --auth-file (or RAG_AUTH): anyone on the network can use it",
              file=sys.stderr)
    problem = port_in_use(args.host, args.port)  # before minutes of building: say it now
    if problem:
        print(f"error: {printable(problem)}", file=sys.stderr)
        return 2
    print("Loading the index (on first start the page opens at once and the index is built behind it)…",
          file=sys.stderr, flush=True)
    try:
        import gradio  # noqa: F401 - first: the page's import would otherwise share the cores with a build

        assistant = open_or_prepare(Settings.from_env(store=args.store))
        launch(assistant, host=args.host, port=args.port, auth=args.auth, allow_upload=args.allow_upload)
    except RagError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # the port was taken meanwhile (gradio: "Cannot find empty port")
        print(f"error: {printable(' '.join(str(exc).split()))}: pick another with --port", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
