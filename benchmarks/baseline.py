"""The benchmark's LangChain baselines over the same passages: a FAISS store, and BM25 + FAISS fused.

Same chunks (rag.chunking), same embedding model. Baseline: one `similarity_search_by_vector` per
language with a metadata filter, no lexical scoring, no abstention. Ensemble: per language, LangChain's
`EnsembleRetriever` (reciprocal-rank fusion) of a `BM25Retriever` and that store's retriever. Needs
the `bench` extra (`pip install -e ".[bench]"`: langchain-community, langchain-classic, rank-bm25).
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from pathlib import Path
from typing import Any

from rag.answer import Answer, Passage
from rag.config import Settings
from rag.embedding import Embedder

INSTALL_HINT = ('LangChain baselines skipped: langchain-community, langchain-classic or rank-bm25 is not '
                'installed (pip install -e ".[bench]")')


def available() -> bool:
    """Whether the LangChain baselines (FAISS store, BM25 + FAISS ensemble) can be imported."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # langchain-community announces its sunset
            import langchain_community.retrievers  # noqa: F401
            import langchain_community.vectorstores  # noqa: F401

            _ensemble_class()
    except ImportError:
        return False
    return importlib.util.find_spec("rank_bm25") is not None  # BM25Retriever imports it on first use


def _ensemble_class() -> Any:
    """LangChain's EnsembleRetriever: in langchain-classic from LangChain 1.0, in langchain before."""
    for module in ("langchain_classic.retrievers", "langchain.retrievers"):
        try:
            return importlib.import_module(module).EnsembleRetriever
        except (ImportError, AttributeError):
            continue
    raise ImportError("EnsembleRetriever not found: pip install langchain-classic")


def as_langchain(embedder: Embedder, remember_last: bool = False) -> Any:
    """Wrap one of our embedders as a LangChain `Embeddings` (model calls serialised, as ours are).

    Args:
        embedder: our embedder.
        remember_last: keep the last query's vector, so retrievers asked the same question one after
            the other (one per language) share one model call.

    Returns:
        The LangChain `Embeddings`.
    """
    from langchain_core.embeddings import Embeddings

    lock = threading.Lock()
    last: list[tuple[str, list[float]]] = []

    class Wrapped(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            with lock:
                return embedder.embed(list(texts), kind="passage").tolist()

        def embed_query(self, text: str) -> list[float]:  # e5 embeds questions with its "query: " prefix
            with lock:
                if last and last[0][0] == text:
                    return last[0][1]
                vector = embedder.embed_batch([text], "query")[0].tolist()
                if remember_last:
                    last[:] = [(text, vector)]
                return vector

    return Wrapped()


def _passage(doc: Any, score: float) -> Passage:
    m = doc.metadata
    return Passage(doc.page_content, m["lang"], m["source"], m["start"], m["end"], score, m["line_start"],
                   m["line_end"])


class Baseline:
    """A LangChain FAISS store over the corpus's passages, answering with the top k per language."""

    def __init__(self, store: Any, languages: list[str]) -> None:
        self.store, self.languages = store, languages

    @classmethod
    def build(cls, settings: Settings, embedder: Embedder) -> Baseline:
        """Chunk settings.corpus_dir as our index does and embed every passage into a FAISS store."""
        import warnings

        from langchain_core.documents import Document

        from rag.chunking import chunk_documents
        from rag.corpus import load_corpus

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # langchain-community announces its sunset
            from langchain_community.vectorstores import FAISS
            from langchain_community.vectorstores.utils import DistanceStrategy

        chunks = chunk_documents(load_corpus(settings.corpus_dir), settings.chunk_size, settings.chunk_overlap)
        docs = [Document(page_content=c.text, metadata={"lang": c.lang, "source": c.source, "start": c.start,
                                                        "end": c.end, "line_start": c.line_start,
                                                        "line_end": c.line_end}) for c in chunks]
        store = FAISS.from_documents(docs, as_langchain(embedder),
                                     distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT)
        return cls(store, sorted({c.lang for c in chunks}))

    @classmethod
    def load(cls, folder: Path, embedder: Embedder) -> Baseline:
        """Load a store saved by save(): the FAISS file and the passages as JSON (LangChain's own
        save_local pickles its docstore, and nothing here loads a pickle)."""
        import json
        import warnings

        import faiss
        from langchain_core.documents import Document

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from langchain_community.docstore.in_memory import InMemoryDocstore
            from langchain_community.vectorstores import FAISS
            from langchain_community.vectorstores.utils import DistanceStrategy

        docs = json.loads((folder / "docs.json").read_text(encoding="utf-8"))
        ids = [str(i) for i in range(len(docs))]
        store = FAISS(as_langchain(embedder), faiss.read_index(str(folder / "index.faiss")),
                      InMemoryDocstore({i: Document(page_content=d["text"], metadata=d["metadata"])
                                        for i, d in zip(ids, docs, strict=True)}),
                      dict(enumerate(ids)), distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT)
        return cls(store, sorted({d["metadata"]["lang"] for d in docs}))

    def save(self, folder: Path) -> None:
        """The FAISS index and the passages (JSON) in folder, in the store's row order."""
        import json

        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.store.index, str(folder / "index.faiss"))
        rows = [self.store.docstore.search(self.store.index_to_docstore_id[i]) for i in range(self.store.index.ntotal)]
        docs = [{"text": d.page_content, "metadata": d.metadata} for d in rows]
        (folder / "docs.json").write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")

    def ask(self, question: str, k: int = 3) -> Answer:
        """The k nearest passages of each language (one query embedding, one filtered search per language)."""
        vector = self.store.embedding_function.embed_query(question)
        fetch_k = self.store.index.ntotal  # filtering happens after the search: fetch enough for every language
        passages = []
        for lang in self.languages:
            for doc, score in self.store.similarity_search_with_score_by_vector(
                    vector, k=k, filter={"lang": lang}, fetch_k=fetch_k):
                passages.append(_passage(doc, float(score)))
        return Answer(question, passages[0].text if passages else "", passages)


