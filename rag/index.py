"""Index: build or update the index of a corpus (only new text is embedded), and tell when it is stale."""

from __future__ import annotations

import hashlib
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.ann import search_plan
from rag.chunking import Chunk, chunk_documents
from rag.config import Settings
from rag.corpus import load_corpus
from rag.embedding import Embedder, Kind, load_embedder
from rag.errors import CorpusError, IndexCorruptError, IndexNotFoundError, IndexStaleError, IndexWriteError
from rag.fingerprint import pipeline_fingerprint
from rag.names import NameNormalizer
from rag.store import (
    FORMAT_VERSION,
    Index,
    build_lock,
    load_index,
    read_manifest,
    remove_leftovers,
    write_index_files,
)
from rag.text import split_sentences
from rag.vocabulary import corpus_vocabulary


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the CLI to print."""

    passages: int
    languages: dict[str, int]
    embedded: int
    reused: int
    seconds: float
    unchanged: bool


def embedding_key(text: str, kind: Kind = "passage") -> str:
    """The cache key of a text's vector: the same text embeds differently as a query (e5 prefixes)."""
    return hashlib.blake2b(f"{kind}\0{text}".encode(), digest_size=8).hexdigest()


def _keys(passage_texts: list[str], words: list[str]) -> list[str]:
    """Cache keys of passages and sentences (embedded as passages) followed by words (embedded as queries)."""
    return [embedding_key(t) for t in passage_texts] + [embedding_key(w, "query") for w in words]


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


def _sentence_texts(chunks: list[Chunk], names: NameNormalizer | _Memo) -> list[str]:
    """Every chunk's sentences, each with the chunk's heading (rag.store derives which chunk owns which)."""
    return [names.normalize(f"{chunk.heading}: {sentence}" if chunk.heading else sentence)
            for chunk in chunks for sentence in split_sentences(chunk.text)]


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
        with suppress(IndexNotFoundError, IndexCorruptError, IndexStaleError):
            manifest = read_manifest(settings.index_dir)
            if stale_reason(manifest, settings) is None:
                with suppress(OSError, IndexWriteError), build_lock(settings.index_dir):  # read-only: left as it is
                    remove_leftovers(settings.index_dir, manifest["data"])  # of builds killed earlier
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
    sentence_texts = _sentence_texts(chunks, memo)
    by_lang: dict[str, list[str]] = {}
    for c in chunks:
        by_lang.setdefault(c.lang, []).append(c.text)
    vocabulary = corpus_vocabulary(by_lang)
    vocab_words = [w for lang in sorted(vocabulary) for w in vocabulary[lang]]
    texts = chunk_texts + sentence_texts + vocab_words  # one embedding cache serves all vectors
    keys = _keys(chunk_texts + sentence_texts, vocab_words)
    word_from = len(chunk_texts) + len(sentence_texts)
    files = {d.source: d.sha256 for d in docs}
    old = _reusable(settings, force)
    if (old is not None and old.manifest["files"] == files and len(old.chunks) == len(chunks)
            and old.manifest.get("pipeline") == pipeline_fingerprint()):
        with suppress(OSError, IndexWriteError), build_lock(settings.index_dir):  # read-only: left as it is
            remove_leftovers(settings.index_dir, old.manifest["data"])  # of builds killed earlier
        return BuildReport(len(chunks), old.manifest["languages"], 0, len(chunks), time.perf_counter() - t0, True)
    # The old texts' keys: same names learned → same normalised text, so the memo answers for unchanged ones.
    cached = {} if old is None else _cached_vectors(old, memo if old.names.canonical == names.canonical else old.names)
    todo = [i for i, key in enumerate(keys) if key not in cached]
    if todo:
        embedder = embedder or load_embedder(settings.model)
        if old is not None and embedder.dim and embedder.dim != old.manifest["dim"]:  # the model changed
            cached, todo = {}, list(range(len(keys)))  # under the same name: its old vectors do not fit
        bar = _bar(len(todo), progress)
        kinds: list[tuple[Kind, list[int]]] = [("passage", [i for i in todo if i < word_from]),
                                               ("query", [i for i in todo if i >= word_from])]
        for kind, part in kinds:
            new = embedder.embed([texts[i] for i in part], progress=bar.update, kind=kind)
            cached.update({keys[i]: v for i, v in zip(part, new, strict=True)})
        bar.close()
    vectors = np.vstack([cached[k] for k in keys]).astype(np.float32)
    n, m = len(chunks), len(chunks) + len(sentence_texts)
    chunk_vectors, sentence_vectors, vocab_vectors = vectors[:n], vectors[n:m], vectors[m:]
    languages: dict[str, int] = {}
    for c in chunks:
        languages[c.lang] = languages.get(c.lang, 0) + 1
    manifest = {
        "format_version": FORMAT_VERSION,
        "pipeline": pipeline_fingerprint(),
        "model": settings.model,
        "dim": int(vectors.shape[1]),
        "sentences": len(sentence_texts),
        "chunking": {"chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap,
                     "splitter": "langchain RecursiveCharacterTextSplitter"},
        "files": files,
        "passages": len(chunks),
        "languages": languages,
        **search_plan(len(chunks)),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with build_lock(settings.index_dir):
        sentence_counts = [len(split_sentences(c.text)) for c in chunks]  # the rows of sentences.faiss, in order
        write_index_files(settings.index_dir, manifest, chunks, sentence_counts, chunk_vectors, sentence_vectors,
                          vocabulary, vocab_vectors)
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
    except (IndexNotFoundError, IndexCorruptError, IndexStaleError):  # stale here: an older format
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
    keys = _keys(_embedding_texts(index.chunks, names) + _sentence_texts(index.chunks, names), vocab)
    vectors = np.vstack([index.vectors, index.sentence_vectors,
                         *(index.vocabulary_vectors[lang] for lang in sorted(index.vocabulary))])
    return dict(zip(keys, vectors, strict=True))


def stale_reason(manifest: dict[str, Any], settings: Settings) -> str | None:
    """Why an index does not match the corpus and settings, or None when it does."""
    if manifest.get("pipeline") != pipeline_fingerprint():
        return "it was built by another version of the ingestion code"
    if manifest["model"] != settings.model:
        return f"it was built with model {manifest['model']!r}, the setting is {settings.model!r}"
    chunking = manifest["chunking"]
    if (chunking.get("chunk_size"), chunking.get("chunk_overlap")) != (settings.chunk_size,
                                                                          settings.chunk_overlap):
        return "it was built with other chunking settings"
    from rag.corpus import content_hash, discover, read_file

    try:
        paths = discover(settings.corpus_dir)
    except CorpusError:
        return None  # no corpus to compare with: the index is all there is
    current = {}
    for p in paths:
        try:
            current[p.relative_to(settings.corpus_dir).as_posix()] = content_hash(read_file(p))
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
