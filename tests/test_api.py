"""The page's programmatic side: the /ask API with all options, input validation at the HTTP boundary, MCP."""

from __future__ import annotations

import ast
import json
import logging
import math
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from rag.api import GENERIC_ERROR
from rag.assistant import Assistant
from rag.serve.chat import format_error
from rag.serve.page import create_app
from rag.serve.request import MAX_HISTORY
from tests.conftest import free_port, serving

# gradio's queue calls a pandas API that pandas 3 deprecates: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")


@pytest.fixture(scope="module")
def server(hashing_assistant: Assistant) -> Iterator[str]:
    with serving(hashing_assistant, mcp_server=True) as url:
        yield url


@pytest.fixture(scope="module")
def client(server: str) -> Any:
    from gradio_client import Client

    return Client(server, verbose=False)


def test_ask_takes_question_k_languages_and_history(client: Any, hashing_assistant: Assistant) -> None:
    plain = client.predict("Wer führte Regie?", api_name="/ask")
    assert plain["question"] == "Wer führte Regie?" and plain["lang"] == "de"
    assert {p["lang"] for p in plain["passages"]} == {"en", "de"}
    assert plain == hashing_assistant.ask("Wer führte Regie?").to_dict()
    one = client.predict("Wer führte Regie?", k=1, languages=["en"], history=["Wie viele Folgen hat die Serie?"],
                         api_name="/ask")
    assert [p["lang"] for p in one["passages"]] == ["en"]


BAD = [
    ({"question": ["Wer", "Regie"]}, "must be text, not list"), ({"question": 123}, "must be text, not int"),
    ({"question": True}, "must be text, not bool"), ({"question": {"q": "Wer?"}}, "must be text, not dict"),
    ({"question": ""}, "empty"), ({"question": "Wer?", "k": 0}, "k must"), ({"question": "Wer?", "k": 51}, "k must"),
    ({"question": "Wer?", "k": 2.5}, "k must"), ({"question": "Wer?", "k": "3"}, "k must"),
    ({"question": "Wer?", "languages": "en"}, "language codes"), ({"question": "Wer?", "languages": ["fr"]}, "unknown"),
    ({"question": "Wer?", "languages": [1]}, "language codes"), ({"question": "Wer?", "history": "Wer?"}, "list"),
    ({"question": "Wer?", "history": [1, 2]}, "history item 1"),
    ({"question": "Wer?", "history": ["Wer?"] * 5000}, f"at most the last {MAX_HISTORY}"),
]


@pytest.mark.parametrize(("kwargs", "words"), BAD)
def test_ask_refuses_malformed_input_with_a_clear_message(client: Any, kwargs: dict[str, Any], words: str,
                                                          capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exception, match="(?i)" + words.replace("(", r"\(")):
        client.predict(**kwargs, api_name="/ask")
    assert "Traceback" not in capfd.readouterr().err


def raw_call(url: str, path: str, body: str) -> str:
    """POST raw JSON to a gradio call endpoint and read its result stream (bounded)."""
    response = httpx.post(url + path, content=body, headers={"content-type": "application/json"}, timeout=10)
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    event = response.json()["event_id"]
    with httpx.stream("GET", f"{url}{path}/{event}", timeout=20) as stream:
        return "\n".join(line for _, line in zip(range(50), stream.iter_lines(), strict=False))


@pytest.mark.parametrize("k", ["NaN", "Infinity", "-1", "1e9", "[3]", "null"])
def test_ask_refuses_nan_and_odd_k_sent_as_raw_json(server: str, k: str, capfd: pytest.CaptureFixture[str]) -> None:
    out = raw_call(server, "gradio_api/call/ask", f'{{"data": ["Wer führte Regie?", {k}, null, null]}}')
    assert '"passages"' not in out and ("k must" in out.casefold() or "HTTP 4" in out)
    assert "Traceback" not in capfd.readouterr().err


