"""The `rag` command, driven in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cli import main
from rag.config import Settings


@pytest.fixture
def env(corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_MODEL", "hashing")
    monkeypatch.setenv("RAG_MIN_QUESTION_SCORE", "0.1")  # the hashing embedder scores low
    monkeypatch.setenv("RAG_LANGUAGE_MARGIN", "1")
    return tmp_path / "index"


def test_index_then_ask_json(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index"]) == 0
    out = capsys.readouterr().out
    assert "passages (de:" in out and "en:" in out and "rag ask" in out
    assert main(["ask", "Wer führte Regie?", "--json", "--k", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {p["lang"] for p in data["passages"]} == {"de", "en"}
    assert main(["ask", "Who plays Eun-soo?"]) == 0
    text = capsys.readouterr().out
    assert "\nEnglish — " in text and "soundtrack1_review_en.txt:" in text  # its heading says how sure


def test_second_index_run_reports_unchanged(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["index"])
    capsys.readouterr()
    assert main(["index"]) == 0
    assert "unchanged" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["ask", ""], "empty"),
    (["ask", "x" * 3000], "2000"),
    (["ask", "Who?", "--k", "0"], "k must"),
    (["ask", "Who?", "--index", "/nonexistent/index"], "rag index"),
    (["ask", "bad \udcff utf8"], "UTF-8"),
    (["index", "--corpus", "/nonexistent/corpus"], "does not exist"),
    (["frobnicate"], "invalid choice"),
    (["ask", "Who?", "--k", "many"], "invalid int"),
])
def test_errors_are_one_line_and_exit_2(env: Path, capsys: pytest.CaptureFixture[str],
                                        argv: list[str], message: str) -> None:
    main(["index"])
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_ask_builds_a_missing_index_first_and_names_the_fix_for_a_stale_one(
        env: Path, corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Who directed it?"]) == 0  # no index yet: built, with a note on stderr, then answered
    out, err = capsys.readouterr()
    assert "building it first" in err and "soundtrack1_" in out
    (corpus_dir / "extra.txt").write_text("Another review of the K-drama with enough words.", encoding="utf-8")
    assert main(["ask", "Who directed it?"]) == 2
    assert "stale" in capsys.readouterr().err


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(cmd in out for cmd in ("index", "ask", "eval"))


def test_settings_come_from_environment(env: Path) -> None:
    settings = Settings.from_env()
    assert settings.model == "hashing" and settings.index_dir == env


@pytest.mark.parametrize(("key", "value"), [("RAG_K", "many"), ("RAG_SOFT_WEIGHT", "lots"), ("RAG_CHUNK_SIZE", "3")])
def test_bad_environment_setting_is_one_line_and_exit_2(env: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch, key: str, value: str) -> None:
    monkeypatch.setenv(key, value)
    assert main(["index"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rag: error:" in err and "Traceback" not in err
