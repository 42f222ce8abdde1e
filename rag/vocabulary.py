"""Vocabulary bridging: query words a language's passages never use → that language's nearest words.

This is how a German question finds English passages lexically (Regie → directing, Fotograf →
photographer) and how synonyms meet (runtime → Laufzeit): the multilingual model's word vectors
act as a dictionary induced from the corpus itself, with no hand-made word lists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from rag.chunking import Chunk
from rag.lexical import STOPWORDS, tokenize
from rag.names import NameNormalizer
from rag.profiles import profile
from rag.text import capitalised_inside_sentences, letter_words, lower_case_words, word_key

WORDS = Path(__file__).parent / "words"  # <lang>.txt: everyday words, most frequent first (tools/question_words.py)


def words(text: str) -> list[str]:
    """Content words of a text: lower-cased, letters only, at least 3 long, no stop words."""
    return [w for w in letter_words(text.casefold()) if len(w) >= 3 and w not in STOPWORDS]


def everyday_words(languages: Iterable[str], per_language: int | None = None,
                   exclude: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The most frequent content words of each language (rag/words/<lang>.txt, from wordfreq), in order.

    They get vectors at index time, like the corpus's words, so a question made of everyday words
    needs no model call beyond its own (each word embedded at question time costs about one third of it).

    Args:
        languages: language codes; one without a list adds nothing.
        per_language: how many of each list's words (0: none; None: the whole list).
        exclude: words left out (the corpus's own, which have vectors already).

    Returns:
        Distinct words, each language's most frequent first.
    """
    found: dict[str, None] = {}
    for lang in languages:
        path = WORDS / f"{lang}.txt"
        if per_language != 0 and path.is_file():
            listed = path.read_text(encoding="utf-8").split()[:per_language]
            found.update((w, None) for w in listed if w not in exclude)
    return list(found)


def corpus_vocabulary(texts_by_lang: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Sorted distinct content words of each language's passages."""
    return {lang: sorted({w for t in texts for w in words(t)}) for lang, texts in texts_by_lang.items()}


class Bridge:
    """Maps unknown query words to weighted in-vocabulary stems, per language."""

    def __init__(self, vocab: dict[str, list[str]], vectors: dict[str, np.ndarray],
                 min_similarity: float, per_word: int = 2) -> None:
        self.vocab, self.vectors = vocab, vectors
        self.min_similarity, self.per_word = min_similarity, per_word
        self._stems = {lang: {t for w in ws for t in tokenize(w, lang)} for lang, ws in vocab.items()}

    def expand(self, query: str, lang: str, word_vectors: dict[str, np.ndarray]) -> dict[str, float]:
        """Weighted BM25 query terms for one language.

        Args:
            query: the question (names already normalised).
            lang: the passages' language.
            word_vectors: a vector for every word of words(query).

        Returns:
            term → weight: known terms weigh 1, bridged ones their similarity; a word with no
            close neighbour stays as an unknown term (so off-topic questions still score low).
        """
        terms: dict[str, float] = {}
        unknown = []
        for token in tokenize(query, lang):
            if token in self._stems.get(lang, ()):
                terms[token] = 1.0
        for word in words(query):
            stems = tokenize(word, lang)
            if stems and not any(s in self._stems.get(lang, ()) for s in stems):
                unknown.append(word)
        vectors = self.vectors.get(lang)
        if not unknown or vectors is None or not len(vectors):
            terms.update({s: 1.0 for w in unknown for s in tokenize(w, lang)})
            return terms
        for word in unknown:
            sims = vectors @ word_vectors[word]
            best = np.argsort(-sims)[: self.per_word]
            close = [(self.vocab[lang][i], float(sims[i])) for i in best if sims[i] >= self.min_similarity]
            if not close:
                terms.update({s: 1.0 for s in tokenize(word, lang)})  # stays unknown: lowers the score
            for neighbour, sim in close:
                for stem in tokenize(neighbour, lang):
                    terms[stem] = max(terms.get(stem, 0.0), sim)
        return terms


class SoftMatcher:
    """Soft term matching: each query word scores by its closest word in the passage.

    A ColBERT-like signal on word vectors: "Regie" meets "directing" (cosine 0.63) even though
    no exact term is shared. Scores are in [0, 1]; query words with no close word anywhere add 0,
    so questions about other things score low.
    """

    def __init__(self, vocab: list[str], vectors: np.ndarray, passages: list[str], floor: float) -> None:
        self.vectors, self.floor = vectors, floor
        column = {w: i for i, w in enumerate(vocab)}
        per_passage = [sorted({column[w] for w in words(text) if w in column}) for text in passages]
        # Each passage's vocabulary columns, concatenated, with where each passage's run starts.
        self.columns = np.array([c for cols in per_passage for c in cols], dtype=np.int64)
        self.counts = np.array([len(cols) for cols in per_passage], dtype=np.int64)
        self.starts = np.cumsum(np.r_[0, self.counts[:-1]]).astype(np.int64)
        df = np.bincount(self.columns, minlength=len(vocab))
        self.idf = np.log(1 + (len(passages) - df + 0.5) / (df + 0.5)).astype(np.float32)

    def scores(self, word_vectors: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """IDF-weighted mean over query words of their best match in each passage, in [0, 1].

        A match counts max(0, similarity − floor) / (1 − floor). A query word weighs the IDF of its
        closest corpus word, or the highest IDF when nothing is close (an unknown word must count).

        Args:
            word_vectors: (query words, dim) unit vectors.
            rows: score only these passages (default: all).

        Returns:
            One score per passage (per row of rows).
        """
        rows = np.arange(len(self.counts)) if rows is None else np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(word_vectors), len(rows)), dtype=np.float32)  # (query word, passage)
        if not len(word_vectors) or not len(self.columns) or not len(rows):
            return out.sum(axis=0)
        sims = np.clip((word_vectors @ self.vectors.T - self.floor) / (1 - self.floor), 0, 1)
        counts = self.counts[rows]
        filled = counts > 0
        # The vocabulary columns of the chosen passages, back to back, and where each run starts.
        columns = np.concatenate([self.columns[a : a + n] for a, n in zip(self.starts[rows], counts, strict=True)])
        starts = np.cumsum(np.r_[0, counts[:-1]])[filled]
        if len(columns):
            out[:, filled] = np.maximum.reduceat(sims[:, columns], starts, axis=1)
        closest = sims.argmax(axis=1)
        weights = np.where(sims.max(axis=1) > 0, self.idf[closest], self.idf.max())
        return (weights @ out / weights.sum()).astype(np.float32)


def proper_nouns(chunks: list[Chunk], names: NameNormalizer) -> frozenset[str]:
    """Casefolded words written capitalised inside English sentences: names and titles, not German nouns."""
    found: set[str] = set()
    lower: set[str] = set()  # words also written in lower case are ordinary words ("other", "name")
    for chunk in chunks:
        if profile(chunk.lang).capitals_mark_names:
            text = names.normalize(chunk.text)
            for word in capitalised_inside_sentences(text):
                found.update(letter_words(word.casefold()))
            lower.update(lower_case_words(text))
    return frozenset(w for w in found - lower if w not in STOPWORDS and len(w) > 1)


def common_words(chunks: list[Chunk], share: float) -> frozenset[str]:
    """Words (casefolded, punctuation removed) that occur in more than share of all passages."""
    counts: Counter[str] = Counter()
    for chunk in chunks:
        counts.update({word_key(w) for w in chunk.text.split()})
    limit = share * len(chunks)
    return frozenset(w for w, n in counts.items() if n > limit and w)
