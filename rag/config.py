"""Settings: the one place that reads environment variables."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Built-in model names; anything else is passed to sentence-transformers as a name or path.
DEFAULT_MODEL = "e5-small"

# The retrieval knobs below are tuned for the default model. Another model's scores sit elsewhere
# (USE cosines spread over 0–0.8, e5's over 0.7–0.9), so its own tuned values replace the knobs left
# at their defaults (eval/tune.py, tuning split).
TUNED: dict[str, dict[str, float]] = {
    "use-multilingual": {"lexical_weight": 0.3, "min_score": 0.15, "min_question_score": 0.27,
                         "unknown_name_penalty": 0.2, "dense_floor": 0.0, "soft_weight": 0.35, "soft_floor": 0.4,
                         "entity_weight": 0.2, "bridge_similarity": 0.75, "highlight_margin": 0.06,
                         "language_margin": 0.3, "unknown_word_penalty": 0.0},
}
# The tests' hashing embedder is a bag of words: its cosines spread like USE's, and a word's vector is
# no closer to a synonym's, so a few hundred everyday words exercise the feature as well as 5,000.
TUNED["hashing"] = {**TUNED["use-multilingual"], "everyday_words": 300}


# Every value the code can work with, and nothing else: (low, high, low allowed, high allowed, why).
RANGES: dict[str, tuple[float, float, bool, bool, str]] = {
    "chunk_size": (50, math.inf, True, False, "characters per passage"),
    "k": (1, 50, True, True, "passages per language"),
    "everyday_words": (0, math.inf, True, False, "words per language given vectors at index time"),
    "lexical_weight": (0, 1, True, True, "a share of the fused score"),
    "soft_weight": (0, 1, True, True, "a share of the fused score"),
    "entity_weight": (0, 1, True, True, "weight of a score in [0, 1]"),
    "sentence_weight": (0, 1, True, True, "a blend of passage and sentence similarity"),
    # Cosines start at -1; scores are divided by 1 - floor.
    "dense_floor": (-1, 1, True, False, "scores are divided by 1 - dense_floor"),
    "soft_floor": (-1, 1, True, False, "word similarities are divided by 1 - soft_floor"),
    "common_word_share": (0, 1, False, True, "a share of passages; 1 leaves every word in"),
    "bridge_similarity": (0, 2, True, True, "a cosine; above 1 switches the bridge off"),
    # Bars may be as low as you like (abstention off, as eval/ablation.py does), not above the best score.
    "min_score": (-math.inf, 2, False, True, "no fused score reaches more"),
    "min_question_score": (-math.inf, 1, False, True, "no question's evidence reaches more"),
    "unknown_name_penalty": (0, math.inf, True, False, "subtracted from the evidence"),
    "highlight_margin": (0, math.inf, True, False, "a distance between scores"),
    "language_margin": (0, math.inf, True, False, "a distance between scores"),
    "unknown_word_penalty": (0, math.inf, True, False, "subtracted from the evidence"),
    "known_word_similarity": (-1, 2, True, True, "a cosine; above 1 every word counts as unknown"),
    "adapter": (0, 1, True, True, "1 uses the index's learned query adapter, 0 ignores it"),
    "follow_up_weight": (0, 1, True, True, "a share of the follow-up's vector"),
    "ranker": (0, 1, True, True, "1 reorders with the learned ranker, 0 keeps the hand-set fusion order"),
}


def _interval(low: float, high: float, closed_low: bool, closed_high: bool) -> str:
    """A range in words: '[0, 1)', 'at least 0', 'at most 2'."""
    if high == math.inf:
        return f"at least {low:g}" if closed_low else f"more than {low:g}"
    if low == -math.inf:
        return f"at most {high:g}" if closed_high else f"less than {high:g}"
    return f"in {'[' if closed_low else '('}{low:g}, {high:g}{']' if closed_high else ')'}"


@dataclass(frozen=True)
class Settings:
    """Everything a build or a query needs to know; immutable so stages cannot drift apart."""

    corpus_dir: Path = PROJECT_DIR / "corpus"
    index_dir: Path = PROJECT_DIR / "index"
    model: str = DEFAULT_MODEL
    chunk_size: int = 400  # characters: a few sentences, small enough to cite precisely
    chunk_overlap: int = 0
    # Per language: the most frequent words of the language get vectors when the index is built, so
    # questions using them need no extra model call (each costs ~1/3 of the question's own call).
    everyday_words: int = 5000
    k: int = 3  # passages per language: the default of `rag ask --k` and of the page's slider
    # Retrieval tuning for e5-small (chosen on the eval tuning split, see README).
    lexical_weight: float = 0.1  # weight of BM25
    min_score: float = 0.15  # a passage needs this fused score to be cited at all
    min_question_score: float = 0.3  # below this for every language, the question is off-topic
    unknown_name_penalty: float = 0.1  # a question naming something the corpus never mentions needs more
    dense_floor: float = 0.75  # dense similarity of unrelated text, mapped to 0
    sentence_weight: float = 1.0  # dense score: blend of passage vector and best sentence vector
    common_word_share: float = 0.2  # words in more passages than this are left out of the query vector
    soft_weight: float = 0.3  # weight of soft term matching (query word ↔ closest passage word)
    soft_floor: float = 0.8  # word similarity below this counts as no match
    entity_weight: float = 0.1  # second pass: names/numbers of the other language's best passage
    bridge_similarity: float = 0.75  # query word → corpus word when their vectors are this close
    highlight_margin: float = 0.06  # highlight a passage only if its score is this close to its language's best
    language_margin: float = 0.3  # drop a language whose best hit trails the overall best by more
    # A question word none of whose closest corpus words (any language) reaches known_word_similarity is
    # about something the sources never mention ("Hund", "tall"): the question needs more evidence.
    unknown_word_penalty: float = 0.05
    known_word_similarity: float = 0.895
    adapter: int = 1  # 1: the index's learned query adapter (rag learn) moves the question's vector; 0: ignore it
    # A follow-up is searched joined with the turn before; this share of its vector is the follow-up's own
    # (0: the joined text alone), so the earlier turn's answer does not outrank the new question's.
    follow_up_weight: float = 0.5  # tune follow-ups: hit@3 0.777 at 0, 0.827 at 0.5 (docs/evaluation.md)
    # Where vectors are searched: "faiss" (the index folder's, default), "milvus:///path.db" (Milvus Lite) or
    # "http://host:19530" (a Milvus server); see rag/index/vectorstore.py.
    store: str = ""
    ranker: int = 1  # 1: the learned ranker (rag/search/ranker.json) reorders each language's best; 0: fusion order

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Build settings from RAG_* environment variables, then apply explicit overrides.

        Args:
            **overrides: field values that win over the environment (None values are ignored).

        Returns:
            The settings.
        """
        values: dict[str, object] = {}
        for f in fields(cls):  # every knob is RAG_<NAME>, cast like its default
            key = f"RAG_{f.name.upper()}"
            raw = os.environ.get(key)
            if not raw:
                continue
            cast = type(getattr(cls, f.name))
            try:
                values[f.name] = cast(raw)
            except ValueError:
                raise ConfigError(f"{key}={raw!r} is not a valid {cast.__name__}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("corpus_dir", "index_dir"):
            values[key] = Path(values[key]) if key in values else getattr(cls, key)  # type: ignore[arg-type]
        return cls(**values).for_model(str(values.get("model", DEFAULT_MODEL)))  # type: ignore[arg-type]

    def for_model(self, model: str) -> Settings:
        """A copy for model: knobs still at their defaults take the values tuned for that model (TUNED)."""
        tuned: dict[str, Any] = {k: v for k, v in TUNED.get(model, {}).items()
                                 if getattr(self, k) == getattr(Settings, k)}
        return replace(self, model=model, **tuned)

    def __post_init__(self) -> None:
        self.validate()  # also for settings made in code (Settings(...), with_, for_model), not only from_env

    def validate(self) -> None:
        """Raise ConfigError, naming the variable and its allowed range, when a value cannot work.

        Raises:
            ConfigError: a knob out of the range in RANGES, or values that cannot work together.
        """
        for name, (low, high, closed_low, closed_high, why) in RANGES.items():
            value = float(getattr(self, name))
            above = value >= low if closed_low else value > low
            below = value <= high if closed_high else value < high
            if not (above and below):  # NaN fails both
                raise ConfigError(f"RAG_{name.upper()}={value:g} is out of range: it must be "
                                  f"{_interval(low, high, closed_low, closed_high)} ({why})")
        for f in fields(self):
            value = getattr(self, f.name)
            if type(getattr(Settings, f.name, None)) is int and not isinstance(value, int):
                if not (isinstance(value, float) and value.is_integer()):
                    raise ConfigError(f"RAG_{f.name.upper()}={value!r} must be a whole number")
                object.__setattr__(self, f.name, int(value))  # 300.0 → 300: slices and counts need ints
        if self.lexical_weight + self.soft_weight > 1:
            raise ConfigError(f"RAG_LEXICAL_WEIGHT + RAG_SOFT_WEIGHT = {self.lexical_weight + self.soft_weight:g} "
                              "must be at most 1 (dense similarity gets 1 minus both)")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ConfigError(f"RAG_CHUNK_OVERLAP={self.chunk_overlap} must be at least 0 and less than "
                              f"RAG_CHUNK_SIZE ({self.chunk_size})")

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]
