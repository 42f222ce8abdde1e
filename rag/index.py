"""Index: passages (JSON lines) + vectors (FAISS) + manifest.json, written atomically, no pickle."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunking import Chunk, chunk_documents, split_sentences
from rag.config import Settings
from rag.corpus import load_corpus
from rag.embedding import Embedder, load_embedder
from rag.errors import CorpusError, IndexCorruptError, IndexNotFoundError, IndexStaleError
from rag.names import NameNormalizer
from rag.vocabulary import corpus_vocabulary

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
VECTORS = "vectors.faiss"
SENTENCE_VECTORS = "sentences.faiss"
VOCABULARY = "vocabulary.json"
VOCABULARY_VECTORS = "vocabulary.faiss"
HNSW_ABOVE = 200_000  # passages; below this exact search is fast enough and has perfect recall


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the CLI to print."""

    passages: int
    languages: dict[str, int]
    embedded: int
    reused: int
    seconds: float
    unchanged: bool


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

    @property
    def ranges(self) -> dict[str, tuple[int, int]]:
        """Each language's contiguous row range (chunks are stored sorted by language)."""
        out: dict[str, tuple[int, int]] = {}
        for i, chunk in enumerate(self.chunks):
            lo, _ = out.get(chunk.lang, (i, i))
            out[chunk.lang] = (lo, i + 1)
        return out


def embedding_key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _embedding_texts(chunks: list[Chunk], names: NameNormalizer) -> list[str]:
    return [names.normalize(c.embedding_text()) for c in chunks]


def _sentence_texts(chunks: list[Chunk], names: NameNormalizer) -> tuple[list[str], np.ndarray]:
    """Every chunk's sentences (with the chunk's heading), and the chunk row of each."""
    texts, owner = [], []
    for row, chunk in enumerate(chunks):
        for sentence in split_sentences(chunk.text):
            texts.append(names.normalize(f"{chunk.heading}: {sentence}" if chunk.heading else sentence))
            owner.append(row)
    return texts, np.array(owner, dtype=np.int64)


