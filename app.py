"""Start the chat page: python app.py [--host 0.0.0.0] [--port 7860] [--auth user:password]."""

from __future__ import annotations

import argparse
import logging
import os
import sys


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; --port defaults to GRADIO_SERVER_PORT, --auth to RAG_AUTH."""
    parser = argparse.ArgumentParser(description="Chat page for questions about “Soundtrack #1”.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; "
                             "0.0.0.0 exposes the page to the network)")
    port = os.environ.get("GRADIO_SERVER_PORT", "7860")
    parser.add_argument("--port", type=int, default=int(port) if port.isdigit() else 7860,
                        help="port (default: GRADIO_SERVER_PORT, else 7860)")
    parser.add_argument("--auth", default=os.environ.get("RAG_AUTH"), metavar="USER:PASSWORD",
                        help="ask for this login before showing the page (default: RAG_AUTH)")
    args = parser.parse_args(argv)
    if args.auth:
        user, _, password = args.auth.partition(":")
        if not (user and password):
            parser.error("--auth (or RAG_AUTH) must look like user:password")
        args.auth = (user, password)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    from rag.assistant import default_assistant
    from rag.errors import RagError
    from rag.ui import launch

    if args.host not in ("127.0.0.1", "localhost") and not args.auth:
        print(f"warning: serving on {args.host} without --auth: anyone on the network can use it",
              file=sys.stderr)
    print("Loading the index (on first start it is built first: this takes a minute)…",
          file=sys.stderr, flush=True)
    try:
        assistant = default_assistant()
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    launch(assistant, host=args.host, port=args.port, auth=args.auth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