def test_ask_with_only_a_question_takes_the_defaults(server: str, hashing_assistant: Assistant,
                                                     capfd: pytest.CaptureFixture[str]) -> None:
    """README says k, languages and history are optional: a raw call may leave them out (attack of issue 24)."""
    for data in ('["Wer führte Regie?"]', '["Wer führte Regie?", 3]', '["Wer führte Regie?", 3, null]'):
        out = raw_call(server, "gradio_api/call/ask", f'{{"data": {data}}}')
        assert "event: complete" in out, out
        answer = json.loads(out.split("data: ", 1)[1])[0]
        assert answer == hashing_assistant.ask("Wer führte Regie?").to_dict()
    out = raw_call(server, "gradio_api/call/ask", '{"data": []}')
    assert "event: error" in out and "Missing field: question" in out
    assert "Traceback" not in capfd.readouterr().err


@pytest.fixture(scope="module")
def chat_page(hashing_assistant: Assistant) -> Iterator[tuple[str, int]]:
    """A served page and the index of its hidden chat handler (what the browser calls)."""
    demo = create_app(hashing_assistant)
    index = next(i for i, fn in demo.fns.items() if getattr(fn.fn, "__name__", "") == "chat_fn")
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield url, index
    finally:
        demo.close()


def chat_over_http(page: tuple[str, int], data: list[Any]) -> dict[str, Any]:
    """One chat turn, as a new visitor, through the page's hidden handler; returns the completed event."""
    url, index = page
    return json.loads(join_chat(url, index, data, uuid.uuid4().hex).removeprefix("data: "))


def join_chat(url: str, fn_index: int, data: list[Any], session: str) -> str:
    """Call the page's hidden chat handler the way a browser does; returns the completed message."""
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session, "trigger_id": None,
                       "event_data": None}, allow_nan=True)
    joined = httpx.post(url + "gradio_api/queue/join", content=body,
                        headers={"content-type": "application/json"}, timeout=10)
    if joined.status_code != 200:
        return f"HTTP {joined.status_code}"
    with httpx.stream("GET", f"{url}gradio_api/queue/data?session_hash={session}", timeout=20) as stream:
        for _, line in zip(range(50), stream.iter_lines(), strict=False):
            if "process_completed" in line:
                return line
    raise AssertionError("the chat handler never completed")


@pytest.mark.parametrize(("data", "words"), [
    ([["Wer", "Regie"], None, 3, ["en", "de"]], "must be text"),
    ([123, None, 3, ["en", "de"]], "must be text"), ([True, None, 3, ["en"]], "must be text"),
    ([{"q": 1}, None, 3, ["en"]], "must be text"), (["Wer?", None, math.nan, ["en"]], "k must"),
    (["Wer?", None, 99, ["en"]], "k must"), (["Wer?", None, "3", ["en"]], "k must"),
    (["Wer?", None, 3, "en"], "language codes"), (["Wer?", None, 3, [["en"]]], "language codes"),
])
def test_hidden_chat_handler_refuses_malformed_input(chat_page: tuple[str, int], data: list[Any], words: str,
                                                     capfd: pytest.CaptureFixture[str]) -> None:
    message = chat_over_http(chat_page, data)
    assert message["success"] is True  # a message in the chat, not a server error
    reply = message["output"]["data"][0]  # the conversation's HTML
    assert 'role="alert"' in reply and (words in reply.casefold() or words in reply)
    err = capfd.readouterr().err
    assert "Traceback" not in err and len(err) < 10_000


def test_hidden_chat_handler_ignores_a_client_sent_history(chat_page: tuple[str, int]) -> None:
    huge = [{"question": "x" * 100}] * 5000  # the conversation is server-side state: never read
    done = chat_over_http(chat_page, ["Wer führte Regie?", huge, 3, ["en", "de"]])
    html = done["output"]["data"][0]
    assert html.count('class="rag-turn"') == 1 and "x" * 100 not in html


