"""Ranker: a learned model that reorders one language's best candidates by the chance each holds the answer.

Its features per candidate are the fusion's signals and where they stand among the language's candidates,
whether the passage contains what the question asks for (rag.search.answertype), whether it is a short fact
line ("Laufzeit: Ungefähr 40 Minuten pro Episode"), and how close it is to the other language's best passage.
It is a logistic model fitted on the tune split with out-of-fold adapters (`python eval/train_ranker.py`),
stored as JSON beside this module; without it (or with RAG_RANKER=0) the hand-set fusion order stands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.search.fusion import Candidates
from rag.search.logistic import Logistic, parse_fields

MODEL = Path(__file__).resolve().parent / "ranker.json"
DEPTH = 20  # candidates of the hand-set order the model reorders; the rest keep their order behind them
FEATURES = ("fused", "fused_gap", "rank", "dense", "dense_gap", "lexical_share", "soft", "entity",
            "type_match", "type_miss", "fact", "length", "support", "plain", "plain_gap", "passage", "passage_gap")
FACT_LINE = 80  # characters: a passage this short with a "Key: value" form is a fact line


@dataclass(frozen=True)
class Kinds:
    """What the ranker knows of each passage of the index, whatever the question: its answer types and form."""

    types: list[frozenset[str]]  # by index row
    fact: np.ndarray  # 1.0 for a "Key: value" fact line
    length: np.ndarray  # log of the passage's characters


def kinds_of(texts: list[str], types: list[frozenset[str]]) -> Kinds:
    """The per-passage facts the ranker reads (texts: the passages' own text, by index row)."""
    fact = np.array([float(len(t) <= FACT_LINE and ":" in t[:40]) for t in texts])
    return Kinds(types, fact, np.log1p(np.array([len(t) for t in texts], dtype=np.float64)))


def features(found: Candidates, lo: int, kinds: Kinds, asked: str, support: np.ndarray | None) -> np.ndarray:
    """The ranker's feature matrix for the candidates (rows in FEATURES order).

    Args:
        found: the language's candidates.
        lo: the language's first index row.
        kinds: every passage's answer types and form.
        asked: the question's answer type ("" for none).
        support: each candidate's closeness to the other language's best passage, centred (None: no other).
    """
    n = len(found.rows)
    order = np.argsort(-found.fused, kind="stable")
    rank = np.empty(n)
    rank[order] = np.arange(n)
    has = np.array([float(asked in kinds.types[lo + int(r)]) for r in found.rows]) if asked else np.zeros(n)
    top_lexical = float(found.lexical.max(initial=0.0))
    columns = [found.fused, found.fused.max(initial=0.0) - found.fused, np.log1p(rank), found.dense,
               found.dense.max(initial=0.0) - found.dense,
               found.lexical / top_lexical if top_lexical > 0 else np.zeros(n), found.soft, found.entity,
               has, (1.0 - has) if asked else np.zeros(n), kinds.fact[lo + found.rows],
               kinds.length[lo + found.rows], np.zeros(n) if support is None else support,
               found.plain, found.plain.max(initial=0.0) - found.plain, found.passage,
               found.passage.max(initial=0.0) - found.passage]
    return np.column_stack(columns) if n else np.zeros((0, len(FEATURES)))


class Ranker(Logistic):
    """The learned model; order() puts the candidates with the best chance first."""

    def order(self, matrix: np.ndarray, fused: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate positions, best first, and each candidate's probability of holding the answer.

        Only the DEPTH best by the hand-set blend are reordered; the rest follow in that blend's order.
        """
        first = np.argsort(-fused, kind="stable")
        head, tail = first[:DEPTH], first[DEPTH:]
        chance = np.zeros(len(fused))
        chance[head] = 1.0 / (1.0 + np.exp(-np.clip(self.logits(matrix[head]), -50, 50)))
        return np.r_[head[np.argsort(-chance[head], kind="stable")], tail], chance


def parse(text: str) -> Ranker:
    """The ranker from its JSON text (never pickle).

    Raises:
        ValueError: malformed, or trained on other features than this code computes.
    """
    ranker = Ranker(*parse_fields(json.loads(text)))
    if ranker.features != FEATURES:
        raise ValueError(f"ranker model: features {ranker.features} differ from this code's {FEATURES}")
    return ranker


def shipped_for(model: str) -> Ranker | None:
    """The ranker shipped with the package if it was trained for this embedding model, else None.

    Its features are scores on that model's scale: for another model the hand-set fusion order stands.
    """
    ranker = _shipped()
    return ranker if ranker is not None and ranker.info.get("model") == model else None


@lru_cache(maxsize=1)
def _shipped() -> Ranker | None:
    """The ranker shipped with the package (eval/train_ranker.py writes it), or None before it exists."""
    return parse(MODEL.read_text(encoding="utf-8")) if MODEL.exists() else None
