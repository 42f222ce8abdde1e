"""Store: the index folder on disk — manifest.json, passages as JSON lines, FAISS files; no pickle.

Writes are atomic (a new data-* folder, then one rename of manifest.json) and serialised by a lock
file; loading validates every file and never executes anything stored in them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag import ann
from rag.chunking import Chunk
from rag.errors import IndexCorruptError, IndexNotFoundError
from rag.names import NameNormalizer
from rag.text import split_sentences

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
VECTORS = "vectors.faiss"
SENTENCE_VECTORS = "sentences.faiss"
VOCABULARY = "vocabulary.json"
VOCABULARY_VECTORS = "vocabulary.faiss"
LOCK = ".build.lock"  # held while a build writes or cleans up: one writer per index folder
DATA_NAME = re.compile(r"data-[A-Za-z0-9_-]+")  # the only folder names a manifest may point to
ANN = "ann.faiss"


@dataclass
class Index:
    """A loaded index. Everything but the three files is derived here, on load."""

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
    exact_index: Any = None  # the flat index whose storage `vectors` views, when faiss_index is the ANN

    def search_parameters(self, lo: int, hi: int) -> Any:
        """FAISS search parameters restricting a search to rows [lo, hi) (one language), with nprobe."""
        import faiss

        nprobe = self.manifest.get("nprobe")
        if nprobe:
            sel = faiss.IDSelectorRange(lo, hi, True)  # True: ids are sorted in each list (added in order)
            return faiss.SearchParametersIVF(sel=sel, nprobe=int(nprobe))
        return faiss.SearchParameters(sel=faiss.IDSelectorRange(lo, hi))

    @property
    def ranges(self) -> dict[str, tuple[int, int]]:
        """Each language's contiguous row range (chunks are stored sorted by language)."""
        out: dict[str, tuple[int, int]] = {}
        for i, chunk in enumerate(self.chunks):
            lo, _ = out.get(chunk.lang, (i, i))
            out[chunk.lang] = (lo, i + 1)
        return out


def _sentence_owner(chunks: list[Chunk]) -> np.ndarray:
    """The chunk row of every sentence, in the order rag.index embeds them."""
    return np.array([row for row, c in enumerate(chunks) for _ in split_sentences(c.text)], dtype=np.int64)


def write_index_files(index_dir: Path, manifest: dict[str, Any], chunks: list[Chunk], vectors: np.ndarray,
           sentence_vectors: np.ndarray, vocabulary: dict[str, list[str]], vocab_vectors: np.ndarray) -> None:
    """Write data into a fresh folder, then switch manifest.json to it in one atomic rename.

    A build killed at any moment leaves the previous manifest, and the data it names, intact.
    """
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    data = f"data-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    folder = index_dir / data
    folder.mkdir()
    with open(folder / PASSAGES, "w", encoding="utf-8") as f:
        for chunk in chunks:
            f.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
    exact = faiss.IndexFlatIP(vectors.shape[1])  # the exact vectors, read back as a matrix
    exact.add(vectors)
    faiss.write_index(exact, str(folder / VECTORS))
    del exact
    if ann.ann_plan(len(vectors)) is not None:
        faiss.write_index(ann.make_faiss(vectors), str(folder / ANN))
    for name, matrix in ((SENTENCE_VECTORS, sentence_vectors), (VOCABULARY_VECTORS, vocab_vectors)):
        flat = faiss.IndexFlatIP(vectors.shape[1])  # read back as a matrix
        flat.add(np.ascontiguousarray(matrix, dtype=np.float32))
        faiss.write_index(flat, str(folder / name))
    (folder / VOCABULARY).write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
    manifest = {**manifest, "data": data}
    tmp = index_dir / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, index_dir / MANIFEST)
    remove_leftovers(index_dir, data)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's write lock (the OS releases it when a killed build's process dies)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: builds are not serialised, run one `rag index` at a time
        yield
        return
    with open(index_dir / LOCK, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_leftovers(index_dir: Path, keep: str) -> None:
    """Delete every data folder but keep, and temporary manifests: what builds killed part-way leave.

    Call with the build lock held, so no running build's files are taken.
    """
    for old in index_dir.glob("data-*"):
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for tmp in index_dir.glob(f".{MANIFEST}.*.tmp"):
        tmp.unlink(missing_ok=True)


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """Read and check manifest.json. Raises IndexNotFoundError or IndexCorruptError."""
    path = index_dir / MANIFEST
    if not path.is_file():
        raise IndexNotFoundError(f"no index in {index_dir}: run `rag index` to build it")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path} is unreadable ({exc}): rebuild with `rag index --force`") from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        found = manifest.get("format_version") if isinstance(manifest, dict) else None
        raise IndexCorruptError(f"index in {index_dir} has format version {found}, this program reads "
                                f"{FORMAT_VERSION}: rebuild with `rag index --force`")
    kinds = {"model": str, "dim": int, "data": str, "files": dict, "passages": int, "chunking": dict,
             "languages": dict}
    for key, kind in kinds.items():
        if key not in manifest:
            raise IndexCorruptError(f"{path} lacks {key!r}: rebuild with `rag index --force`")
        if not isinstance(manifest[key], kind):
            raise IndexCorruptError(f"{path} has a {type(manifest[key]).__name__} for {key!r}, not a "
                                    f"{kind.__name__}: rebuild with `rag index --force`")
    if not DATA_NAME.fullmatch(manifest["data"]):  # e.g. "../../etc": never read outside the index folder
        raise IndexCorruptError(f"{path} names {manifest['data'][:80]!r} as its data, not a data-* folder "
                                f"of {index_dir}: rebuild with `rag index --force`")
    return manifest


