"""Index: build or update the index of a corpus (only new text is embedded), and tell when it is stale."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from rag import vectorcache as cache
from rag.ann import search_plan
from rag.chunking import chunk_documents
from rag.config import Settings
from rag.corpus import CorpusState, Skipped, corpus_state, read_corpus, report_skipped
from rag.embedding import Embedder, load_embedder
from rag.errors import CorpusError, IndexCorruptError, IndexNotFoundError, IndexStaleError, IndexWriteError, RagError
from rag.fingerprint import pipeline_fingerprint
from rag.index.sync import Synced, sync_store
from rag.index.vectorstore import FAISS, check_store, indexed_dim, parse_address
from rag.ingest.parsed import load_parsed
from rag.names import NameNormalizer
from rag.search import prebuilt
from rag.search.adapter import install_shipped
from rag.store import (
    FORMAT_VERSION,
    MANIFEST,
    Index,
    build_lock,
    check_writable,
    load_index,
    read_manifest,
    remove_leftovers,
    write_index_files,
)
from rag.terminal import Progress, listing
from rag.vocabulary import corpus_vocabulary, everyday_words


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the CLI to print."""

    passages: int
    languages: dict[str, int]
    embedded: int
    reused: int
    seconds: float
    unchanged: bool
    skipped: tuple[Skipped, ...] = ()  # files left out, each with its reason (also logged as warnings)
    others: tuple[str, ...] = ()  # files of kinds no reader takes (.xlsx, .png)
    store: Synced | None = None  # what bringing the vector store settings.store names up to date did (not faiss)


def build_index(settings: Settings, embedder: Embedder | None = None, force: bool = False,
                progress: bool = False, strict: bool = False,
                listener: Callable[[int, int], None] | None = None) -> BuildReport:
    """Build or update the index for settings.corpus_dir in settings.index_dir.

    Only passages whose embedding text is new are embedded; the rest reuse their stored vectors.

    Args:
        settings: corpus, index folder, model and chunking.
        embedder: an already loaded embedder for settings.model (loaded here if None).
        force: re-embed everything.
        progress: show a progress bar on stderr.
        strict: fail on unusable corpus files instead of skipping them.
        listener: told (texts embedded, texts to embed) as embedding goes on (the page's progress).

    Returns:
        A BuildReport.

    Raises:
        StoreError: settings.store is not an address, or its store cannot be opened or written (the index
            folder is built first; the store is left as it was).
    """
    if parse_address(settings.store).backend != FAISS:
        # A store that cannot take the index fails first: its address and server, then the dimension.
        dim = indexed_dim(settings.index_dir, settings.model)
        check_store(settings.store, settings.model, dim)
        if dim is None:  # a new index (or model): its dimension is the model's, loaded now rather than later
            embedder = embedder or load_embedder(settings.model)
            check_store(settings.store, settings.model, embedder.dim or None)
        seen: list[Index] = []  # the previous index, if the build loads it: the rows the store holds
        report = _build(settings, embedder, force, progress, strict, listener, seen)
        return replace(report, store=sync_store(settings, seen[0] if seen else None))
    return _build(settings, embedder, force, progress, strict, listener, [])


