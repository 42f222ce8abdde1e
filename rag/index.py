"""Index: passages (JSON lines) + vectors (FAISS) + manifest.json, written atomically, no pickle."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
LOCK = ".build.lock"  # held while a build writes or cleans up: one writer per index folder
DATA_NAME = re.compile(r"data-[A-Za-z0-9_-]+")  # the only folder names a manifest may point to
# Passages above which an approximate index (ANN, IVF with 8-bit codes) finds the candidates and the
# index files are memory-mapped; below, exact search is fast enough (faiss's exact search with the
# language selector: p95 9 ms at 50,000 passages on 2 cores). vectors.faiss always keeps the exact vectors.
APPROXIMATE_ABOVE = 50_000
SCAN_AT_LEAST = 100_000  # passages an approximate search scans at the least (see ann_plan)
ANN = "ann.faiss"


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


def embedding_key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class _Memo:
    """A NameNormalizer that remembers its results, so an update normalises each unchanged text once."""

    def __init__(self, names: NameNormalizer) -> None:
        self.names = names
        self.seen: dict[str, str] = {}

    def normalize(self, text: str) -> str:
        out = self.seen.get(text)
        if out is None:
            out = self.seen[text] = self.names.normalize(text)
        return out


def _embedding_texts(chunks: list[Chunk], names: NameNormalizer | _Memo) -> list[str]:
    return [names.normalize(c.embedding_text()) for c in chunks]


def _sentence_owner(chunks: list[Chunk]) -> np.ndarray:
    """The chunk row of every sentence, in the order _sentence_texts lists them."""
    return np.array([row for row, c in enumerate(chunks) for _ in split_sentences(c.text)], dtype=np.int64)


def _sentence_texts(chunks: list[Chunk], names: NameNormalizer | _Memo) -> tuple[list[str], np.ndarray]:
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
    if not force and not strict and settings.corpus_dir.is_dir():
        # Nothing changed (file hashes, model, chunking): answer from the manifest alone, without
        # parsing the corpus or loading the index.
        with suppress(IndexNotFoundError, IndexCorruptError):
            manifest = read_manifest(settings.index_dir)
            if stale_reason(manifest, settings) is None:
                with suppress(OSError), _build_lock(settings.index_dir):  # a read-only index stays as it is
                    _remove_leftovers(settings.index_dir, manifest["data"])  # of builds killed earlier
                n = int(manifest["passages"])
                return BuildReport(n, manifest["languages"], 0, n, time.perf_counter() - t0, True)
    docs = load_corpus(settings.corpus_dir, strict=strict)
    chunks = sorted(chunk_documents(docs, settings.chunk_size, settings.chunk_overlap),
                    key=lambda c: (c.lang, c.source, c.start))
    if not chunks:
        raise CorpusError(f"no usable text in {settings.corpus_dir}: add .txt or .md files, then run `rag index`")
    names = NameNormalizer.learn(c.text for c in chunks)
    memo = _Memo(names)
    chunk_texts = _embedding_texts(chunks, memo)
    sentence_texts, _ = _sentence_texts(chunks, memo)
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
        with suppress(OSError), _build_lock(settings.index_dir):  # a read-only index stays as it is
            _remove_leftovers(settings.index_dir, old.manifest["data"])  # of builds killed earlier
        return BuildReport(len(chunks), old.manifest["languages"], 0, len(chunks), time.perf_counter() - t0, True)
    # The old texts' keys: same names learned → same normalised text, so the memo answers for unchanged ones.
    cached = {} if old is None else _cached_vectors(old, memo if old.names.canonical == names.canonical else old.names)
    todo = [i for i, key in enumerate(keys) if key not in cached]
    if todo:
        embedder = embedder or load_embedder(settings.model)
        if old is not None and embedder.dim and embedder.dim != old.manifest["dim"]:  # the model changed
            cached, todo = {}, list(range(len(keys)))  # under the same name: its old vectors do not fit
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
        **_search_plan(len(chunks)),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with _build_lock(settings.index_dir):
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


def _cached_vectors(index: Index, names: NameNormalizer | _Memo) -> dict[str, np.ndarray]:
    """Embedding key → vector for everything the index holds (keys derived from the texts).

    names must normalise as index.names does (it may be a memo of the new build's texts).
    """
    vocab = [w for lang in sorted(index.vocabulary) for w in index.vocabulary[lang]]
    texts = _embedding_texts(index.chunks, names) + _sentence_texts(index.chunks, names)[0] + vocab
    vectors = np.vstack([index.vectors, index.sentence_vectors,
                         *(index.vocabulary_vectors[lang] for lang in sorted(index.vocabulary))])
    return dict(zip((embedding_key(t) for t in texts), vectors, strict=True))


def ann_plan(n: int) -> tuple[int, int] | None:
    """(nlist, nprobe) of the approximate index for n passages, or None when search is exact.

    About √n lists (a power of two, at least 39 training points each). Probed: half of them, and at
    least 100,000 passages' worth (small indexes scan more, which costs them little). On the scale
    bench (`rag bench --scale`) that keeps recall@10 ≥ 0.95 for real questions, which lie far from
    every passage and so have their neighbours spread over many lists.
    """
    if n <= APPROXIMATE_ABOVE:
        return None
    nlist = max(1, min(2 ** round(math.log2(math.sqrt(n))), n // 39))
    return nlist, min(nlist, max(1, nlist // 2, math.ceil(nlist * SCAN_AT_LEAST / n)))


def _search_plan(n: int) -> dict[str, Any]:
    """The manifest's description of the search index for n passages."""
    plan = ann_plan(n)
    return {"faiss": "flat"} if plan is None else {"faiss": f"IVF{plan[0]},SQ8", "nprobe": plan[1]}


def _make_faiss(vectors: np.ndarray) -> Any:
    """The index that finds candidates: exact (flat) up to APPROXIMATE_ABOVE passages, IVF-SQ8 above.

    8-bit codes scan a quarter of the bytes of float vectors; retrieve.py rescores the candidates
    with the exact vectors, so the codes only have to bring the true neighbours into the top 200.
    """
    import faiss

    dim = vectors.shape[1]
    plan = ann_plan(len(vectors))
    if plan is None:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index
    nlist, nprobe = plan
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT, False)
    index.cp.niter = 10  # k-means iterations (faiss's default is 25): seconds at 1M passages; recall measured so
    sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 40 * nlist), replace=False)
    index.train(vectors[np.sort(sample)])
    index.add(vectors)
    index.nprobe = nprobe
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
    exact = faiss.IndexFlatIP(vectors.shape[1])  # the exact vectors, read back as a matrix
    exact.add(vectors)
    faiss.write_index(exact, str(folder / VECTORS))
    del exact
    if ann_plan(len(vectors)) is not None:
        faiss.write_index(_make_faiss(vectors), str(folder / ANN))
    for name, matrix in ((SENTENCE_VECTORS, sentence_vectors), (VOCABULARY_VECTORS, vocab_vectors)):
        flat = faiss.IndexFlatIP(vectors.shape[1])  # read back as a matrix
        flat.add(np.ascontiguousarray(matrix, dtype=np.float32))
        faiss.write_index(flat, str(folder / name))
    (folder / VOCABULARY).write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
    manifest = {**manifest, "data": data}
    tmp = index_dir / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, index_dir / MANIFEST)
    _remove_leftovers(index_dir, data)


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
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