def test_an_unexpected_error_shows_a_generic_message_and_logs_the_traceback(
        hashing_assistant: Assistant, chat_page: tuple[str, int], client: Any, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A bug inside the page's handlers (chat and /ask): visitors get one generic sentence, the log the details."""
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals in /srv/rag/index")

    monkeypatch.setattr(hashing_assistant, "ask", broken)
    with caplog.at_level(logging.ERROR, logger="rag"):
        done = chat_over_http(chat_page, ["Wer führte Regie?", None, 3, ["en", "de"]])
        with pytest.raises(Exception, match=GENERIC_ERROR) as refused:
            client.predict("Wer führte Regie?", api_name="/ask")
    assert done["success"] is True  # a message in the chat, not a server error
    assert format_error(GENERIC_ERROR) in done["output"]["data"][0]
    assert "secret" not in str(refused.value) and "Traceback" not in str(refused.value)
    logged = [r for r in caplog.records if r.exc_info and "secret internals" in str(r.exc_info[1])]
    assert len(logged) == 2  # one per handler, each with its traceback


@pytest.mark.filterwarnings("ignore:Use `streamable_http_client`:DeprecationWarning")
def test_mcp_client_gets_cited_passages_in_both_languages(server: str) -> None:
    import anyio
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def call() -> tuple[list[str], dict[str, Any], str]:
        async with streamablehttp_client(server + "gradio_api/mcp/") as (read, write, _), \
                ClientSession(read, write) as session:
            await session.initialize()
            tools = (await session.list_tools()).tools
            result = await session.call_tool("ask_soundtrack", {"question": "Wer führte Regie?", "k": 2})
            refused = await session.call_tool("ask_soundtrack", {"question": ["Wer", "Regie"]})
            schema = next(t for t in tools if t.name == "ask_soundtrack").inputSchema
            text = "".join(getattr(c, "text", "") for c in refused.content)
            return [t.name for t in tools], {"schema": schema, "result": result}, text

    names, got, refused = anyio.run(call)
    assert names == ["ask_soundtrack"]  # the chat handler and examples are not tools
    assert set(got["schema"]["properties"]) == {"question", "k", "languages", "history"}
    result = got["result"]
    assert not result.isError
    # Gradio's MCP server sends a dict result as its Python repr: a literal, never code.
    answer = ast.literal_eval("".join(getattr(c, "text", "") for c in result.content))
    assert answer["lang"] == "de" and {p["lang"] for p in answer["passages"]} == {"en", "de"}
    assert all({"source", "start", "end", "line_start", "highlight"} <= set(p) for p in answer["passages"])
    assert "must be text" in refused or "is not of type 'string'" in refused  # the MCP layer checks types too


@pytest.mark.parametrize(("auth", "mcp"), [(None, True), (("user", "pw"), False)])
def test_mcp_is_served_only_without_auth(hashing_assistant: Assistant, monkeypatch: pytest.MonkeyPatch,
                                         auth: tuple[str, str] | None, mcp: bool) -> None:
    import gradio as gr

    import rag.serve.page

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: calls.append(kwargs))
    rag.serve.page.launch(hashing_assistant, auth=auth)
    assert calls[-1]["mcp_server"] is mcp  # Gradio's MCP route asks for no login


@pytest.fixture(scope="module")
def viewer_page(hashing_assistant: Assistant) -> Iterator[tuple[str, int]]:
    """A served page and the id of its conversation component (whose server function the viewer calls)."""
    demo = create_app(hashing_assistant)
    component = next(i for i, block in demo.blocks.items() if getattr(block, "elem_id", None) == "conversation")
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield url, component
    finally:
        demo.close()


@pytest.mark.parametrize("data", [["../../../etc/passwd", 0, 10], [{"a": 1}, [], None], "x" * 10_000],
                         ids=["a path", "junk", "huge"])
def test_the_viewer_endpoint_reads_only_the_index(viewer_page: tuple[str, int], hashing_assistant: Assistant,
                                                  data: Any) -> None:
    """What the page's "Show in document" calls, called by hand: nothing but an index passage comes back."""
    url, component = viewer_page
    body = {"data": data, "component_id": component, "fn_name": "view", "session_hash": uuid.uuid4().hex}
    call = url + "gradio_api/component_server"
    reply = httpx.post(call, json=body, timeout=10)
    assert reply.status_code == 200 and reply.json()["title"] == "Passage not found"
    first = hashing_assistant.index.chunks[0]
    body["data"] = [first.source, first.start, first.end]
    assert httpx.post(call, json=body, timeout=10).json()["title"].startswith(first.source)
    body["fn_name"] = "__init__"  # not a server function: refused
    assert httpx.post(call, json=body, timeout=10).status_code == 404
