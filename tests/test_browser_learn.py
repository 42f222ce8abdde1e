"""The page learns from its readers, in headless Chromium: votes 👍, "Learn from the new votes", and a rewording
of a voted question then finds the voted passage first; "Undo" puts the old ranking back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.config import Settings
from tests.conftest import free_port
from tests.test_adapter import QUESTIONS, tiny  # noqa: F401 - tiny is a fixture
from tests.test_browser import ARGS, CHROMIUM, TIMEOUT_MS, ask
from tests.test_votes import plain

pytestmark = [
    pytest.mark.usefixtures("open_policy", "quick_learning"),  # tiny corpus: see tests/conftest.py
    pytest.mark.slow,  # starts Chromium and trains an adapter
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),
]
REWORDED, GOLD = "one part runs how many minutes", QUESTIONS["a"][1]


@pytest.fixture
def learning_page(tiny: Settings) -> Iterator[tuple[str, Assistant]]:  # noqa: F811
    from rag.serve.page import create_app

    assistant = plain(tiny.with_(k=6))  # every passage of the tiny corpus on the page: each can be voted on
    demo = create_app(assistant, learning=True)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield url, assistant
    finally:
        demo.close()


def first_english_card(page) -> str:  # type: ignore[no-untyped-def]
    turn = page.locator("#conversation .rag-turn").last
    return turn.locator("section[lang='en'] li").first.inner_text(timeout=TIMEOUT_MS)


def english_rank(page, text: str) -> int | None:  # type: ignore[no-untyped-def]
    """The 1-based place of the English card holding text in the last turn, or None."""
    cards = page.locator("#conversation .rag-turn").last.locator("section[lang='en'] li")
    found = [n for n in range(cards.count()) if text in cards.nth(n).inner_text(timeout=TIMEOUT_MS)]
    return found[0] + 1 if found else None


def test_votes_teach_the_page_and_undo_unteaches_it(learning_page: tuple[str, Assistant], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, assistant = learning_page
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(url, timeout=TIMEOUT_MS)
            page.get_by_text("Was a passage right?").click()  # open the vote accordion
            replies = 0
            ask(page, REWORDED, replies := replies + 1)
            before = english_rank(page, GOLD)
            assert before is not None and 1 < before <= 3  # shown, but not first, before learning
            for key in "abcdef":
                question, gold = QUESTIONS[key]
                ask(page, question, replies := replies + 1)
                page.locator("#vote-choice input").click()
                page.get_by_role("option").filter(has_text=gold[:30]).first.click()
                page.locator("#vote-up").click()
                expect(page.locator("#vote-status")).to_contain_text("Noted", timeout=TIMEOUT_MS)
            expect(page.locator("#vote-status")).to_contain_text("6 new vote(s)")
            page.locator("#learn").click()
            expect(page.locator("#learn-status")).to_contain_text("Learned from 6 questions", timeout=60_000)
            ask(page, REWORDED, replies := replies + 1)
            assert GOLD in first_english_card(page)  # the rewording now finds the voted passage first
            page.screenshot(path=str(tmp_path / "learned.png"), full_page=True)
            page.locator("#unlearn").click()
            expect(page.locator("#learn-status")).to_contain_text("Undone", timeout=TIMEOUT_MS)
            ask(page, REWORDED, replies := replies + 1)
            assert GOLD not in first_english_card(page)
        finally:
            browser.close()
