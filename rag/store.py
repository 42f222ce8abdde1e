"""Store: the index folder on disk — manifest.json, passages as JSON lines, FAISS files; no pickle.

Writes (rag.writer) are atomic: a new data-* folder, then one rename of manifest.json, serialised by a
lock file. Loading checks every file's size and hash against the manifest before parsing it, never
follows a symlink out of the index folder, and never executes anything stored in the files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from rag import ann
from rag.chunking import Chunk
from rag.errors import IndexCorruptError
from rag.files import ChecksumError, Folder, read_bytes, read_faiss
from rag.fingerprint import pipeline_fingerprint
from rag.manifest import (
    ANN,
    DATA_NAME,
    EVERYDAY,
    EVERYDAY_VECTORS,
    FORMAT_VERSION,
    MANIFEST,
    NAMES,
    PASSAGES,
    SENTENCE_VECTORS,
    VECTORS,
    VOCABULARY,
    VOCABULARY_VECTORS,
    describe,
    model_to_load,
    read_manifest,
)
from rag.names import NameNormalizer
from rag.text import split_sentences
from rag.writer import LOCK, build_lock, check_writable, remove_leftovers, write_index_files

# Re-exported: rag.store is where the rest of the package finds the index on disk.
__all__ = ["ANN", "DATA_NAME", "FORMAT_VERSION", "LOCK", "MANIFEST", "PASSAGES", "SENTENCE_VECTORS", "VECTORS",
           "VOCABULARY", "VOCABULARY_VECTORS", "Index", "build_lock", "check_writable", "load_index", "model_to_load",
           "read_manifest", "remove_leftovers", "write_index_files"]


@dataclass
class Index:
    """A loaded index. Everything but the stored files is derived here, on load."""

    path: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    vectors: np.ndarray  # (n, dim) float32, rows of unit length, in chunk order
    faiss_index: Any
    names: NameNormalizer
    sentence_vectors: np.ndarray  # (m, dim): every sentence of every chunk, in chunk order
    sentence_owner: np.ndarray  # (m,) int: the chunk row each sentence belongs to
    vocabulary: dict[str, list[str]]  # language → its passages' content words
    vocabulary_vectors: dict[str, np.ndarray]  # language → (words, dim)
    everyday_words: list[str]  # frequent words of the languages (not the corpus's), most frequent first
    everyday_vectors: np.ndarray  # (words, dim), embedded as queries like the corpus's words
    exact_index: Any = None  # the flat index whose storage `vectors` views, when faiss_index is the ANN

    def candidates(self, vector: np.ndarray, lo: int, hi: int, n: int) -> np.ndarray:
        """Rows of [lo, hi) (one language), counted from lo, of the n passages nearest to vector."""
        return ann.candidates(self.faiss_index, vector, lo, hi, n, self.manifest.get("nprobe"))

    @cached_property
    def passage_ids(self) -> np.ndarray:
        """Each passage's row id (rag.index.rows), in row order; computed once."""
        from rag.index.rows import passage_id

        return np.array([passage_id(c) for c in self.chunks], dtype=np.int64)

    @cached_property
    def ranges(self) -> dict[str, tuple[int, int]]:
        """Each language's contiguous row range (chunks are stored sorted by language; computed once)."""
        out: dict[str, tuple[int, int]] = {}
        for i, chunk in enumerate(self.chunks):
            lo, _ = out.get(chunk.lang, (i, i))
            out[chunk.lang] = (lo, i + 1)
        return out


def _sentence_owner(chunks: list[Chunk], counts: list[int], check: bool) -> np.ndarray | None:
    """The chunk row of every sentence vector, from each passage row's stored count; None if a count
    disagrees with the passage's sentences as rag.text splits them (the vectors would be misattributed).

    check: split the passages to compare (an index built by other ingestion code; with this code's the
    stored counts are its splits, and checksummed).
    """
    if check and any(n != len(split_sentences(c.text)) for c, n in zip(chunks, counts, strict=True)):
        return None
    return np.repeat(np.arange(len(chunks), dtype=np.int64), counts)


def load_index(index_dir: Path) -> Index:
    """Load an index; never executes anything stored in it.

    Raises:
        IndexNotFoundError: no manifest.
        IndexStaleError: written by an older version of this program.
        IndexCorruptError: missing, symlinked, truncated, altered (checksums) or inconsistent files, or a
            newer format version.
    """
    for attempt in range(3):
        manifest = read_manifest(index_dir)
        try:
            return _load_data(index_dir, manifest)
        except IndexCorruptError:
            # A rebuild may have switched the manifest and removed the data being read: read the new one.
            if attempt == 2 or read_manifest(index_dir)["data"] == manifest["data"]:
                raise
    raise AssertionError("unreachable")