def _remove_leftovers(index_dir: Path, keep: str) -> None:
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
        mmap = faiss.IO_FLAG_MMAP_IFC if manifest["passages"] > APPROXIMATE_ABOVE else 0  # large: map, not read
        vec_index = faiss.read_index(str(folder / VECTORS), mmap)
        ann = faiss.read_index(str(folder / ANN), mmap) if manifest.get("nprobe") else None
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
    vocab_matrix = _matrix(vocab_index).copy()
    if len(vocab_matrix) != sum(len(v) for v in vocabulary.values()):
        raise IndexCorruptError(broken.format("vocabulary vectors do not match the vocabulary"))
    splits = np.cumsum([len(vocabulary[lang]) for lang in sorted(vocabulary)])[:-1]
    vocab_vectors = dict(zip(sorted(vocabulary), np.split(vocab_matrix, splits), strict=True))
    # The passage matrix is a view kept alive by vec_index; the other indexes are dropped, so copy.
    if ann is not None and (ann.ntotal != len(chunks) or ann.d != vec_index.d):
        raise IndexCorruptError(broken.format("the approximate index does not match the passages"))
    return Index(index_dir, manifest, chunks, _matrix(vec_index), vec_index if ann is None else ann, names,
                 _matrix(sent_index).copy(), owner, vocabulary, vocab_vectors, exact_index=vec_index)


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
