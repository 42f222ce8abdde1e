"""Upload: documents added from the page — checked and copied at once, the index updated behind the page.

Questions keep being answered from the current index while the update runs (the build writes a new data
folder and switches the manifest); the shared assistant switches to the new index at its next question.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import RagError
from rag.index import build_index
from rag.ingest.intake import add_files
from rag.terminal import printable

if TYPE_CHECKING:
    from rag.assistant import Assistant

log = logging.getLogger("rag")


class Uploads:
    """One update at a time for the whole page: what is being added, its progress, and how it ended."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._names: tuple[str, ...] = ()
        self._progress: tuple[float, int, int] | None = None  # (when embedding started, done, total)
        self._outcome = ""

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def add(self, paths: Sequence[str | Path]) -> str:
        """Check and copy the files, start updating the index, and say what happened (one short paragraph)."""
        with self._lock:
            if self.busy:
                return f"Still adding {', '.join(self._names)}: add more when it is done."
            settings = self.assistant.settings
            try:
                intake = add_files([Path(p) for p in paths], settings.corpus_dir)
            except RagError as exc:
                return f"Nothing added: {exc}"
            refused = " ".join(f"Not added {printable(r.source)}: {r.reason}." for r in intake.refused)
            if not intake.added:
                return refused or "No file was chosen."
            self._names, self._progress, self._outcome = intake.added, None, ""
            self._thread = threading.Thread(target=self._update, name="rag-upload", daemon=True)
            self._thread.start()
            return " ".join(filter(None, [self.status(), refused]))

    def _update(self) -> None:
        names = ", ".join(printable(n) for n in self._names)
        try:
            build_index(self.assistant.settings, listener=self._heard)
            self.assistant.refresh()  # now, so the page's language choices include a new language
            self._outcome = f"Added {names}: ask about it now."
        except RagError as exc:
            self._outcome = f"Could not update the index for {names}: {exc}"
            log.error("updating the index after an upload failed: %s", exc)
        except Exception as exc:  # a bug must not leave the page saying "adding" for ever
            self._outcome = f"Could not update the index for {names}; see the server's log."
            log.exception("updating the index after an upload failed: %s", exc)

    def _heard(self, done: int, total: int) -> None:
        started = self._progress[0] if self._progress else time.monotonic()
        self._progress = (started, done, total)

    def status(self) -> str:
        """"Adding notes.pdf: 40 %, about 8 s left", then how it ended ("" before any upload)."""
        if not self.busy:
            return self._outcome
        names = ", ".join(printable(n) for n in self._names)
        if self._progress is None or not self._progress[2]:
            return f"Adding {names}: reading and preparing…"
        started, done, total = self._progress
        left = (time.monotonic() - started) / done * (total - done) if done else None
        eta = f", about {left:.0f} s left" if left is not None else ""
        return f"Adding {names}: {100 * done // total} %{eta}. Questions are answered meanwhile."
