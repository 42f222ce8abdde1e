"""Assistant: the public entry point tying index, retriever and answer together."""

from __future__ import annotations

import logging
import math
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.answer import Answer, compose
from rag.config import Settings
from rag.conversation import resolve
from rag.embedding import Embedder, load_embedder
from rag.errors import IndexNotFoundError, IndexStaleError, InvalidQuestionError, ModelError
from rag.index import build_index, check_fresh
from rag.language import detect_among
from rag.live import LiveIndex
from rag.retrieve import Retriever
from rag.store import Index, load_index, model_to_load

log = logging.getLogger("rag")

MAX_QUESTION_CHARS = 2000
MAX_K = 50
MAX_HISTORY = 20  # earlier questions kept for a follow-up; more is refused, not cut, so nothing is silently lost
MAX_LANGUAGES = 10
LANGUAGE_NAMES = {"en": {"en": "English", "de": "German"}, "de": {"en": "Englisch", "de": "Deutsch"}}
ONLY_ELSEWHERE = {
    "en": "No {shown} passage answers this, but the {hidden} sources do: add {hidden} to the languages shown.",
    "de": "Keine Textstelle auf {shown} beantwortet das, aber die Quellen auf {hidden}: "
          "wählen Sie auch {hidden} aus.",
}


def _only_elsewhere(lang: str, shown: list[str], hidden: list[str]) -> str:
    """The answer text when only languages the user did not choose hold an answer."""
    lang = lang if lang in ONLY_ELSEWHERE else "en"
    names = LANGUAGE_NAMES[lang]
    return ONLY_ELSEWHERE[lang].format(shown="/".join(names.get(x, x) for x in shown),
                                       hidden="/".join(names.get(x, x) for x in hidden))


def clean_question(question: object) -> str:
    """Validate a question and make it safe to process.

    Control characters become spaces and whitespace is collapsed; a question of only invisible format
    characters (zero-width space, joiners, BOM) is empty.

    Raises:
        InvalidQuestionError: not a string, empty, or longer than MAX_QUESTION_CHARS.
    """
    if not isinstance(question, str):
        raise InvalidQuestionError(f"the question must be text, not {type(question).__name__}")
    if len(question) > 20 * MAX_QUESTION_CHARS:  # refuse megabytes before looking at every character
        raise InvalidQuestionError(
            f"the question is {len(question)} characters long; keep it under {MAX_QUESTION_CHARS}")
    text = " ".join("".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in question).split())
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestionError(
            f"the question is {len(text)} characters long; keep it under {MAX_QUESTION_CHARS}")
    # Format characters (zero-width space and joiners, BOM) are invisible: a question of nothing else is empty.
    if all(unicodedata.category(ch) == "Cf" for ch in text.replace(" ", "")):
        raise InvalidQuestionError("the question is empty: type a question about “Soundtrack #1”")
    return text


def check_k(k: Any, upper: int = MAX_K) -> int:
    """Validate a passages-per-language count: a whole number from 1 to upper (3.0 is 3; NaN, True, "3" are not).

    Raises:
        InvalidQuestionError: anything else.
    """
    if isinstance(k, float) and math.isfinite(k) and k.is_integer():
        k = int(k)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= upper:
        shown = repr(k) if isinstance(k, int | float) else f"a {type(k).__name__}"
        raise InvalidQuestionError(f"k must be a whole number from 1 to {upper}, not {shown[:40]}")
    return k


def check_languages(languages: Any, known: list[str]) -> list[str] | None:
    """Validate a languages option: None (all) or a non-empty list of the index's language codes.

    Raises:
        InvalidQuestionError: not a list of strings, empty, or naming a language the index lacks.
    """
    if languages is None:
        return None
    if not isinstance(languages, list | tuple) or len(languages) > MAX_LANGUAGES or not all(
            isinstance(lang, str) for lang in languages):
        raise InvalidQuestionError(f"languages must be a list of language codes such as {known}")
    if not languages:
        raise InvalidQuestionError(f"choose at least one language of {known}")
    unknown = [lang for lang in languages if lang not in known]
    if unknown:
        raise InvalidQuestionError(f"unknown language {unknown[0][:20]!r}: choose from {known}")
    return list(dict.fromkeys(languages))


def check_history(history: Any) -> list[str]:
    """Validate the earlier questions of a conversation: a list of at most MAX_HISTORY question strings.

    Returns:
        The questions, oldest first, each cleaned like a question.

    Raises:
        InvalidQuestionError: not a list of strings, too long, or an earlier question that is invalid.
    """
    if history is None:
        return []
    if not isinstance(history, list | tuple):
        raise InvalidQuestionError(f"history must be a list of earlier questions, not a {type(history).__name__}")
    if len(history) > MAX_HISTORY:
        raise InvalidQuestionError(f"history holds {len(history)} questions; send at most the last {MAX_HISTORY}")
    out = []
    for n, earlier in enumerate(history, start=1):
        try:
            out.append(clean_question(earlier))
        except InvalidQuestionError as exc:
            raise InvalidQuestionError(f"history item {n}: {exc}") from None
    return out


class Assistant:
    """Answers questions from one loaded index. Load once and share: ask() is thread-safe.

    A rebuilt index (its manifest replaced) is loaded and switched to between questions (rag.live).
    """

    def __init__(self, index: Index, embedder: Embedder, settings: Settings, live: bool = True) -> None:
        self.settings = settings
        self._live = LiveIndex(index, embedder, settings, live)

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
            IndexNotFoundError, IndexCorruptError, IndexStaleError, ModelError.
        """
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
        lang = detect_among(text, serving.retriever.languages, default="en")
        query = resolve(text, earlier, serving.retriever.leans_on_context)  # a follow-up brings its context
        hits = serving.retriever.search(query, k, None, lang=lang, joined=query != text)  # every language decides
        if shown is not None:
            hidden = sorted(other for other, found in hits.items() if found and other not in shown)
            hits = {other: found for other, found in hits.items() if other in shown}
            if hidden and not any(hits.values()):  # answerable, only not in the languages chosen
                return Answer(text, _only_elsewhere(lang, shown, hidden), [], lang)
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