def build_index(settings: Settings, embedder: Embedder | None = None, force: bool = False,
                progress: bool = False, strict: bool = False) -> BuildReport:
    """Build or update the index for settings.corpus_dir in settings.index_dir.

    Only passages whose embedding text is new are embedded; the rest reuse their stored vectors.

    Args:
        settings: corpus, index folder, model and chunking.
        embedder: an already loaded embedder for settings.model (loaded here if None).
        force: re-embed everything.
        progress: show a progress bar on stderr.
        strict: fail on unusable corpus files instead of skipping them.

    Returns:
        A BuildReport.
    """
    t0 = time.perf_counter()
    docs = load_corpus(settings.corpus_dir, strict=strict)
    chunks = sorted(chunk_documents(docs, settings.chunk_size, settings.chunk_overlap),
                    key=lambda c: (c.lang, c.source, c.start))
    if not chunks:
        raise CorpusError(f"no usable text in {settings.corpus_dir}: add .txt or .md files, then run `rag index`")
    names = NameNormalizer.learn(c.text for c in chunks)
    chunk_texts = _embedding_texts(chunks, names)
    sentence_texts, _ = _sentence_texts(chunks, names)
    by_lang: dict[str, list[str]] = {}
    for c in chunks:
        by_lang.setdefault(c.lang, []).append(c.text)
    vocabulary = corpus_vocabulary(by_lang)
    vocab_words = [w for lang in sorted(vocabulary) for w in vocabulary[lang]]
    texts = chunk_texts + sentence_texts + vocab_words  # one embedding cache serves all vectors
    keys = [embedding_key(t) for t in texts]
    files = {d.source: d.sha256 for d in docs}
    old = _reusable(settings, force)
    if old is not None and old.manifest["files"] == files and len(old.chunks) == len(chunks):
        return BuildReport(len(chunks), old.manifest["languages"], 0, len(chunks), time.perf_counter() - t0, True)
    cached = {} if old is None else _cached_vectors(old)
    todo = [i for i, key in enumerate(keys) if key not in cached]
    if todo:
        embedder = embedder or load_embedder(settings.model)
        bar = _bar(len(todo), progress)
        new = embedder.embed([texts[i] for i in todo], progress=bar.update)
        bar.close()
        cached.update({keys[i]: v for i, v in zip(todo, new, strict=True)})
    vectors = np.vstack([cached[k] for k in keys]).astype(np.float32)
    n, m = len(chunks), len(chunks) + len(sentence_texts)
    chunk_vectors, sentence_vectors, vocab_vectors = vectors[:n], vectors[n:m], vectors[m:]
    languages: dict[str, int] = {}
    for c in chunks:
        languages[c.lang] = languages.get(c.lang, 0) + 1
    manifest = {
        "format_version": FORMAT_VERSION,
        "model": settings.model,
        "dim": int(vectors.shape[1]),
        "sentences": len(sentence_texts),
        "chunking": {"chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap,
                     "splitter": "langchain RecursiveCharacterTextSplitter"},
        "files": files,
        "passages": len(chunks),
        "languages": languages,
        "faiss": "hnsw" if len(chunks) > HNSW_ABOVE else "flat",
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write(settings.index_dir, manifest, chunks, chunk_vectors, sentence_vectors, vocabulary, vocab_vectors)
    return BuildReport(len(chunks), languages, len(todo), len(keys) - len(todo),
                       time.perf_counter() - t0, False)


def _bar(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="embedding passages", unit="passage", disable=not enabled)


def _reusable(settings: Settings, force: bool) -> Index | None:
    """The current index, if its vectors can be reused for this build."""
    if force:
        return None
    try:
        old = load_index(settings.index_dir)
    except (IndexNotFoundError, IndexCorruptError):
        return None
    chunking = old.manifest["chunking"]
    same = (old.manifest["model"] == settings.model
            and chunking.get("chunk_size") == settings.chunk_size
            and chunking.get("chunk_overlap") == settings.chunk_overlap)
    return old if same else None


def _cached_vectors(index: Index) -> dict[str, np.ndarray]:
    """Embedding key → vector for everything the index holds (keys derived from the texts)."""
    vocab = [w for lang in sorted(index.vocabulary) for w in index.vocabulary[lang]]
    texts = _embedding_texts(index.chunks, index.names) + _sentence_texts(index.chunks, index.names)[0] + vocab
    vectors = np.vstack([index.vectors, index.sentence_vectors,
                         *(index.vocabulary_vectors[lang] for lang in sorted(index.vocabulary))])
    return dict(zip((embedding_key(t) for t in texts), vectors, strict=True))


def _make_faiss(vectors: np.ndarray) -> Any:
    import faiss

    dim = vectors.shape[1]
    if len(vectors) > HNSW_ABOVE:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(vectors)
    return index


def _write(index_dir: Path, manifest: dict[str, Any], chunks: list[Chunk], vectors: np.ndarray,
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
    faiss.write_index(_make_faiss(vectors), str(folder / VECTORS))
    for name, matrix in ((SENTENCE_VECTORS, sentence_vectors), (VOCABULARY_VECTORS, vocab_vectors)):
        flat = faiss.IndexFlatIP(vectors.shape[1])  # read back as a matrix
        flat.add(np.ascontiguousarray(matrix, dtype=np.float32))
        faiss.write_index(flat, str(folder / name))
    (folder / VOCABULARY).write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
    manifest = {**manifest, "data": data}
    tmp = index_dir / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, index_dir / MANIFEST)
    for old in index_dir.glob("data-*"):
        if old.name != data:
            shutil.rmtree(old, ignore_errors=True)


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
    for key in ("model", "dim", "data", "files", "passages", "chunking"):
        if key not in manifest:
            raise IndexCorruptError(f"{path} lacks {key!r}: rebuild with `rag index --force`")
    return manifest


def load_index(index_dir: Path) -> Index:
    """Load an index; never executes anything stored in it.

    Raises:
        IndexNotFoundError: no manifest.
        IndexCorruptError: missing, truncated or inconsistent files, or another format version.
    """
    import faiss

    manifest = read_manifest(index_dir)
    folder = index_dir / str(manifest["data"])
    broken = f"index in {index_dir} is damaged ({{}}): rebuild with `rag index --force`"
    try:
        lines = (folder / PASSAGES).read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines]
        chunks = [Chunk(str(r["source"]), int(r["start"]), int(r["end"]), str(r["lang"]), str(r["text"]),
                        str(r["heading"]), int(r["line_start"]), int(r["line_end"])) for r in rows]
        vec_index = faiss.read_index(str(folder / VECTORS))
        sent_index = faiss.read_index(str(folder / SENTENCE_VECTORS))
        vocab_index = faiss.read_index(str(folder / VOCABULARY_VECTORS))
        vocabulary = json.loads((folder / VOCABULARY).read_text(encoding="utf-8"))
        if not isinstance(vocabulary, dict) or not all(isinstance(v, list) for v in vocabulary.values()):
            raise ValueError("vocabulary.json is not a language → words map")
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexCorruptError(broken.format(f"{type(exc).__name__}: {str(exc)[:120]}")) from None
    if len(chunks) != manifest["passages"] or vec_index.ntotal != len(chunks) or vec_index.d != manifest["dim"]:
        raise IndexCorruptError(broken.format("passage and vector counts disagree"))
    names = NameNormalizer.learn(c.text for c in chunks)
    owner = _sentence_texts(chunks, names)[1]
    if sent_index.ntotal != len(owner) or sent_index.d != vec_index.d:
        raise IndexCorruptError(broken.format("sentence vectors do not match the passages"))
    vocab_matrix = _matrix(vocab_index).copy()
    if len(vocab_matrix) != sum(len(v) for v in vocabulary.values()):
        raise IndexCorruptError(broken.format("vocabulary vectors do not match the vocabulary"))
    splits = np.cumsum([len(vocabulary[lang]) for lang in sorted(vocabulary)])[:-1]
    vocab_vectors = dict(zip(sorted(vocabulary), np.split(vocab_matrix, splits), strict=True))
    # The passage matrix is a view kept alive by vec_index; the other indexes are dropped, so copy.
    return Index(index_dir, manifest, chunks, _matrix(vec_index), vec_index, names,
                 _matrix(sent_index).copy(), owner, vocabulary, vocab_vectors)


