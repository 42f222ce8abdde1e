"""Vector cache: the key of every text an index embeds, and the vectors an existing index already holds.

A build embeds only texts whose key is new: passages and sentences (as passages), the corpus's words
and the everyday words (as queries, the way a question's words are embedded). While the names learned
are the same, a passage or sentence written as before takes its old vector by its text as written,
without normalising names or hashing (at 100,000 passages that was most of a one-file rebuild).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag.chunking import Chunk
from rag.embedding import Embedder, Kind
from rag.fingerprint import pipeline_fingerprint
from rag.names import NameNormalizer
from rag.store import Index
from rag.text import split_sentences


def embedding_key(text: str, kind: Kind = "passage") -> str:
    """The cache key of a text's vector: the same text embeds differently as a query (e5 prefixes)."""
    return hashlib.blake2b(f"{kind}\0{text}".encode(), digest_size=8).hexdigest()


def keys(passage_texts: list[str], words: list[str]) -> list[str]:
    """Cache keys of passages and sentences (embedded as passages) followed by words (embedded as queries)."""
    return [embedding_key(t) for t in passage_texts] + [embedding_key(w, "query") for w in words]


class Memo:
    """A NameNormalizer that remembers its results, and each passage's sentences, so an update normalises
    and splits each unchanged text once (the new passages, the old index's, the sentence counts)."""

    def __init__(self, names: NameNormalizer) -> None:
        self.names = names
        self.seen: dict[str, str] = {}
        self.split: dict[str, list[str]] = {}

    def normalize(self, text: str) -> str:
        out = self.seen.get(text)
        if out is None:
            out = self.seen[text] = self.names.normalize(text)
        return out

    def sentences(self, text: str) -> list[str]:
        """split_sentences(text), remembered."""
        out = self.split.get(text)
        if out is None:
            out = self.split[text] = split_sentences(text)
        return out


def embedding_texts(chunks: list[Chunk], names: NameNormalizer | Memo) -> list[str]:
    """What each chunk's vector is made from: its text with its heading, names normalised."""
    return [names.normalize(c.embedding_text()) for c in chunks]


def sentence_texts(chunks: list[Chunk], names: NameNormalizer | Memo) -> list[str]:
    """Every chunk's sentences, each with the chunk's heading (rag.store derives which chunk owns which)."""
    split = names.sentences if isinstance(names, Memo) else split_sentences
    return [names.normalize(sentence_text(chunk, sentence)) for chunk in chunks for sentence in split(chunk.text)]


def sentence_text(chunk: Chunk, sentence: str) -> str:
    """What a sentence's vector is made from: the sentence with its passage's heading, as the passage's is."""
    return f"{chunk.heading}: {sentence}" if chunk.heading else sentence


def embed(embedder: Embedder, texts: list[str], keys: list[str], todo: list[int], word_from: int,
          progress: Callable[[int], None]) -> dict[str, np.ndarray]:
    """Key → vector of the texts at positions todo: those before word_from as passages, the rest as queries."""
    out: dict[str, np.ndarray] = {}
    kinds: list[tuple[Kind, list[int]]] = [("passage", [i for i in todo if i < word_from]),
                                           ("query", [i for i in todo if i >= word_from])]
    for kind, part in kinds:
        new = embedder.embed([texts[i] for i in part], progress=progress, kind=kind)
        out.update({keys[i]: v for i, v in zip(part, new, strict=True)})
    return out


def cached_vectors(index: Index, names: NameNormalizer | Memo) -> dict[str, np.ndarray]:
    """Embedding key → vector for everything the index holds (keys derived from the texts).

    names must normalise as index.names does (it may be a memo of the new build's texts).
    """
    vocab = [w for lang in sorted(index.vocabulary) for w in index.vocabulary[lang]]
    found = keys(embedding_texts(index.chunks, names) + sentence_texts(index.chunks, names),
                 vocab + index.everyday_words)
    vectors = np.vstack([index.vectors, index.sentence_vectors,
                         *(index.vocabulary_vectors[lang] for lang in sorted(index.vocabulary)),
                         index.everyday_vectors])
    return dict(zip(found, vectors, strict=True))


