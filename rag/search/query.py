"""Query: a question as every stage of a search reads it, built once (rag.retrieve.Retriever.query)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Query:
    """The question's text, language, answer type, vectors and per-language terms."""

    text: str  # names in one spelling; a follow-up joined with its earlier turns
    lang: str  # the question's language
    asked: str  # the answer type it asks for (rag.search.answertype), "" for an open question
    joined: bool  # a follow-up searched with its earlier turns
    vector: np.ndarray  # the question's embedding (a follow-up's blended with its own words')
    words: dict[str, np.ndarray]  # each content word's vector
    matrix: np.ndarray  # the same vectors as rows, in words' order
    terms: dict[str, dict[str, float]]  # language → BM25 terms and weights, bridged into that language
    soft: np.ndarray  # matrix for soft matching (no rows: soft matching is off)
