"""Security: the page is private to this machine unless told otherwise, --auth really guards page and
API, and nothing executes code stored in data."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import gradio as gr
import httpx
import pytest

import rag.serve.page
import rag.serve.preparing
from rag.assistant import Assistant
from rag.config import PROJECT_DIR
from tests.conftest import load_app, serving

pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")





def own_address() -> str | None:
    """This machine's address on its outward network interface (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.254", 9))  # TEST-NET address: only picks the route
        except OSError:
            return None
        address = sock.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


# --- (a) private by default ------------------------------------------------------------------------


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch, hashing_assistant: Assistant) -> list[dict[str, Any]]:
    """Record what app.py / rag.serve.page.launch ask gradio for, instead of serving."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: calls.append(kwargs))
    monkeypatch.setattr(rag.serve.preparing, "open_or_prepare", lambda settings=None: hashing_assistant)
    monkeypatch.delenv("RAG_AUTH", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    return calls


def test_the_page_binds_to_loopback_by_default(launched: list[dict[str, Any]],
                                               hashing_assistant: Assistant) -> None:
    app = load_app()
    args = app.parse_args([])
    assert args.host == "127.0.0.1" and args.auth is None
    assert app.main([]) == 0
    assert launched[-1]["server_name"] == "127.0.0.1" and launched[-1]["auth"] is None
    assert not launched[-1].get("share")  # no public gradio.live tunnel
    rag.serve.page.launch(hashing_assistant)
    assert launched[-1]["server_name"] == "127.0.0.1"


def test_auth_reaches_gradio_and_a_bare_host_warns(launched: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    app = load_app()
    assert app.main(["--host", "0.0.0.0"]) == 0
    assert "without --auth" in capsys.readouterr().err
    assert app.main(["--auth", "user:pw:with:colons"]) == 0
    assert launched[-1]["auth"] == ("user", "pw:with:colons")
    monkeypatch.setenv("RAG_AUTH", "env-user:env-pw")
    assert app.main([]) == 0 and launched[-1]["auth"] == ("env-user", "env-pw")
    for bad in ("user", "user:", ":pw"):
        with pytest.raises(SystemExit) as info:
            app.parse_args(["--auth", bad])
        assert info.value.code == 2
    assert "user:password" in capsys.readouterr().err


def test_a_default_launch_is_not_reachable_from_the_network(hashing_assistant: Assistant) -> None:
    address, host = own_address(), load_app().parse_args([]).host  # the host app.py uses by default
    with serving(hashing_assistant, host=host) as url:
        port = url.rstrip("/").rsplit(":", 1)[1]
        assert httpx.get(f"http://127.0.0.1:{port}/config", timeout=10).status_code == 200
        if address is None:
            pytest.skip("no network interface besides loopback to try")
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{address}:{port}/config", timeout=5)


# --- (b) --auth guards the page and the API -------------------------------------------------------


@pytest.fixture
def guarded(hashing_assistant: Assistant) -> Iterator[str]:
    with serving(hashing_assistant, auth=("user", "pw")) as url:
        yield url


def test_auth_protects_config_api_and_queue(guarded: str) -> None:
    for path in ("config", "gradio_api/info", "gradio_api/openapi.json"):
        response = httpx.get(guarded + path, timeout=10)
        assert response.status_code == 401, path
    for path in ("gradio_api/call/ask", "gradio_api/run/ask"):
        response = httpx.post(guarded + path, json={"data": ["Wer führte Regie?"]}, timeout=10)
        assert response.status_code == 401 and "Regie" not in response.text, path
    with httpx.Client(timeout=10) as session:
        assert session.post(guarded + "login", data={"username": "user", "password": "wrong"}).status_code >= 400
        assert session.get(guarded + "config").status_code == 401
        assert session.post(guarded + "login", data={"username": "user", "password": "pw"}).status_code == 200
        assert session.get(guarded + "config").status_code == 200


def test_auth_protects_the_python_client(guarded: str) -> None:
    from gradio_client import Client

    with pytest.raises(Exception, match="credentials|login|[Aa]uth"):
        Client(guarded, verbose=False).predict("Wer führte Regie?", api_name="/ask")
    with pytest.raises(Exception, match="login"):
        Client(guarded, verbose=False, auth=("user", "not-the-password"))
    answer = Client(guarded, verbose=False, auth=("user", "pw")).predict("Wer führte Regie?", api_name="/ask")
    assert answer["lang"] == "de" and answer["passages"]


# --- (c) no code from data ------------------------------------------------------------------------


def test_no_code_paths_from_data_anywhere() -> None:
    """tests/test_index.py checks rag/ for pickle and eval; this adds app.py, eval/ and more loaders."""
    files = [*(PROJECT_DIR / "rag").glob("*.py"), PROJECT_DIR / "app.py", *(PROJECT_DIR / "eval").glob("*.py"),
             *(PROJECT_DIR / "benchmarks").glob("*.py")]
    risky = [r"\bimport pickle", r"\bpickle\.loads?\(", r"allow_pickle\s*=\s*True", r"(?<![\w.])eval\(",
             r"allow_dangerous_deserialization\s*=\s*True", r"\.load_local\(",  # LangChain's pickled docstore
             r"(?<![\w.])exec\(", r"torch\.load\(", r"\bimport (marshal|shelve|dill|joblib)\b",
             r"yaml\.(unsafe_)?load\(", r"trust_remote_code\s*=\s*True", r"\bos\.system\(", r"shell\s*=\s*True"]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for pattern in risky:
            assert not re.search(pattern, text), f"{path.name}: {pattern}"
