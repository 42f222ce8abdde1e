"""Assistant: the public entry point tying index, retriever and answer together."""

from __future__ import annotations

import logging
import threading
import unicodedata
from pathlib import Path

from rag.answer import Answer, compose
from rag.config import Settings
from rag.embedding import Embedder, load_embedder
from rag.errors import IndexNotFoundError, IndexStaleError, InvalidQuestionError, ModelError
from rag.index import build_index, check_fresh
from rag.language import detect_among
from rag.retrieve import Retriever
from rag.store import Index, load_index, model_to_load

log = logging.getLogger("rag")

MAX_QUESTION_CHARS = 2000


def clean_question(question: object) -> str:
    """Validate a question and make it safe to process.

    Control characters become spaces and whitespace is collapsed.

    Raises:
        InvalidQuestionError: not a string, empty, or longer than MAX_QUESTION_CHARS.
    """
    if not isinstance(question, str):
        raise InvalidQuestionError(f"the question must be text, not {type(question).__name__}")
    if len(question) > 20 * MAX_QUESTION_CHARS:  # refuse megabytes before looking at every character
        raise InvalidQuestionError(
            f"the question is {len(question)} characters long; keep it under {MAX_QUESTION_CHARS}")
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in question)
    text = " ".join(text.split())
    if not text:
        raise InvalidQuestionError("the question is empty: type a question about “Soundtrack #1”")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestionError(
            f"the question is {len(text)} characters long; keep it under {MAX_QUESTION_CHARS}")
    return text


class Assistant:
    """Answers questions from one loaded index. Load once and share: ask() is thread-safe."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings) -> None:
        self.index, self.settings = index, settings
        if embedder.dim and embedder.dim != index.vectors.shape[1]:  # else every question fails in numpy
            raise IndexStaleError(
                f"index in {index.path} holds {index.vectors.shape[1]}-dimensional vectors (model "
                f"{index.manifest['model']!r}), but the model loaded gives {embedder.dim}: it was built with "
                f"another model; rebuild it with `rag index --force`")
        self.retriever = Retriever(index, embedder, settings)

    @classmethod
    def load(cls, index_dir: str | Path | None = None, settings: Settings | None = None,
             embedder: Embedder | None = None, check_stale: bool = True) -> Assistant:
        """Load an index and the model it was built with.

        Args:
            index_dir: the index folder (default: settings.index_dir).
            settings: settings (default: from the environment); the index's own model wins.
            embedder: an already loaded embedder (tests pass a fake one).
            check_stale: raise IndexStaleError when the corpus changed since the build.

        Returns:
            The assistant.

        Raises:
            IndexNotFoundError, IndexCorruptError, IndexStaleError, ModelError.
        """
        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = settings.with_(index_dir=Path(index_dir))
        index = load_index(settings.index_dir)
        # The index's model wins, but a path read from the index is never opened unless asked for.
        settings = settings.with_(model=model_to_load(index.manifest["model"], settings.model, settings.index_dir))
        if check_stale:
            check_fresh(index, settings)
        try:
            embedder = embedder or load_embedder(settings.model)
        except ModelError as exc:  # e.g. an index copied from a machine with another model installed
            raise ModelError(f"{' '.join(str(exc).split())}; the index in {settings.index_dir} was built with "
                             f"model {settings.model!r}: install it, or rebuild the index with another model "
                             f"(`rag index --model use-multilingual`)") from None
        return cls(index, embedder, settings)

    @property
    def languages(self) -> list[str]:
        return self.retriever.languages

    def ask(self, question: str, k: int = 3, languages: list[str] | None = None) -> Answer:
        """Answer a question with up to k passages per language.

        Args:
            question: in English or German (other languages work as far as the model knows them).
            k: passages per language, 1 to 50.
            languages: only search these languages (default: all in the index).

        Returns:
            The Answer; its passages are empty when the sources hold nothing relevant.

        Raises:
            InvalidQuestionError: empty, too long, or not text; k out of range.
        """
        text = clean_question(question)
        if not isinstance(k, int) or not 1 <= k <= 50:
            raise InvalidQuestionError(f"k must be a whole number from 1 to 50, not {k!r}")
        lang = detect_among(text, self.languages, default="en")
        hits = self.retriever.search(text, k, languages, lang=lang)
        return compose(text, lang, hits)


_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant(settings: Settings | None = None) -> Assistant:
    """The shared assistant for the default index, built on first use and rebuilt when stale."""
    global _default
    with _default_lock:
        if _default is None:
            settings = settings or Settings.from_env()
            try:
                _default = Assistant.load(settings=settings)
            except (IndexNotFoundError, IndexStaleError) as exc:
                why = "it is missing" if isinstance(exc, IndexNotFoundError) else "the corpus changed"
                log.warning("building the index in %s (%s); this takes a moment", settings.index_dir, why)
                build_index(settings, progress=True)
                _default = Assistant.load(settings=settings)
        return _default


def ask(question: str, k: int = 3) -> Answer:
    """Answer a question from the default index (see Settings), building it if it is missing.

    Args:
        question: in English or German.
        k: passages per language.

    Returns:
        The Answer.
    """
    return default_assistant().ask(question, k=k)
