"""Assistant: the public entry point tying index, retriever and answer together."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from rag.answer import Answer, compose
from rag.config import Settings
from rag.conversation import resolve
from rag.embedding import Embedder, load_embedder
from rag.errors import ConfigError, IndexNotFoundError, IndexStaleError, ModelError
from rag.index import build_index, check_fresh
from rag.ingest.intake import Intake, add_files
from rag.language import detect_among
from rag.live import LiveIndex
from rag.profiles import DEFAULT, speaks
from rag.retrieve import Retriever
from rag.search import confidence
from rag.search.adapter import Adapter
from rag.search.confidence import ANSWERS, NONE
from rag.serve.request import check_history, check_k, check_languages, clean_question
from rag.store import Index, load_index, model_to_load

log = logging.getLogger("rag")

def _only_elsewhere(lang: str, shown: list[str], hidden: list[str]) -> str:
    """The answer text when only languages the user did not choose hold an answer."""
    say = speaks(lang)
    return say.only_elsewhere.format(shown="/".join(say.name_of(x) for x in shown),
                                     hidden="/".join(say.name_of(x) for x in hidden))


class Assistant:
    """Answers questions from one loaded index. Load once and share: ask() is thread-safe.

    A rebuilt index (its manifest replaced) is loaded and switched to between questions (rag.live).
    """

    def __init__(self, index: Index, embedder: Embedder, settings: Settings, live: bool = True,
                 adapter: Adapter | None = None) -> None:
        self.settings = settings
        self._live = LiveIndex(index, embedder, settings, live, adapter)  # adapter: else the index's own

    @property
    def index(self) -> Index:
        """The index answering now."""
        return self._live.current(check=False).index

    @property
    def retriever(self) -> Retriever:
        """The retriever answering now."""
        return self._live.current(check=False).retriever

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
            ConfigError: an argument of the wrong type.
            IndexNotFoundError, IndexCorruptError, IndexStaleError, ModelError.
        """
        if index_dir is not None and not isinstance(index_dir, str | os.PathLike):
            raise ConfigError(f"index_dir must be a folder path (str or Path), not {type(index_dir).__name__}")
        if settings is not None and not isinstance(settings, Settings):
            raise ConfigError(f"settings must be a rag.config.Settings, not {type(settings).__name__}")
        if embedder is not None and not callable(getattr(embedder, "embed", None)):
            raise ConfigError(f"embedder must have an embed() method, not be a {type(embedder).__name__}")
        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = settings.with_(index_dir=Path(index_dir))
        index = load_index(settings.index_dir)
        # The index's model wins, but a path read from the index is never opened unless asked for.
        settings = settings.for_model(model_to_load(index.manifest["model"], settings.model, settings.index_dir))
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

    def refresh(self) -> None:
        """Switch to a rebuilt index now, not at the next question (after an upload: the page's languages)."""
        self._live.current()

    def ask(self, question: str, k: int = 3, languages: Sequence[str] | None = None,
            history: Sequence[str] | None = None) -> Answer:
        """Answer a question with up to k passages per language.

        Args:
            question: in English or German (other languages work as far as the model knows them).
            k: passages per language, 1 to 50.
            languages: only show passages of these languages (default: all in the index). The question
                is always understood from every language: this filters what is returned, nothing else.
            history: the conversation's earlier questions, oldest first (at most MAX_HISTORY).

        Returns:
            The Answer; its passages are empty when the sources hold nothing relevant.

        Raises:
            InvalidQuestionError: empty, too long, or not text; k out of range; bad languages or history.
        """
        text = clean_question(question)
        k = check_k(k)
        earlier = check_history(history)
        serving = self._live.current()  # one index for the whole question, even if a rebuild lands meanwhile
        shown = check_languages(languages, serving.retriever.languages)
        lang = detect_among(text, serving.retriever.languages, default=DEFAULT)
        query = resolve(text, earlier, serving.retriever.leans_on_context)  # a follow-up brings its context
        sides = serving.retriever.search_sides(query, k, None, lang=lang, joined=query != text,
                                               alone=text if query != text else "")  # every language
        sure = confidence.shipped().grade({t: side.features for t, side in sides.items()})
        hits = {t: [] if sure[t].label == NONE else side.hits for t, side in sides.items()}  # off-topic: nothing
        if shown is not None:
            hidden = sorted(t for t in hits if t not in shown and sure[t].label == ANSWERS)
            hits = {t: found for t, found in hits.items() if t in shown}
            sure = {t: c for t, c in sure.items() if t in shown}
            if hidden and all(c.label != ANSWERS for c in sure.values()):  # answered only in a language not chosen
                answer = compose(text, lang, hits, sure)
                return replace(answer, text=_only_elsewhere(lang, shown, hidden))
        return compose(text, lang, hits, sure)


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


def add_documents(paths: Sequence[str | Path], settings: Settings | None = None, progress: bool = False,
                  listener: Callable[[int, int], None] | None = None) -> Intake:
    """Copy documents into the corpus folder and update the index; a running assistant switches to it.

    Args:
        paths: the files (.txt, .md, .pdf, .docx, .html; at most 20, each at most 50 MiB).
        settings: corpus and index (default: Settings.from_env()).
        progress: show the build's progress bar on stderr.
        listener: told (texts embedded, texts to embed) while the build embeds.

    Returns:
        The Intake: the names written in the corpus folder, and each file refused with its reason.

    Raises:
        CorpusError: more than 20 files, or no corpus folder.
    """
    settings = settings or Settings.from_env()
    intake = add_files([Path(p) for p in paths], settings.corpus_dir)
    if intake.added:
        build_index(settings, progress=progress, listener=listener)
    return intake


def ask(question: str, k: int = 3, languages: Sequence[str] | None = None,
        history: Sequence[str] | None = None) -> Answer:
    """Answer a question from the default index (see Settings), building it if it is missing.

    Args:
        question: in English or German.
        k: passages per language.
        languages: only show passages of these languages (default: all).
        history: the conversation's earlier questions, oldest first.

    Returns:
        The Answer.
    """
    return default_assistant().ask(question, k=k, languages=languages, history=history)
