"""app.py: a missing ui extra is named before anything loads; the login need not be on the command line."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import rag.serve.preparing
from tests.test_security import load_app

# --- the page without its extra ---------------------------------------------------------------------


def test_app_without_gradio_says_which_extra_before_loading_anything(monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    app = load_app()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gradio" else real(name, *a))

    def no_loading(settings: object = None) -> None:
        raise AssertionError("the index must not be loaded without the ui extra")

    monkeypatch.setattr(rag.serve.preparing, "open_or_prepare", no_loading)
    assert app.main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install -e ".[ui]"' in err


# --- the login need not be on the command line ------------------------------------------------------


def test_the_login_can_come_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("RAG_AUTH", raising=False)
    app = load_app()
    secret = tmp_path / "login"
    secret.write_text("user:pw:with:colons\n", encoding="utf-8")
    assert app.parse_args(["--auth-file", str(secret)]).auth == ("user", "pw:with:colons")
    for content in ("", "\n", "nopassword\n"):
        secret.write_text(content, encoding="utf-8")
        with pytest.raises(SystemExit) as info:
            app.parse_args(["--auth-file", str(secret)])
        assert info.value.code == 2
    with pytest.raises(SystemExit):
        app.parse_args(["--auth-file", str(tmp_path / "missing")])
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        app.parse_args(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--auth-file" in help_text and "prefer RAG_AUTH or --auth-file" in help_text