def _matrix(vec_index: Any) -> np.ndarray:
    """The stored vectors of a flat or HNSW index as a numpy view (no copy)."""
    import faiss

    storage = faiss.downcast_index(vec_index.storage) if hasattr(vec_index, "storage") else vec_index
    n, d = vec_index.ntotal, vec_index.d
    return faiss.rev_swig_ptr(storage.get_xb(), n * d).reshape(n, d)


def stale_reason(manifest: dict[str, Any], settings: Settings) -> str | None:
    """Why an index does not match the corpus and settings, or None when it does."""
    if manifest["model"] != settings.model:
        return f"it was built with model {manifest['model']!r}, the setting is {settings.model!r}"
    chunking = manifest["chunking"]
    if (chunking.get("chunk_size"), chunking.get("chunk_overlap")) != (settings.chunk_size,
                                                                          settings.chunk_overlap):
        return "it was built with other chunking settings"
    from rag.corpus import content_hash, discover

    try:
        paths = discover(settings.corpus_dir)
    except CorpusError:
        return None  # no corpus to compare with: the index is all there is
    current = {}
    for p in paths:
        try:
            current[p.relative_to(settings.corpus_dir).as_posix()] = content_hash(p.read_bytes())
        except OSError:
            continue
    stored = manifest["files"]
    changed = sorted(set(current) ^ set(stored) | {s for s in current if stored.get(s, current[s]) != current[s]})
    # Files skipped at build time (binary, empty) have no stored hash but are not news.
    changed = [s for s in changed if s in stored or _usable(settings.corpus_dir / s)]
    if changed:
        return f"corpus files changed since the build: {', '.join(changed[:5])}"
    return None


def _usable(path: Path) -> bool:
    from rag.corpus import read_document

    return read_document(path, path.parent) is not None


def check_fresh(index: Index, settings: Settings) -> None:
    """Raise IndexStaleError naming the fix when the index does not match corpus and settings."""
    reason = stale_reason(index.manifest, settings)
    if reason:
        raise IndexStaleError(f"index in {index.path} is stale: {reason}; run `rag index` to update it")
