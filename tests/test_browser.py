"""The chat page in headless Chromium: a German question gets English and German citations."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.config import PROJECT_DIR, Settings
from rag.index import build_index
from rag.serve.page import EXAMPLES
from tests.conftest import CORPUS, serving
from tests.test_preparing import gate, prepare  # noqa: F401 - gate is a fixture

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


def ask(page, question: str, turns: int) -> None:  # type: ignore[no-untyped-def]
    """Type a question, press Enter and wait until the conversation shows `turns` turns."""
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.locator("#conversation .rag-turn").nth(turns - 1).wait_for(timeout=TIMEOUT_MS)


def launch(p, viewport: tuple[int, int] = (1280, 1000)):  # type: ignore[no-untyped-def]
    """A headless Chromium page that may use the clipboard (for "Copy quote")."""
    browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    return browser, context.new_page()


def test_a_citation_opens_its_card_and_its_document_and_a_clear_leaves_no_trace(
        url: str, assistant: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import expect, sync_playwright

    histories: list[list[str]] = []
    real = assistant.ask
    monkeypatch.setattr(assistant, "ask", lambda *a, **kw: (histories.append(list(kw.get("history") or [])),
                                                             real(*a, **kw))[1])
    dialogs: list[str] = []
    shot = (PROJECT_DIR / "docs" / "screenshot.png" if os.environ.get("RAG_SCREENSHOT") == "1"
            else tmp_path / "screenshot.png")
    with sync_playwright() as p:
        browser, page = launch(p)
        try:
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(url, timeout=TIMEOUT_MS)
            ask(page, "Wer führte Regie?", 1)
            turn = page.locator("#conversation .rag-turn").last
            for name in ("English", "Deutsch"):
                expect(turn.get_by_role("heading", name=name)).to_be_visible()
            expect(turn.locator(".rag-chip").first).to_be_visible()  # confidence as a word
            assert "score" not in turn.locator(".rag-meta").first.inner_text()  # the score is a tooltip only
            expect(page.locator(".rag-a-text")).to_be_in_viewport()  # the answer first, in view
            page.screenshot(path=str(shot), full_page=True)

            # [1] (by keyboard) scrolls to its card and flashes it.
            cite = page.locator("a.rag-cite", has_text="[1]").first
            cite.focus()
            page.keyboard.press("Enter")
            card = page.locator("#t1-p1")
            expect(card).to_be_in_viewport()
            assert page.evaluate("location.hash") == "#t1-p1" and page.locator(".rag-card:target").count() == 1
            cited_text = card.locator(".rag-text").inner_text()

            # "Show in document": the cited span highlighted, with its neighbours; Escape closes it.
            card.get_by_role("button", name="Show in document").focus()
            page.keyboard.press("Enter")
            viewer = page.locator("#rag-viewer[open]")
            expect(viewer).to_be_visible()
            expect(viewer.locator(".rag-here")).to_have_text(cited_text)
            shown = viewer.locator(".rag-viewer-text").inner_text()
            assert len(shown) > len(cited_text) + 40 and shown.count("line") >= 2  # paragraphs around it
            expect(viewer.get_by_role("heading")).to_contain_text("soundtrack1_")
            expect(viewer.get_by_role("button", name="← Previous passage")).to_be_disabled()
            viewer.get_by_role("button", name="Next passage →").click()
            expect(viewer.locator(".rag-here")).to_have_text(page.locator("#t1-p2 .rag-text").inner_text())
            page.keyboard.press("Escape")
            expect(page.locator("dialog[open]")).to_have_count(0)

            card.get_by_role("button", name="Copy quote").click()
            expect(card.get_by_role("button", name="Copy quote [1] with its citation")).to_have_text("Copied ✓")
            quote = page.evaluate("navigator.clipboard.readText()")
            assert cited_text[:40] in quote and "soundtrack1_" in quote and "line" in quote

            # A reload keeps the conversation; the one Clear empties it, and the next question has no history.
            page.reload()
            page.locator("#conversation .rag-turn").first.wait_for(timeout=TIMEOUT_MS)
            expect(page.locator("#conversation")).to_contain_text("Wer führte Regie?")
            page.locator("#clear").click()
            expect(page.locator("#conversation .rag-turn")).to_have_count(0)
            histories.clear()
            ask(page, "Who plays Seon-woo?", 1)
            expect(page.locator("#conversation .rag-turn")).to_have_count(1)
            expect(page.locator("#conversation")).not_to_contain_text("Wer führte Regie?")
            assert histories == [[]]
            page.reload()
            page.locator("#conversation .rag-turn").first.wait_for(timeout=TIMEOUT_MS)
            expect(page.locator("#conversation .rag-turn")).to_have_count(1)
            expect(page.locator("#conversation")).not_to_contain_text("Wer führte Regie?")

            # Clicking an example asks it; a script question stays text.
            page.locator("button", has_text=EXAMPLES[1]).first.click()
            ask_turns = page.locator("#conversation .rag-turn")
            expect(ask_turns).to_have_count(2, timeout=TIMEOUT_MS)
            for n, evil in enumerate(["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"], start=3):
                ask(page, evil, n)
                expect(page.locator("#conversation").get_by_text(evil, exact=True)).to_be_visible()
            assert page.locator("#conversation script, img[src='x']").count() == 0
            page.wait_for_timeout(300)  # give an injected handler the chance to fire
        finally:
            browser.close()
    assert dialogs == []
    assert shot.stat().st_size > 10_000


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [(1280, 1000), (390, 844)], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations_before_and_after_an_answer(
        url: str, theme: str, viewport: tuple[int, int], tmp_path: Path) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    found: dict[str, list[str]] = {}

    def check(page, moment: str) -> None:  # type: ignore[no-untyped-def]
        for violation in Axe().run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                found.setdefault(moment, []).append(
                    f"{violation['id']}: {[node['target'] for node in violation['nodes'][:3]]}")

    with sync_playwright() as p:
        browser, page = launch(p, viewport)
        try:
            page.goto(f"{url}?__theme={theme}", timeout=TIMEOUT_MS)
            page.locator("#question textarea").wait_for(timeout=TIMEOUT_MS)
            page.get_by_text(EXAMPLES[-1]).wait_for(timeout=TIMEOUT_MS)  # the page drawn to its last example
            check(page, "before")
            ask(page, "Wer führte Regie?", 1)
            page.wait_for_timeout(500)  # the scroll to the answer
            answer = page.locator(".rag-a-text").last.bounding_box()
            page.screenshot(path=str(tmp_path / f"answer-{theme}-{viewport[0]}.png"))
            # The answer's first line is on the first screen, below nothing that hides it.
            assert answer is not None and answer["y"] >= 0 and answer["y"] + 24 <= viewport[1], tmp_path
            check(page, "after")
            page.locator("#t1-p1").get_by_role("button", name="Show in document").click()
            page.locator("#rag-viewer[open] .rag-here").wait_for(timeout=TIMEOUT_MS)
            check(page, "viewer")
        finally:
            browser.close()
    assert found == {}, found


def test_the_page_opens_before_its_index_and_shows_the_progress(corpus_dir: Path, tmp_path: Path,
                                                                gate: threading.Event) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    assistant = prepare(corpus_dir, tmp_path)  # its build waits at the gate
    with serving(assistant) as url, sync_playwright() as p:
        browser, page = launch(p)
        try:
            page.goto(url, timeout=TIMEOUT_MS)
            expect(page.locator("#preparing")).to_contain_text("Preparing the index", timeout=TIMEOUT_MS)
            ask(page, "Wer führte Regie?", 1)
            turn = page.locator("#conversation .rag-turn").last
            expect(turn.locator(".rag-error")).to_contain_text("ask again in a moment")
            gate.set()
            expect(page.locator("#preparing")).to_be_hidden(timeout=TIMEOUT_MS)  # the build is done
            ask(page, "Wer führte Regie?", 2)
            expect(page.locator("#conversation .rag-turn").last.locator(".rag-card").first).to_be_visible()
        finally:
            browser.close()