@dataclass(frozen=True)
class Plan:
    """Where each vector of a build comes from. Rows are the passages, the sentences, then the words."""

    from_old: np.ndarray  # per passage or sentence row: its row in the old index (passages, then sentences), or -1
    texts: list[str]  # what the other rows are embedded from, in row order: names normalised; then the words
    keys: list[str]  # their cache keys
    cached: dict[str, np.ndarray]  # key → vector already at hand (the old index's, the package's)
    sentence_counts: list[int]  # each passage's sentences (its rows among the sentences)

    @property
    def word_from(self) -> int:
        """Where the words start in texts and keys."""
        return int((self.from_old < 0).sum())

    def vectors(self, old: Index | None, dim: int) -> np.ndarray:
        """Every row's vector (float32): reused rows gathered from the old index, the rest from cached."""
        out = np.empty((len(self.from_old) + len(self.keys) - self.word_from, dim), dtype=np.float32)
        reused = np.flatnonzero(self.from_old >= 0)
        if old is not None and len(reused):
            rows, n = self.from_old[reused], len(old.vectors)
            out[reused[rows < n]] = old.vectors[rows[rows < n]]
            out[reused[rows >= n]] = old.sentence_vectors[rows[rows >= n] - n]
        fresh = np.concatenate([np.flatnonzero(self.from_old < 0), np.arange(len(self.from_old), len(out))])
        if len(fresh):
            out[fresh] = np.vstack([self.cached[k] for k in self.keys])
        return out


def plan(chunks: list[Chunk], words: list[str], memo: Memo, old: Index | None) -> Plan:
    """Where each vector comes from (words: the corpus's then the everyday words).

    An old index built by this ingestion code with the same names: a passage written as before keeps its
    row and its sentences' rows without being split again; a new passage's texts written as in an old
    passage that is gone keep theirs. Otherwise the old vectors are found by key (the old texts
    normalised as the old index did).
    """
    same = (old is not None and old.names.canonical == memo.names.canonical
            and old.manifest.get("pipeline") == pipeline_fingerprint())
    first, count = _sentence_rows(old) if same and old else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    kept = {(c.heading, c.text): i for i, c in enumerate(old.chunks)} if same and old else {}
    passage_rows: list[int] = []
    sentence_rows: list[int] = []
    counts: list[int] = []
    raw_passages: list[str] = []
    raw_sentences: list[str] = []
    for c in chunks:
        i = kept.get((c.heading, c.text), -1)
        if i >= 0:
            sentence_rows.extend(range(int(first[i]), int(first[i] + count[i])))
            counts.append(int(count[i]))
        else:
            sentences = [sentence_text(c, s) for s in memo.sentences(c.text)]
            sentence_rows.extend([-1] * len(sentences))
            counts.append(len(sentences))
            raw_passages.append(c.embedding_text())
            raw_sentences.extend(sentences)
        passage_rows.append(i)
    from_old = np.array(passage_rows + sentence_rows, dtype=np.int64)
    raw = raw_passages + raw_sentences  # the rows not reused, in row order
    if raw and same and old:
        written = _gone_texts(old, chunks, memo, first)
        todo = np.flatnonzero(from_old < 0)
        found = [written.get(t, -1) for t in raw]
        from_old[todo] = found
        raw = [t for t, row in zip(raw, found, strict=True) if row < 0]
    texts = [memo.normalize(t) for t in raw] + words
    keyed = keys(texts[: len(raw)], words)
    if old is None:
        cached: dict[str, np.ndarray] = {}
    elif same:  # the words' vectors by key; the passages' and sentences' were taken by row
        vocab = [w for lang in sorted(old.vocabulary) for w in old.vocabulary[lang]] + old.everyday_words
        cached = dict(zip(keys([], vocab), np.vstack([*(old.vocabulary_vectors[lang] for lang in
                                                        sorted(old.vocabulary)), old.everyday_vectors]), strict=True))
    else:
        cached = cached_vectors(old, old.names)
    return Plan(from_old, texts, keyed, cached, counts)


def _sentence_rows(old: Index) -> tuple[np.ndarray, np.ndarray]:
    """Each old passage's first sentence row (rows counted after the passages) and how many it has."""
    count = np.bincount(old.sentence_owner, minlength=len(old.chunks)).astype(np.int64)
    return len(old.chunks) + np.cumsum(count) - count, count


def _gone_texts(old: Index, chunks: list[Chunk], memo: Memo, first: np.ndarray) -> dict[str, int]:
    """Text as written → row, of the old passages no new passage repeats, and of their sentences."""
    now = {(c.heading, c.text) for c in chunks}
    out: dict[str, int] = {}
    for i, c in enumerate(old.chunks):
        if (c.heading, c.text) not in now:
            out[c.embedding_text()] = i
            for j, sentence in enumerate(memo.sentences(c.text)):
                out[sentence_text(c, sentence)] = int(first[i]) + j
    return out