def _build(settings: Settings, embedder: Embedder | None, force: bool, progress: bool, strict: bool,
           listener: Callable[[int, int], None] | None, seen: list[Index]) -> BuildReport:
    """build_index's work on the index folder; the previous index, when it is loaded, is appended to seen."""
    t0 = time.perf_counter()
    hashed: dict[str, str] = {}  # file → SHA-256, when the check below read them
    if not force and not strict and settings.corpus_dir.is_dir():
        # Nothing changed (file hashes, model, chunking): answer from the manifest alone, without
        # parsing the corpus or loading the index.
        with suppress(IndexNotFoundError, IndexCorruptError, IndexStaleError):
            manifest = read_manifest(settings.index_dir)
            state = _state(settings, manifest)
            hashed = state.files or {}
            # Everyday words change no answer, only speed: a build brings them in line; queries do not care.
            if (stale_reason(manifest, settings, state) is None
                    and manifest.get("everyday_words") == settings.everyday_words):
                with suppress(OSError, IndexWriteError), build_lock(settings.index_dir):  # read-only: left as it is
                    remove_leftovers(settings.index_dir, manifest["data"])  # of builds killed earlier
                n = int(manifest["passages"])
                report_skipped(settings.corpus_dir, state.skipped, state.others)  # on every build, unchanged or not
                return BuildReport(n, manifest["languages"], 0, n, time.perf_counter() - t0, True, state.skipped,
                                   state.others)
    corpus = read_corpus(settings.corpus_dir, strict, {} if force else load_parsed(settings.index_dir), hashed)
    report_skipped(settings.corpus_dir, corpus.skipped, corpus.others)
    docs = corpus.documents
    chunks = sorted(chunk_documents(docs, settings.chunk_size, settings.chunk_overlap),
                    key=lambda c: (c.lang, c.source, c.start))
    if not chunks:
        raise CorpusError(f"no usable text in {settings.corpus_dir}: add documents "
                          "(.txt, .md, .pdf, .docx, .html), then run `rag index`")
    memo = cache.Memo(NameNormalizer.learn(c.text for c in chunks))
    by_lang: dict[str, list[str]] = {}
    for c in chunks:
        by_lang.setdefault(c.lang, []).append(c.text)
    vocabulary = corpus_vocabulary(by_lang)
    vocab_words = [w for lang in sorted(vocabulary) for w in vocabulary[lang]]
    everyday = everyday_words(sorted(vocabulary), settings.everyday_words, exclude=set(vocab_words))
    files = {d.source: d.sha256 for d in docs}
    old = _reusable(settings, force)
    seen += [old] if old is not None else []
    if (old is not None and old.manifest["files"] == files and len(old.chunks) == len(chunks)
            and old.manifest.get("pipeline") == pipeline_fingerprint()
            and _same_chunking(old.manifest["chunking"], settings)
            and old.manifest.get("everyday_words") == settings.everyday_words):
        with suppress(OSError, IndexWriteError), build_lock(settings.index_dir):  # read-only: left as it is
            remove_leftovers(settings.index_dir, old.manifest["data"])  # of builds killed earlier
        return BuildReport(len(chunks), old.manifest["languages"], 0, len(chunks), time.perf_counter() - t0, True,
                           corpus.skipped, corpus.others)
    plan = cache.plan(chunks, vocab_words + everyday, memo, old)  # one cache serves all vectors
    todo = [i for i, key in enumerate(plan.keys) if key not in plan.cached]
    check_writable(settings.index_dir)  # a folder that cannot take the index fails now, not after embedding
    if todo:
        embedder = embedder or load_embedder(settings.model)
        if old is not None and embedder.dim and embedder.dim != old.manifest["dim"]:  # the model changed
            old, plan = None, cache.plan(chunks, vocab_words + everyday, memo, None)  # under the same name
            todo = list(range(len(plan.keys)))
        shipped = prebuilt.load(settings.model, embedder.dim)  # texts whose vectors come inside the package
        plan.cached.update({plan.keys[i]: shipped[plan.keys[i]] for i in todo if plan.keys[i] in shipped})
        todo = [i for i in todo if plan.keys[i] not in plan.cached]
        with Progress(len(todo), "embedding passages and words", progress and bool(todo), listener) as bar:
            plan.cached.update(cache.embed(embedder, plan.texts, plan.keys, todo, plan.word_from, bar.update))
    vectors = plan.vectors(old, int(old.manifest["dim"]) if old else len(next(iter(plan.cached.values()))))
    n, m = len(chunks), len(chunks) + sum(plan.sentence_counts)
    w = m + len(vocab_words)
    chunk_vectors, sentence_vectors, vocab_vectors = vectors[:n], vectors[n:m], vectors[m:w]
    languages = dict(Counter(c.lang for c in chunks))
    manifest = {
        "format_version": FORMAT_VERSION,
        "pipeline": pipeline_fingerprint(),
        "model": settings.model,
        "dim": int(vectors.shape[1]),
        "sentences": sum(plan.sentence_counts),
        "chunking": _chunking(settings),
        "files": files,
        "refused": corpus.refused,  # files a reader refused, by content: a freshness check does not parse them again
        "passages": len(chunks),
        "languages": languages,
        "everyday_words": settings.everyday_words,
        **search_plan(len(chunks)),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    first_build = not (settings.index_dir / MANIFEST).exists()
    with build_lock(settings.index_dir):
        write_index_files(settings.index_dir, manifest, chunks, plan.sentence_counts, chunk_vectors, sentence_vectors,
                          vocabulary, vocab_vectors, everyday, vectors[w:], corpus.parsed, memo.names.canonical)
        if first_build:  # a new index of the project's corpus gets the adapter trained for it (rag/adapters/)
            with suppress(OSError, RagError):
                install_shipped(settings.index_dir, settings.model, int(vectors.shape[1]), files)
    return BuildReport(len(chunks), languages, len(todo), len(vectors) - len(todo),
                       time.perf_counter() - t0, False, corpus.skipped, corpus.others)


def _reusable(settings: Settings, force: bool) -> Index | None:
    """The current index, if its vectors can be reused for this build."""
    if force:
        return None
    try:
        old = load_index(settings.index_dir)
    except (IndexNotFoundError, IndexCorruptError, IndexStaleError):  # stale here: an older format
        return None
    # Vectors are keyed by their text and kind, so other chunking keeps every sentence and word vector
    # that still occurs; only another model makes them useless.
    return old if old.manifest["model"] == settings.model else None


def _chunking(settings: Settings) -> dict[str, Any]:
    """How the manifest records the chunking."""
    return {"chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap,
            "splitter": "langchain RecursiveCharacterTextSplitter"}


def _same_chunking(recorded: dict[str, Any], settings: Settings) -> bool:
    """Whether a manifest's chunking is what the settings ask for (the splitter is part of the code)."""
    return (recorded.get("chunk_size"), recorded.get("chunk_overlap")) == (settings.chunk_size,
                                                                           settings.chunk_overlap)


def _state(settings: Settings, manifest: dict[str, Any]) -> CorpusState:
    """The corpus now, parsing only the files the index's manifest does not know (as used or as refused)."""
    return corpus_state(settings.corpus_dir, set(manifest["files"].values()), manifest.get("refused"))


def stale_reason(manifest: dict[str, Any], settings: Settings, state: CorpusState | None = None) -> str | None:
    """Why an index does not match the corpus and settings, or None when it does.

    Args:
        manifest: the index's manifest.
        settings: the settings to compare with.
        state: the corpus as already read (read here if None).
    """
    if manifest.get("pipeline") != pipeline_fingerprint():
        return "it was built by another version of the ingestion code"
    if manifest["model"] != settings.model:
        return f"it was built with model {manifest['model']!r}, the setting is {settings.model!r}"
    if not _same_chunking(manifest["chunking"], settings):
        return "it was built with other chunking settings"
    current = (state or _state(settings, manifest)).files
    if current is None:
        return None
    stored = manifest["files"]
    changed = sorted(set(current) ^ set(stored) | {s for s in current if stored.get(s, current[s]) != current[s]})
    if changed:
        return f"corpus files changed since the build: {listing(changed)}"
    return None


def check_fresh(index: Index, settings: Settings) -> None:
    """Raise IndexStaleError naming the fix when the index does not match corpus and settings."""
    reason = stale_reason(index.manifest, settings)
    if reason:
        raise IndexStaleError(f"index in {index.path} is stale: {reason}; run `rag index` to update it")
