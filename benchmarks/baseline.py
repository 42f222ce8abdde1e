"""The benchmark's baseline: the usual LangChain set-up (FAISS vector store) over the same passages.

Same chunks (rag.chunking), same embedding model, one `similarity_search_by_vector` per language
with a metadata filter, no lexical scoring, no abstention. Needs the `bench` extra
(`pip install -e ".[bench]"`, which brings langchain-community).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from rag.answer import Answer, Passage
from rag.config import Settings
from rag.embedding import Embedder

INSTALL_HINT = 'baseline skipped: langchain-community is not installed (pip install -e ".[bench]")'


def available() -> bool:
    """Whether langchain-community (and so the baseline) can be imported."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # langchain-community announces its sunset
            import langchain_community.vectorstores  # noqa: F401
    except ImportError:
        return False
    return True


def as_langchain(embedder: Embedder) -> Any:
    """Wrap one of our embedders as a LangChain `Embeddings` (model calls serialised, as ours are)."""
    from langchain_core.embeddings import Embeddings

    lock = threading.Lock()

    class Wrapped(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            with lock:
                return embedder.embed(list(texts), kind="passage").tolist()

        def embed_query(self, text: str) -> list[float]:  # e5 embeds questions with its "query: " prefix
            with lock:
                return embedder.embed_batch([text], "query")[0].tolist()

    return Wrapped()


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
                m = doc.metadata
                passages.append(Passage(doc.page_content, lang, m["source"], m["start"], m["end"], float(score),
                                        m["line_start"], m["line_end"]))
        return Answer(question, passages[0].text if passages else "", passages)


def cold_start_code(folder: Path, model: str) -> str:
    """Python source that loads a saved baseline and answers one question (timed by the caller)."""
    return ("from pathlib import Path; from benchmarks.baseline import Baseline; "
            "from rag.embedding import load_embedder; "
            f"Baseline.load(Path({str(folder)!r}), load_embedder({model!r})).ask('Wer führte Regie?')")