class Ensemble:
    """Per language, LangChain's EnsembleRetriever of BM25 and the FAISS store (equal weights, RRF).

    BM25 tokenises lower-cased words (LangChain's default splits on spaces only, so "Seon-woo?" would
    never match "Seon-woo"). Both languages' FAISS retrievers share one query embedding per question.
    """

    def __init__(self, retrievers: dict[str, Any], k: int) -> None:
        self.retrievers, self.k = retrievers, k

    @classmethod
    def build(cls, baseline: Baseline, embedder: Embedder, k: int = 3) -> Ensemble:
        """Ensembles over the passages (and vectors) of a built Baseline, returning k passages per language."""
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from langchain_community.retrievers import BM25Retriever
            from langchain_community.vectorstores import FAISS

        store = baseline.store  # the same FAISS index and passages, with its own query embedding wrapper
        shared = FAISS(as_langchain(embedder, remember_last=True), store.index, store.docstore,
                       store.index_to_docstore_id, distance_strategy=store.distance_strategy)
        docs = [store.docstore.search(store.index_to_docstore_id[i]) for i in range(store.index.ntotal)]
        ensemble = _ensemble_class()
        retrievers = {}
        for lang in baseline.languages:
            bm25 = BM25Retriever.from_documents([d for d in docs if d.metadata["lang"] == lang], k=k,
                                                preprocess_func=_words)
            dense = shared.as_retriever(search_kwargs={"k": k, "filter": {"lang": lang},
                                                       "fetch_k": store.index.ntotal})
            retrievers[lang] = ensemble(retrievers=[bm25, dense], weights=[0.5, 0.5])
        return cls(retrievers, k)

    def ask(self, question: str, k: int = 3) -> Answer:
        """The k best fused passages of each language (score: 1 / fused rank)."""
        if k > self.k:
            raise ValueError(f"this ensemble was built for k <= {self.k}")
        passages = [_passage(doc, 1 / rank) for retriever in self.retrievers.values()
                    for rank, doc in enumerate(retriever.invoke(question)[:k], start=1)]
        return Answer(question, passages[0].text if passages else "", passages)


def _words(text: str) -> list[str]:
    import re

    return re.findall(r"\w+", text.casefold())


def cold_start_code(folder: Path, model: str) -> str:
    """Python source that loads a saved baseline and answers one question (timed by the caller)."""
    return ("from pathlib import Path; from benchmarks.baseline import Baseline; "
            "from rag.embedding import load_embedder; "
            f"Baseline.load(Path({str(folder)!r}), load_embedder({model!r})).ask('Wer führte Regie?')")
