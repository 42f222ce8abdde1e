"""Load: many concurrent questions, to the Assistant directly and through the page's /ask API, give
exactly the answers one-at-a-time asking gives, with no failures. Loopback only, bounded in count.
How fast that goes is measured by `rag bench`, not asserted here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from rag.assistant import Assistant
from rag.errors import InvalidQuestionError
from tests.conftest import serving

pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")

QUESTIONS = [
    "Wer führte Regie?", "Who plays Seon-woo?", "Wie viele Folgen hat die Serie?",
    "What do critics say about the music?", "Who plays Eun-soo?", "Wann erschien die Serie auf Disney+?",
    "Welche Rolle spielt Han So-hee?", "How long is each episode?", "Who wrote the songs?",
    "Was ist die Handlung?", "music soundtrack OST", "Wer ist der Fotograf?",
    "What is the capital of Peru?", "Wie backe ich Brot?", "Who won the 1998 World Cup?",  # off-topic
    "Wer\x00 führte\x07 Regie?", "🎬🎵 Soundtrack #1?? 💕", "<script>alert(1)</script>",
    "'; DROP TABLE passages; --", "박형식 한소희 사운드트랙", "\u202eRTL override\u202c text", "?", "a",
    "", "   \n\t ", "x" * 2001,  # refused, with the same message either way
]
REFUSED = {"", "   \n\t ", "x" * 2001}
ROUNDS = 8  # 26 questions x 8 = 208 asks over HTTP


def expected(assistant: Assistant, question: str, **options: object) -> dict:
    """The single-threaded outcome: the answer as JSON, or the error message."""
    try:
        return json.loads(json.dumps(assistant.ask(question, **options).to_dict()))  # type: ignore[arg-type]
    except InvalidQuestionError as exc:
        return {"error": str(exc)}


def test_assistant_from_16_threads_answers_as_sequentially(hashing_assistant: Assistant) -> None:
    options = [{}, {"k": 1}, {"k": 5}, {"languages": ["de"]}, {"k": 2, "languages": ["en"]}]
    jobs = [(q, options[i % len(options)]) for i, q in enumerate(QUESTIONS * 16)][:400]
    assert len(jobs) == 400
    sequential = [expected(hashing_assistant, q, **o) for q, o in jobs]
    with ThreadPoolExecutor(max_workers=16) as pool:
        concurrent = list(pool.map(lambda job: expected(hashing_assistant, job[0], **job[1]), jobs))
    mismatches = [jobs[i][0] for i, (a, b) in enumerate(zip(concurrent, sequential, strict=True)) if a != b]
    assert not mismatches
    assert sum("error" in s for s in sequential) == sum(q in REFUSED for q, _ in jobs)
    assert sum(bool(s.get("passages")) for s in sequential) > 200



@pytest.fixture(scope="module")
def server(hashing_assistant: Assistant) -> Iterator[str]:
    with serving(hashing_assistant) as url:
        yield url


@pytest.mark.slow  # 208 HTTP calls: ~15 s on 2 cores; the 16-thread test above covers the same code in-process
def test_api_from_16_clients_answers_as_sequentially(server: str, hashing_assistant: Assistant) -> None:
    from gradio_client import Client

    assert server.startswith("http://127.0.0.1:")
    wanted = {q: expected(hashing_assistant, q) for q in QUESTIONS}
    jobs = QUESTIONS * ROUNDS

    def worker(share: list[str]) -> list[tuple[str, dict | str]]:
        client = Client(server, verbose=False)
        results: list[tuple[str, dict | str]] = []
        for question in share:
            try:
                results.append((question, client.predict(question, api_name="/ask")))
            except Exception as exc:  # gr.Error reaches the client as an exception with its message
                results.append((question, f"{type(exc).__name__}: {exc}"))
        return results

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = [r for share in pool.map(worker, [jobs[i::16] for i in range(16)]) for r in share]
    assert len(results) == len(jobs) >= 200
    failures = []
    for question, got in results:
        want = wanted[question]
        # A refusal reaches the client as an error with the same message, capitalised as a sentence.
        ok = isinstance(got, str) and want["error"][1:] in got if "error" in want else got == want
        if not ok:
            failures.append((question, str(got)[:200]))
    assert not failures, failures[:5]