def _load_data(index_dir: Path, manifest: dict[str, Any]) -> Index:
    """Load the data folder a checked manifest names: every file's size and hash checked before it is parsed."""
    sums = manifest["checksums"]
    broken = f"index in {index_dir} is damaged ({{}}): rebuild with `rag index --force`"
    mmap = manifest["passages"] > ann.APPROXIMATE_ABOVE  # large: map the vector files, do not read them
    try:
        with Folder(index_dir / manifest["data"]) as folder:  # refused if it is a symlink
            lines = read_bytes(folder, PASSAGES, sums[PASSAGES], sums[PASSAGES]["size"]).decode().splitlines()
            rows = [json.loads(line) for line in lines]
            chunks = [Chunk(str(r["source"]), int(r["start"]), int(r["end"]), str(r["lang"]), str(r["text"]),
                            str(r["heading"]), int(r["line_start"]), int(r["line_end"]), str(r.get("place", "")))
                      for r in rows]
            sentence_counts = [int(r["sentences"]) for r in rows]
            vec_index = read_faiss(folder, VECTORS, sums[VECTORS], mmap)
            approximate = (ann.for_search(read_faiss(folder, ANN, sums[ANN], mmap)) if manifest.get("nprobe")
                           else None)
            sent_index = read_faiss(folder, SENTENCE_VECTORS, sums[SENTENCE_VECTORS])
            vocab_index = read_faiss(folder, VOCABULARY_VECTORS, sums[VOCABULARY_VECTORS])
            vocabulary = json.loads(read_bytes(folder, VOCABULARY, sums[VOCABULARY], sums[VOCABULARY]["size"]))
            everyday_index = read_faiss(folder, EVERYDAY_VECTORS, sums[EVERYDAY_VECTORS])
            everyday = json.loads(read_bytes(folder, EVERYDAY, sums[EVERYDAY], sums[EVERYDAY]["size"]))
            learned = json.loads(read_bytes(folder, NAMES, sums[NAMES], sums[NAMES]["size"])) if NAMES in sums else None
        if not isinstance(vocabulary, dict) or not vocabulary or not all(
                isinstance(v, list) and all(isinstance(w, str) for w in v) for v in vocabulary.values()):
            raise ValueError("vocabulary.json is not a language → words map")
        if not isinstance(everyday, list) or not all(isinstance(w, str) for w in everyday):
            raise ValueError("everyday.json is not a list of words")
        if learned is not None and not (isinstance(learned, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in learned.items())):
            raise ValueError("names.json is not a name key → spelling map")
    except ChecksumError as exc:
        raise IndexCorruptError(broken.format(exc)) from None
    except OSError as exc:
        name = Path(exc.filename or manifest["data"]).name
        raise IndexCorruptError(broken.format(f"{name} {describe(exc)}")) from None
    except (ValueError, KeyError, TypeError, RuntimeError, OverflowError, RecursionError) as exc:
        raise IndexCorruptError(broken.format(f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}")) from None
    if len(chunks) != manifest["passages"] or vec_index.ntotal != len(chunks) or vec_index.d != manifest["dim"]:
        raise IndexCorruptError(broken.format("passage and vector counts disagree"))
    ours = manifest.get("pipeline") == pipeline_fingerprint()  # built by this ingestion code
    names = NameNormalizer(learned) if ours and learned is not None else NameNormalizer.learn(c.text for c in chunks)
    owner = _sentence_owner(chunks, sentence_counts, not ours)
    if owner is None or sent_index.ntotal != len(owner) or sent_index.d != vec_index.d:
        raise IndexCorruptError(broken.format("sentence vectors do not match the passages"))
    vocab_matrix = ann.matrix_view(vocab_index).copy()
    if len(vocab_matrix) != sum(len(v) for v in vocabulary.values()):
        raise IndexCorruptError(broken.format("vocabulary vectors do not match the vocabulary"))
    everyday_vectors = ann.matrix_view(everyday_index).copy()
    if len(everyday_vectors) != len(everyday) or everyday_index.d != vec_index.d:
        raise IndexCorruptError(broken.format("everyday word vectors do not match the words"))
    splits = np.cumsum([len(vocabulary[lang]) for lang in sorted(vocabulary)])[:-1]
    vocab_vectors = dict(zip(sorted(vocabulary), np.split(vocab_matrix, splits), strict=True))
    # The passage matrix is a view kept alive by vec_index; the other indexes are dropped, so copy.
    if approximate is not None and (approximate.ntotal != len(chunks) or approximate.d != vec_index.d):
        raise IndexCorruptError(broken.format("the approximate index does not match the passages"))
    search = vec_index if approximate is None else approximate
    return Index(index_dir, manifest, chunks, ann.matrix_view(vec_index), search, names,
                 ann.matrix_view(sent_index).copy(), owner, vocabulary, vocab_vectors, everyday, everyday_vectors,
                 exact_index=vec_index)


