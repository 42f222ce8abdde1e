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

from rag.chunking import Chunk, chunk_documents
from rag.config import Settings
from rag.corpus import load_corpus
from rag.embedding import Embedder, load_embedder
from rag.errors import CorpusError, IndexCorruptError, IndexNotFoundError, IndexStaleError
from rag.names import NameNormalizer

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
VECTORS = "vectors.faiss"
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
    texts = _embedding_texts(chunks, names)
    keys = [embedding_key(t) for t in texts]
    files = {d.source: d.sha256 for d in docs}
    old = _reusable(settings, force)
    if old is not None and old.manifest["files"] == files and len(old.chunks) == len(chunks):
        return BuildReport(len(chunks), old.manifest["languages"], 0, len(chunks), time.perf_counter() - t0, True)
    cached = {} if old is None else dict(zip(_stored_keys(old), old.vectors, strict=True))
    todo = [i for i, key in enumerate(keys) if key not in cached]
    if todo:
        embedder = embedder or load_embedder(settings.model)
        bar = _bar(len(todo), progress)
        new = embedder.embed([texts[i] for i in todo], progress=bar.update)
        bar.close()
        cached.update({keys[i]: v for i, v in zip(todo, new, strict=True)})
    vectors = np.vstack([cached[k] for k in keys]).astype(np.float32)
    languages: dict[str, int] = {}
    for c in chunks:
        languages[c.lang] = languages.get(c.lang, 0) + 1
    manifest = {
        "format_version": FORMAT_VERSION,
        "model": settings.model,
        "dim": int(vectors.shape[1]),
        "chunking": {"chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap,
                     "splitter": "langchain RecursiveCharacterTextSplitter"},
        "files": files,
        "passages": len(chunks),
        "languages": languages,
        "faiss": "hnsw" if len(chunks) > HNSW_ABOVE else "flat",
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write(settings.index_dir, manifest, chunks, keys, vectors)
    return BuildReport(len(chunks), languages, len(todo), len(chunks) - len(todo),
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


def _stored_keys(index: Index) -> list[str]:
    return [embedding_key(t) for t in _embedding_texts(index.chunks, index.names)]


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


def _write(index_dir: Path, manifest: dict[str, Any], chunks: list[Chunk], keys: list[str],
           vectors: np.ndarray) -> None:
    """Write data into a fresh folder, then switch manifest.json to it in one atomic rename.

    A build killed at any moment leaves the previous manifest, and the data it names, intact.
    """
    import faiss

    index_dir.mkdir(parents=True, exist_ok=True)
    data = f"data-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    folder = index_dir / data
    folder.mkdir()
    with open(folder / PASSAGES, "w", encoding="utf-8") as f:
        for chunk, key in zip(chunks, keys, strict=True):
            f.write(json.dumps({**asdict(chunk), "key": key}, ensure_ascii=False) + "\n")
    faiss.write_index(_make_faiss(vectors), str(folder / VECTORS))
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
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexCorruptError(broken.format(f"{type(exc).__name__}: {str(exc)[:120]}")) from None
    if len(chunks) != manifest["passages"] or vec_index.ntotal != len(chunks) or vec_index.d != manifest["dim"]:
        raise IndexCorruptError(broken.format("passage and vector counts disagree"))
    storage = faiss.downcast_index(vec_index.storage) if hasattr(vec_index, "storage") else vec_index
    vectors = faiss.rev_swig_ptr(storage.get_xb(), len(chunks) * vec_index.d).reshape(len(chunks), -1)
    names = NameNormalizer.learn(c.text for c in chunks)
    return Index(index_dir, manifest, chunks, vectors, vec_index, names)


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