def load_index(index_dir: Path) -> Index:
    """Load an index; never executes anything stored in it.

    Raises:
        IndexNotFoundError: no manifest.
        IndexCorruptError: missing, truncated or inconsistent files, or another format version.
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
    """Load the data folder a checked manifest names."""
    import faiss

    folder = index_dir / manifest["data"]
    broken = f"index in {index_dir} is damaged ({{}}): rebuild with `rag index --force`"
    try:
        lines = (folder / PASSAGES).read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines]
        chunks = [Chunk(str(r["source"]), int(r["start"]), int(r["end"]), str(r["lang"]), str(r["text"]),
                        str(r["heading"]), int(r["line_start"]), int(r["line_end"])) for r in rows]
        mmap = faiss.IO_FLAG_MMAP_IFC if manifest["passages"] > ann.APPROXIMATE_ABOVE else 0  # large: map, not read
        vec_index = faiss.read_index(str(folder / VECTORS), mmap)
        approximate = faiss.read_index(str(folder / ANN), mmap) if manifest.get("nprobe") else None
        sent_index = faiss.read_index(str(folder / SENTENCE_VECTORS))
        vocab_index = faiss.read_index(str(folder / VOCABULARY_VECTORS))
        vocabulary = json.loads((folder / VOCABULARY).read_text(encoding="utf-8"))
        if not isinstance(vocabulary, dict) or not vocabulary or not all(
                isinstance(v, list) and all(isinstance(w, str) for w in v) for v in vocabulary.values()):
            raise ValueError("vocabulary.json is not a language → words map")
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, OverflowError) as exc:
        raise IndexCorruptError(broken.format(f"{type(exc).__name__}: {str(exc)[:120]}")) from None
    if len(chunks) != manifest["passages"] or vec_index.ntotal != len(chunks) or vec_index.d != manifest["dim"]:
        raise IndexCorruptError(broken.format("passage and vector counts disagree"))
    names = NameNormalizer.learn(c.text for c in chunks)
    owner = _sentence_owner(chunks)
    if sent_index.ntotal != len(owner) or sent_index.d != vec_index.d:
        raise IndexCorruptError(broken.format("sentence vectors do not match the passages"))
    vocab_matrix = ann.matrix_view(vocab_index).copy()
    if len(vocab_matrix) != sum(len(v) for v in vocabulary.values()):
        raise IndexCorruptError(broken.format("vocabulary vectors do not match the vocabulary"))
    splits = np.cumsum([len(vocabulary[lang]) for lang in sorted(vocabulary)])[:-1]
    vocab_vectors = dict(zip(sorted(vocabulary), np.split(vocab_matrix, splits), strict=True))
    # The passage matrix is a view kept alive by vec_index; the other indexes are dropped, so copy.
    if approximate is not None and (approximate.ntotal != len(chunks) or approximate.d != vec_index.d):
        raise IndexCorruptError(broken.format("the approximate index does not match the passages"))
    search = vec_index if approximate is None else approximate
    return Index(index_dir, manifest, chunks, ann.matrix_view(vec_index), search, names,
                 ann.matrix_view(sent_index).copy(), owner, vocabulary, vocab_vectors, exact_index=vec_index)


