"""The index stage: build or update an index of a corpus (build), its rows with stable ids (rows), and the
vector stores that hold them (store: the protocol; memory and milvus: the backends)."""

from rag.index.build import BuildReport, build_index, check_fresh, load_index, stale_reason

__all__ = ["BuildReport", "build_index", "check_fresh", "load_index", "stale_reason"]
