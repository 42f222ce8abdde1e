"""Adding a document from the page, in headless Chromium: its progress shows, another tab's questions are answered
while the index is updated, and then the new PDF is cited with its page."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import rag.serve.upload
from rag.assistant import Assistant
from rag.config import Settings
from rag.index import build_index
from tests.conftest import free_port, hashing_settings
from tests.documents import QUESTIONS, pdf_bytes, with_seeds
from tests.test_browser import ARGS, CHROMIUM, TIMEOUT_MS, ask

pytestmark = [
    pytest.mark.usefixtures("open_policy"),  # the hashing embedder's scores: see tests/conftest.py
    pytest.mark.slow,  # starts Chromium
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),
]


@pytest.fixture
def upload_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Settings, threading.Event]]:
    from rag.serve.page import create_app

    corpus = with_seeds(tmp_path / "corpus")
    settings = hashing_settings(corpus, tmp_path / "index")
    build_index(settings)
    release = threading.Event()  # the update waits for it: long enough to ask from another tab meanwhile

    def slow_build(settings: Settings, listener: Callable[[int, int], None] | None = None, **kw: Any) -> Any:
        if listener:
            listener(0, 10)
        release.wait(30)
        return build_index(settings, listener=listener, **kw)

    monkeypatch.setattr(rag.serve.upload, "build_index", slow_build)
    demo = create_app(Assistant.load(settings=settings), uploads=True)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield url, settings, release
    finally:
        release.set()
        demo.close()


def test_a_pdf_added_from_the_page_is_cited_with_its_page(upload_page: tuple[str, Settings, threading.Event],
                                                          tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, settings, release = upload_page
    pdf = tmp_path / "notes.pdf"
    pdf.write_bytes(pdf_bytes())
    question, words = QUESTIONS["notes.pdf"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page, other = browser.new_page(), browser.new_page()
            page.goto(url, timeout=TIMEOUT_MS)
            other.goto(url, timeout=TIMEOUT_MS)
            page.get_by_text("Options").click()
            page.get_by_text("Add documents").click()
            page.locator("#upload input[type=file]").set_input_files(str(pdf))
            page.locator("#add").click()
            expect(page.locator("#upload-status")).to_contain_text("Adding notes.pdf: 0 %", timeout=TIMEOUT_MS)
            assert (settings.corpus_dir / "notes.pdf").read_bytes() == pdf.read_bytes()
            ask(other, "Wer führte Regie?", 1)  # the other tab is answered while the index is being updated
            expect(page.locator("#upload-status")).to_contain_text("Adding notes.pdf")  # still updating
            release.set()
            expect(page.locator("#upload-status")).to_contain_text("Added notes.pdf: ask about it now.",
                                                                   timeout=60_000)
            ask(page, question, 1)
            card = page.locator("#conversation .rag-turn").last.locator("li", has_text=words).first
            expect(card).to_contain_text("notes.pdf", timeout=TIMEOUT_MS)
            expect(card).to_contain_text("p. 2")
        finally:
            browser.close()
