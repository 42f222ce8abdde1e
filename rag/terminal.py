"""Terminal: what the command line prints is printable text, and each hint a command the user can run as it is."""

from __future__ import annotations

import logging
import os
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

# C0 and C1 control characters and DEL: escape sequences (colours, cursor moves, window titles, links),
# carriage returns and backspaces that could hide or fake what is shown. Bidirectional controls (U+202E
# turns "txt.exe" around) and the marks that steer them. Lone surrogates: the bytes of a file name that
# is not UTF-8, which no terminal can print.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROLS = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_BIDI}\\ud800-\\udfff]")
_JSON_RAW = re.compile(f"[\\x7f-\\x9f{_BIDI}\\ud800-\\udfff]")  # json.dumps escapes C0 itself (ensure_ascii=False)
_INDEX_HINT = re.compile(r"`rag index(?=[ `])[^`]*")  # a command in backticks, up to its closing one
MAX_LISTED = 10


def printable(text: str, keep: str = "") -> str:
    """text with every control character shown as a visible escape (ESC → \\x1b), so none reaches the terminal raw.

    Args:
        text: what is about to be printed (passage text, a file name, a message).
        keep: control characters to let through, e.g. "\\n" for text of several lines.

    Returns:
        The text to print.
    """
    return _CONTROLS.sub(lambda m: m.group() if m.group() in keep else _escape(m.group()), text)


def _escape(char: str) -> str:
    """A visible escape: \\x1b for a control, \\u202e for a bidi control, \\xff for a byte that was not UTF-8."""
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def json_safe(text: str) -> str:
    """JSON text (json.dumps output) with DEL, C1, bidi controls and lone surrogates as \\u escapes: the same value."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def listing(names: list[str]) -> str:
    """Names for one line of a message: printable, comma-separated, the first MAX_LISTED and how many more."""
    shown = ", ".join(printable(name) for name in names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")


def exact_commands(message: str, index: Path | None, corpus: Path | None) -> str:
    """message with each `rag index …` hint given the folders the user passed, so it runs as shown.

    Args:
        message: an error message whose hints name `rag index` (as the library writes them).
        index: the --index folder the user gave, or None.
        corpus: the --corpus folder the user gave, or None.

    Returns:
        The message, e.g. "`rag index --force --index /x --corpus /y`" where it said "`rag index --force`".
    """
    flags = path_flags(index, corpus)
    return _INDEX_HINT.sub(lambda m: m.group() + flags, message) if flags else message


def path_flags(index: Path | None, corpus: Path | None) -> str:
    """" --index X --corpus Y" for the folders given (shell-quoted as needed), "" for none."""
    return "".join(f" --{name} {shlex.quote(str(path))}" for name, path in (("index", index), ("corpus", corpus))
                   if path is not None)


class PrintableFormatter(logging.Formatter):
    """A log formatter whose lines carry no raw control characters (file names come from the corpus)."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def silence_stdout() -> None:
    """Point stdout at the null device after its reader went away (`rag ask … | head`).

    Python's docs (signal module, "Note on SIGPIPE"): otherwise the interpreter's last flush at exit
    raises BrokenPipeError again and prints it.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout has no file descriptor (replaced in-process): nothing to flush at exit
        pass


class Progress:
    """A progress bar on stderr (when shown) that also tells a listener (done, total) after each step."""

    def __init__(self, total: int, desc: str, show: bool,
                 listener: Callable[[int, int], None] | None = None) -> None:
        from tqdm import tqdm

        self.total, self.done, self._listener = total, 0, listener
        self._bar = tqdm(total=total, desc=desc, unit="text", disable=not show)

    def update(self, n: int) -> None:
        """Count n more done."""
        self.done += n
        self._bar.update(n)
        if self._listener:
            self._listener(self.done, self.total)

    def __enter__(self) -> Progress:
        if self._listener:
            self._listener(0, self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.close()
