"""Settings: every knob is checked against the values the code can work with; RAG_K is the default k."""

from __future__ import annotations

import json

import pytest

from rag.cli import main
from rag.config import Settings
from rag.errors import ConfigError

# (variable, value, words the message must hold): each is a value the code cannot work with.
NONSENSE = [
    ("RAG_DENSE_FLOOR", "1", "[-1, 1)"), ("RAG_SOFT_FLOOR", "1", "[-1, 1)"), ("RAG_SOFT_FLOOR", "1.5", "[-1, 1)"),
    ("RAG_DENSE_FLOOR", "-2", "[-1, 1)"), ("RAG_LEXICAL_WEIGHT", "1.2", "[0, 1]"),
    ("RAG_SOFT_WEIGHT", "-0.1", "[0, 1]"), ("RAG_ENTITY_WEIGHT", "3", "[0, 1]"), ("RAG_SENTENCE_WEIGHT", "2", "[0, 1]"),
    ("RAG_COMMON_WORD_SHARE", "0", "(0, 1]"),
    ("RAG_COMMON_WORD_SHARE", "1.5", "(0, 1]"), ("RAG_BRIDGE_SIMILARITY", "-0.5", "[0, 2]"),
    ("RAG_BRIDGE_SIMILARITY", "3", "[0, 2]"), ("RAG_MIN_SCORE", "2.5", "at most 2"),
    ("RAG_MIN_QUESTION_SCORE", "1.5", "at most 1"), ("RAG_UNKNOWN_NAME_PENALTY", "-1", "at least 0"),
    ("RAG_HIGHLIGHT_MARGIN", "-0.1", "at least 0"), ("RAG_LANGUAGE_MARGIN", "-1", "at least 0"),
    ("RAG_MIN_SCORE", "nan", "at most 2"), ("RAG_LANGUAGE_MARGIN", "inf", "at least 0"),
    ("RAG_K", "0", "[1, 50]"), ("RAG_K", "51", "[1, 50]"), ("RAG_CHUNK_SIZE", "10", "at least 50"),
    ("RAG_CHUNK_OVERLAP", "-1", "RAG_CHUNK_SIZE"),
]


@pytest.mark.parametrize(("key", "value", "allowed"), NONSENSE)
def test_a_value_out_of_range_is_a_config_error_naming_variable_and_range(
        monkeypatch: pytest.MonkeyPatch, key: str, value: str, allowed: str) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        Settings.from_env()
    assert key in str(info.value) and allowed in str(info.value)


def test_weights_that_leave_dense_a_negative_share_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_LEXICAL_WEIGHT", "0.6")
    monkeypatch.setenv("RAG_SOFT_WEIGHT", "0.5")
    with pytest.raises(ConfigError, match=r"RAG_LEXICAL_WEIGHT \+ RAG_SOFT_WEIGHT"):
        Settings.from_env()
    monkeypatch.setenv("RAG_SOFT_WEIGHT", "0.4")  # exactly 1: dense gets nothing, which works
    assert Settings.from_env().soft_weight == 0.4


def test_settings_made_in_code_are_checked_too() -> None:
    with pytest.raises(ConfigError, match="RAG_SOFT_FLOOR"):
        Settings(soft_floor=1.0)
    with pytest.raises(ConfigError, match="RAG_DENSE_FLOOR"):
        Settings().with_(dense_floor=1.0)


@pytest.mark.parametrize(("name", "count"), [("everyday_words", 300), ("k", 5), ("chunk_size", 500)])
def test_counts_made_in_code_must_be_whole_numbers(name: str, count: int) -> None:
    with pytest.raises(ConfigError, match=f"RAG_{name.upper()}=.* whole number"):
        Settings().with_(**{name: count + 0.5})
    value = getattr(Settings().with_(**{name: float(count)}), name)
    assert value == count and type(value) is int  # a whole float is taken as the count it is


def test_the_extremes_eval_uses_stay_valid() -> None:
    # eval/ablation.py: abstention off, and every technique switched off.
    extremes = {"min_score": -1.0, "min_question_score": -1.0, "language_margin": 9.0, "common_word_share": 1.0,
                "bridge_similarity": 2.0, "lexical_weight": 0.0, "soft_weight": 0.0, "entity_weight": 0.0,
                "sentence_weight": 0.0, "dense_floor": 0.0, "soft_floor": -1.0, "unknown_name_penalty": 0.0}
    settings = Settings().with_(**extremes)
    for model in ("e5-small", "use-multilingual", "hashing"):
        settings.for_model(model).validate()
        Settings().for_model(model).validate()


def test_one_line_error_from_the_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RAG_SOFT_FLOOR", "1")
    assert main(["index", "--index", "/nonexistent/x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RAG_SOFT_FLOOR" in err


def test_rag_k_is_the_default_k_of_rag_ask(hashing_index: Settings, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RAG_CORPUS_DIR", str(hashing_index.corpus_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(hashing_index.index_dir))
    monkeypatch.setenv("RAG_MODEL", "hashing")
    for key in ("min_score", "min_question_score", "language_margin"):
        monkeypatch.setenv(f"RAG_{key.upper()}", str(getattr(hashing_index, key)))

    def passages(*argv: str) -> dict[str, int]:
        assert main(["ask", "Who plays Seon-woo?", "--json", *argv]) == 0
        counts: dict[str, int] = {}
        for p in json.loads(capsys.readouterr().out)["passages"]:
            counts[p["lang"]] = counts.get(p["lang"], 0) + 1
        return counts

    monkeypatch.setenv("RAG_K", "1")
    assert passages() == {"en": 1, "de": 1}
    assert max(passages("--k", "2").values()) == 2  # --k wins over RAG_K
    monkeypatch.setenv("RAG_K", "2")
    assert max(passages().values()) == 2


def test_rag_k_is_the_page_slider_default() -> None:
    from rag.serve.page import SLIDER_MAX, default_k

    assert default_k(Settings(k=2)) == 2
    assert default_k(Settings(k=50)) == SLIDER_MAX  # the slider stops there
