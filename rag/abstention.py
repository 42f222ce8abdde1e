"""Abstention: what the sources cannot answer — a whole question, or one language's side of it."""

from __future__ import annotations

import numpy as np

from rag.config import Settings
from rag.lexical import STOPWORDS
from rag.profiles import profile
from rag.store import Index
from rag.text import capitalised_inside_sentences, letter_words, name_like_words, word_parts
from rag.vocabulary import everyday_words


class Abstention:
    """The corpus's words and names, to tell when a question, or a language, has no answer. Read-only."""

    def __init__(self, index: Index, settings: Settings, proper: frozenset[str], texts: list[str]) -> None:
        """texts: each passage's text with its heading, names normalised (what BM25 indexes too)."""
        self.index, self.settings, self.proper = index, settings, proper
        # Each language's words as its passages write them, names in their one spelling (as in questions).
        self._written: dict[str, set[str]] = {}
        for chunk, text in zip(index.chunks, texts, strict=True):
            self._written.setdefault(chunk.lang, set()).update(letter_words(text.casefold()))
        self._vocabulary: set[str] = set().union(*self._written.values())  # every language's
        self._korean = {w.casefold() for name in index.names.canonical.values() for w in letter_words(name)}
        # Ordinary words, even capitalised ("Korean", "Stars"), are translated, not repeated, across languages:
        # the whole lists, whatever RAG_EVERYDAY_WORDS says about which get vectors.
        self._everyday = set(everyday_words(sorted(self._written)))

    def unknown_names(self, query: str, lang: str) -> list[str]:
        """Names in the question (query: its names already normalised) that no passage mentions
        ("Who directed Parasite?").

        Acronyms count in any language; capitalised words after the first only in English,
        since German capitalises every noun.
        """
        tokens = name_like_words(query)
        found = []
        for i, token in enumerate(tokens):
            acronym = len(token) >= 2 and token.isupper()
            proper = profile(lang).capitals_mark_names and i > 0 and token[0].isupper()
            if (acronym or proper) and not self._known(token):
                found.append(token)
        return found

    def _known(self, token: str) -> bool:
        return all(p in self._vocabulary or p in STOPWORDS or len(p) < 3 for p in word_parts(token))

    def silent_languages(self, query: str, lang: str, vectors: dict[str, np.ndarray] | None = None) -> set[str]:
        """Languages whose passages never write a name the question (query: its names already normalised)
        writes, while another language's do.

        A source that never names Yoon Dong-hyun cannot say who he is: that side is left empty rather
        than filled with passages about someone else. A name is written capitalised in the question and
        is a Korean name of the corpus, an English proper noun of the corpus, or (in an English question)
        a capitalised word inside a sentence — unless its vector (vectors: the question's words) is
        close to a word of the language in question ("Fotograf" ~ "photographer"). Stop words and
        everyday words ("Korean", "Koreans") never count, and neither does a question in capitals.
        """
        if not any(ch.islower() for ch in query):
            return set()
        inside = ({w for t in capitalised_inside_sentences(query) for w in letter_words(t.casefold())}
                  if profile(lang).capitals_mark_names else set())
        names: dict[str, bool] = {}  # name → whether it may be another language's ordinary word
        for token in name_like_words(query):
            parts = [p for p in letter_words(token.casefold()) if len(p) >= 3 and p not in STOPWORDS]
            known = any(p in self._korean or p in self.proper for p in parts)
            if token[0].isupper() and (known or any(p in inside for p in parts)):
                names.update((p, not known) for p in parts if not _writes(self._everyday, p))

        def says(lang2: str, name: str, maybe_word: bool) -> bool:
            if _writes(self._written[lang2], name):
                return True
            vector = (vectors or {}).get(name) if maybe_word else None
            words = self.index.vocabulary_vectors.get(lang2)
            return (vector is not None and words is not None and len(words) > 0
                    and float((words @ vector).max()) >= self.settings.known_word_similarity)

        return {lang2 for lang2 in self._written
                if any(not says(lang2, name, maybe) and any(_writes(w, name) for l2, w in self._written.items()
                                                            if l2 != lang2) for name, maybe in names.items())}

    def has_unknown_word(self, query_matrix: np.ndarray, targets: list[str]) -> bool:
        """Whether a content word of the question (a row) is far from every corpus word of every language."""
        vocab = [self.index.vocabulary_vectors[t] for t in targets if len(self.index.vocabulary_vectors.get(t, ()))]
        if not vocab or not len(query_matrix):
            return False
        closest = np.max([(v @ query_matrix.T).max(axis=0) for v in vocab], axis=0)  # one product per language
        return bool((closest < self.settings.known_word_similarity).any())

    def weak_languages(self, best: dict[str, float | None]) -> set[str]:
        """Languages whose best passage (None: none) is far below the best overall: they only add noise."""
        top = max((s for s in best.values() if s is not None), default=0.0)
        return {lang for lang, s in best.items() if s is None or s < top - self.settings.language_margin}


def _writes(written: set[str], name: str) -> bool:
    """Whether a set of words includes name, or name is its genitive or plural ("Seon-woos", "Koreans")."""
    return name in written or (name.endswith("s") and name[:-1] in written)
