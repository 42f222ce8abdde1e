"""Preparing: an assistant whose index is still being built in the background, so the page can open at once.

Until the build is done, questions get "still preparing, about N s left" (IndexNotReadyError) and the page
shows the build's progress; then every call goes to the loaded Assistant.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from rag.answer import Answer
from rag.assistant import Assistant
from rag.config import Settings
from rag.corpus import read_corpus
from rag.errors import IndexNotFoundError, IndexNotReadyError, IndexStaleError, RagError
from rag.index import build_index

log = logging.getLogger("rag")


class Preparing(Assistant):
    """Builds the index in a thread and then answers like the Assistant it loads (same public surface)."""

    def __init__(self, settings: Settings) -> None:  # no super().__init__: nothing is loaded yet
        self.settings = settings
        # The page's language choices, now: the corpus's languages (reading is quick, embedding is not).
        self._languages = sorted({doc.lang for doc in read_corpus(settings.corpus_dir).documents})
        self._ready: Assistant | None = None
        self._failed = ""
        self._started = time.monotonic()
        self._embedding: tuple[float, int, int] | None = None  # (when it started, done, total)
        self._thread = threading.Thread(target=self._build, name="rag-prepare", daemon=True)
        self._thread.start()

    def _build(self) -> None:
        try:
            build_index(self.settings, progress=True, listener=self._heard)
            self._ready = Assistant.load(settings=self.settings)
        except RagError as exc:
            self._failed = str(exc)
            log.error("the index could not be built: %s", exc)
        except Exception as exc:  # a bug must not leave the page waiting for ever
            self._failed = "the index could not be built; see the server's log"
            log.exception("building the index failed: %s", exc)

    def _heard(self, done: int, total: int) -> None:
        started = self._embedding[0] if self._embedding else time.monotonic()
        self._embedding = (started, done, total)

    def wait(self, timeout: float | None = None) -> Assistant | None:
        """Block until the build ends (or timeout); the loaded assistant, or None."""
        self._thread.join(timeout)
        return self._ready

    def status(self) -> str:
        """What the page says while preparing ("" once ready)."""
        if self._ready is not None:
            return ""
        if self._failed:
            return f"⚠ The index could not be prepared: {self._failed}"
        if self._embedding is None:
            return "Preparing the index: reading the documents and loading the model…"
        started, done, total = self._embedding
        if done >= total:
            return "Preparing the index: saving it…"
        share = done / total if total else 0.0
        left = (time.monotonic() - started) / done * (total - done) if done else None
        eta = f", about {max(1, round(left))} s left" if left is not None else ""
        return f"Preparing the index: {share:.0%}{eta}"

    def _assistant(self) -> Assistant:
        if self._failed:
            raise IndexNotReadyError(f"the index could not be prepared ({self._failed}): run `rag index` to see why")
        if self._ready is None:
            raise IndexNotReadyError(f"{self.status()} — ask again in a moment.")
        return self._ready

    @property
    def index(self) -> Any:
        return self._assistant().index

    @property
    def retriever(self) -> Any:
        return self._assistant().retriever

    @property
    def languages(self) -> list[str]:
        return self._ready.languages if self._ready is not None else self._languages

    def refresh(self) -> None:
        if self._ready is not None:
            self._ready.refresh()

    def ask(self, question: str, k: int = 3, languages: Sequence[str] | None = None,
            history: Sequence[str] | None = None) -> Answer:
        """Answer as the loaded Assistant does; while preparing, raise IndexNotReadyError with the progress."""
        return self._assistant().ask(question, k=k, languages=languages, history=history)


def open_or_prepare(settings: Settings) -> Assistant:
    """The assistant of settings' index: loaded when it is there and fresh, else Preparing (built meanwhile)."""
    try:
        return Assistant.load(settings=settings)
    except (IndexNotFoundError, IndexStaleError) as exc:
        why = "it is missing" if isinstance(exc, IndexNotFoundError) else "the corpus changed"
        log.warning("building the index in %s (%s); the page opens meanwhile", settings.index_dir, why)
        return Preparing(settings)
