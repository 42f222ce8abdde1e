"""Lexical retrieval: BM25 with Snowball stemming per language and romanization-proof tokens."""

from __future__ import annotations

import math
import threading
from collections import Counter
from functools import lru_cache
from typing import Any

import numpy as np

from rag.names import syllable_key
from rag.profiles import PROFILES, profile
from rag.text import all_words

# Function words carry no evidence: every profile's, since questions cross languages.
STOPWORDS = frozenset().union(*(p.stopwords for p in PROFILES.values()))


_local = threading.local()


def _stemmer(lang: str) -> Any:  # a snowballstemmer (PyStemmer's C one when installed), or None
    # Snowball stemmers keep state between calls: sharing one across threads gives wrong stems.
    stemmers = _local.__dict__.setdefault("stemmers", {})
    if lang not in stemmers:
        import snowballstemmer

        name = profile(lang).stemmer
        stemmers[lang] = snowballstemmer.stemmer(name) if name else None
    return stemmers[lang]


TOKEN_CACHE = 65_536  # bounded: a server sees new words with every question


@lru_cache(maxsize=TOKEN_CACHE)
def _token(word: str, lang: str) -> str | None:
    """The index term for one lower-cased word (None for a stop word); cached, words repeat a lot."""
    if word in STOPWORDS:
        return None
    key = syllable_key(word)
    if key is not None:
        return key
    stemmer = _stemmer(lang)
    return stemmer.stemWord(word) if stemmer else word


def tokenize(text: str, lang: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed tokens; Korean name syllables get one spelling.

    Args:
        text: any text.
        lang: the language whose stemmer to use (unknown languages are not stemmed).

    Returns:
        Tokens.
    """
    tokens = (_token(word, lang) for word in all_words(text.casefold()))
    return [t for t in tokens if t is not None]


class BM25:
    """Okapi BM25 over a fixed list of token lists; scores are scaled into [0, 1]."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.n = len(docs)
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        self._norm = k1 * (1 - b + b * lengths / max(float(lengths.mean()) if self.n else 1.0, 1.0))
        postings: dict[str, list[tuple[int, int]]] = {}
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                postings.setdefault(term, []).append((i, tf))
        self._postings = {
            term: (np.array([i for i, _ in p], dtype=np.int64), np.array([tf for _, tf in p], np.float32))
            for term, p in postings.items()
        }

    def knows(self, term: str) -> bool:
        """Whether any document contains the term."""
        return term in self._postings

    def idf(self, term: str) -> float:
        df = len(self._postings[term][0]) if term in self._postings else 0
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def scores(self, query: dict[str, float]) -> np.ndarray:
        """Score every document for a weighted query (term → weight, 1 for a plain term).

        Returns:
            float32 array of length n: BM25 divided by the best score any document could reach
            for this query (unknown terms count at full weight, so a query made mostly of words
            the corpus never uses scores low everywhere: that is what lets us abstain).
        """
        out = np.zeros(self.n, dtype=np.float32)
        ceiling = sum(w * self.idf(t) * (self.k1 + 1) for t, w in query.items())
        if not self.n or ceiling <= 0:
            return out
        for term, weight in query.items():
            if term in self._postings:
                ids, tfs = self._postings[term]
                out[ids] += weight * self.idf(term) * tfs * (self.k1 + 1) / (tfs + self._norm[ids])
        return out / ceiling
