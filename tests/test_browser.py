"""The chat page in headless Chromium: a German question gets English and German citations."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.config import PROJECT_DIR, Settings
from rag.index import build_index
from rag.ui import EXAMPLES
from tests.conftest import CORPUS, serving

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,  # starts Chromium (and, with RAG_SCREENSHOT=1, builds an index with the real model)
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at "
                       "/usr/bin/chromium (apt-get install chromium)"),
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),  # pandas 3 deprecation in gradio
]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def assistant(hashing_assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    if os.environ.get("RAG_SCREENSHOT") != "1":
        return hashing_assistant
    # The README's screenshot (RAG_SCREENSHOT=1) shows the real model's answer.
    settings = Settings(corpus_dir=CORPUS, index_dir=tmp_path_factory.mktemp("shot") / "index")
    build_index(settings)
    return Assistant.load(settings=settings)



@pytest.fixture
def url(assistant: Assistant) -> Iterator[str]:
    with serving(assistant) as local_url:
        yield local_url


def ask(page, question: str, replies: int) -> None:  # type: ignore[no-untyped-def]
    """Type a question, press Enter and wait until the chat shows `replies` bot messages."""
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    bot = page.locator("#chat [data-testid='bot']")
    bot.nth(replies - 1).wait_for(timeout=TIMEOUT_MS)


def test_german_question_cites_both_languages_and_script_stays_text(url: str,
                                                                   tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    dialogs: list[str] = []
    shot = (PROJECT_DIR / "docs" / "screenshot.png" if os.environ.get("RAG_SCREENSHOT") == "1"
            else tmp_path / "screenshot.png")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(url, timeout=TIMEOUT_MS)

            ask(page, "Wer führte Regie?", 1)
            chat, sources = page.locator("#chat"), page.locator("#sources")
            for text in ("soundtrack1_review_en.txt", "soundtrack1_article_de.txt"):
                expect(sources.get_by_text(text).first).to_be_visible(timeout=TIMEOUT_MS)
            for name in ("English", "Deutsch"):
                expect(sources.get_by_role("heading", name=name)).to_be_visible()
            expect(sources.get_by_text("score").first).to_be_visible()
            expect(sources.locator("mark").first).to_be_visible()
            # The question and the short answer stay in view; the reply is announced as words, not markup.
            expect(chat.get_by_text("Wer führte Regie?")).to_be_in_viewport()
            bot = chat.locator("[data-testid='bot']").last
            expect(bot).to_be_in_viewport()
            label = bot.get_attribute("aria-label") or ""
            assert label.startswith("bot's message: ") and "[1]" in label
            assert "<" not in label and "style=" not in label
            page.screenshot(path=str(shot), full_page=True)

            # Clicking an example asks it.
            page.locator("button", has_text=EXAMPLES[1]).first.click()
            page.locator("#chat [data-testid='bot']").nth(1).wait_for(timeout=TIMEOUT_MS)
            expect(chat.get_by_text(EXAMPLES[1])).to_be_visible()
            expect(sources.get_by_text(EXAMPLES[1])).to_be_visible(timeout=TIMEOUT_MS)

            for n, evil in enumerate(["<script>alert(1)</script>",
                                      "<img src=x onerror=alert(1)>"], start=3):
                ask(page, evil, n)
                expect(chat.get_by_text(evil, exact=True)).to_be_visible(timeout=TIMEOUT_MS)
            assert page.locator("#chat script, #sources script, img[src='x']").count() == 0
            page.wait_for_timeout(300)  # give an injected handler the chance to fire
        finally:
            browser.close()
    assert dialogs == []
    assert shot.stat().st_size > 10_000
