"""Rows: every stored vector with a stable id, its kind, its language and its owner.

An id is derived from what the vector stands for — kind, source file, span and text for a passage; its
passage and place (which, with the passage's text, fix its text) for a sentence; language and word for a
word — so a rebuild of unchanged text keeps its ids and changed text gets new ones. A sentence is owned
by its passage; a passage and a word own themselves, so "the rows of these passages" is one filter on the
owner for every kind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.chunking import Chunk
from rag.text import split_sentences

PASSAGE, SENTENCE, WORD = "passage", "sentence", "word"
KINDS = (PASSAGE, SENTENCE, WORD)


def row_id(kind: str, *parts: object) -> int:
    """A stable 63-bit id (a positive int64, what Milvus takes as a primary key) of kind and its parts."""
    digest = hashlib.sha256("\0".join([kind, *map(str, parts)]).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def passage_id(chunk: Chunk) -> int:
    """The id of a passage: its file, its span and its text."""
    return row_id(PASSAGE, chunk.source, chunk.start, chunk.end, chunk.embedding_text())


def numbered(owners: np.ndarray, ordinals: np.ndarray) -> np.ndarray:
    """Ids of the owners' numbered parts (a passage's sentences): splitmix64 of (owner, ordinal), 63 bits.

    Vectorised, where a hash per row would cost seconds at a few hundred thousand sentences.
    """
    with np.errstate(over="ignore"):
        z = owners.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + ordinals.astype(np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(1)).astype(np.int64)


def sentence_ids(chunk: Chunk) -> list[int]:
    """The ids of a passage's sentences, in their order (as rag.text splits them)."""
    count = len(split_sentences(chunk.text))
    return numbered(np.full(count, passage_id(chunk), dtype=np.int64), np.arange(count)).tolist()


def sentence_ids_of(passage_ids: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """The id of every sentence row, from its passage's row (owner: sorted, sentences passage after passage)."""
    starts = np.searchsorted(owner, np.arange(len(passage_ids)))
    return numbered(passage_ids[owner], np.arange(len(owner)) - starts[owner])


def word_id(lang: str, word: str) -> int:
    """The id of a corpus word's vector in one language."""
    return row_id(WORD, lang, word)


@dataclass(frozen=True)
class Rows:
    """Vectors with their ids, kinds, languages and owners, aligned by position."""

    ids: np.ndarray  # (n,) int64
    kinds: np.ndarray  # (n,) str
    langs: np.ndarray  # (n,) str
    owners: np.ndarray  # (n,) int64: a sentence's passage; a passage or a word itself
    vectors: np.ndarray  # (n, dim) float32, unit length

    def __post_init__(self) -> None:
        n = len(self.ids)
        if not (len(self.kinds) == len(self.langs) == len(self.owners) == len(self.vectors) == n):
            raise ValueError("rows: ids, kinds, languages, owners and vectors differ in length")
        if len(np.unique(self.ids)) != n:
            raise ValueError("rows: an id occurs twice")

    def __len__(self) -> int:
        return len(self.ids)

    def select(self, keep: np.ndarray) -> Rows:
        """The rows where keep (a boolean mask or positions) is set."""
        return Rows(self.ids[keep], self.kinds[keep], self.langs[keep], self.owners[keep], self.vectors[keep])


def make_rows(ids: Sequence[int] | np.ndarray, kind: str, langs: Sequence[str], owners: Sequence[int] | np.ndarray,
              vectors: np.ndarray) -> Rows:
    """Rows of one kind from lists or arrays (vectors that are float32 already are kept, not copied)."""
    return Rows(np.asarray(ids, dtype=np.int64).reshape(-1), np.full(len(ids), kind, dtype=object),
                np.asarray(langs, dtype=object).reshape(-1), np.asarray(owners, dtype=np.int64).reshape(-1),
                np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1))


def join(parts: list[Rows]) -> Rows:
    """Several row sets as one."""
    return Rows(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("ids", "kinds", "langs", "owners",
                                                                          "vectors")))


def index_rows(chunks: list[Chunk], vectors: np.ndarray, sentence_vectors: np.ndarray, sentence_owner: np.ndarray,
               vocabulary: dict[str, list[str]], vocabulary_vectors: dict[str, np.ndarray]) -> Rows:
    """Every row of a loaded index: its passages, their sentences (in passage order) and its words.

    Args:
        chunks: the passages, in the order of vectors' rows.
        vectors: (passages, dim).
        sentence_vectors: every passage's sentences, passage after passage; sentence_owner: each one's passage row.
        vocabulary: language → its corpus words; vocabulary_vectors: language → (words, dim).
    """
    pids = np.array([passage_id(c) for c in chunks], dtype=np.int64)
    owner = np.asarray(sentence_owner, dtype=np.int64)
    ids = index_row_ids(pids, owner, vocabulary)  # passages, their sentences, each language's words
    n, m = len(pids), len(owner)
    langs = np.array([c.lang for c in chunks], dtype=object)
    word_langs = np.array([lang for lang in sorted(vocabulary) for _ in vocabulary[lang]], dtype=object)
    kinds = np.array([PASSAGE] * n + [SENTENCE] * m + [WORD] * len(word_langs), dtype=object)
    words = [np.asarray(vocabulary_vectors[lang], dtype=np.float32) for lang in sorted(vocabulary)]
    return Rows(ids, kinds, np.concatenate([langs, langs[owner], word_langs]),
                np.concatenate([pids, pids[owner], ids[n + m:]]),
                np.concatenate([np.asarray(vectors, dtype=np.float32), sentence_vectors, *words]))


def index_row_ids(passage_ids: np.ndarray, sentence_owner: np.ndarray, vocabulary: dict[str, list[str]]) -> np.ndarray:
    """The ids of every row index_rows makes, without its vectors (what a store should hold for an index).

    Args:
        passage_ids: each passage's id (rag.store.Index.passage_ids); sentence_owner: each sentence's passage row.
        vocabulary: language → its corpus words.
    """
    pids = np.asarray(passage_ids, dtype=np.int64)
    words = [word_id(lang, w) for lang in sorted(vocabulary) for w in vocabulary[lang]]
    return np.concatenate([pids, sentence_ids_of(pids, np.asarray(sentence_owner, dtype=np.int64)),
                           np.asarray(words, dtype=np.int64)])
