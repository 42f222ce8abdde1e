"""Feedback: the page's 👍/👎 on a passage of the last answer, and "Learn from N new votes" with its undo."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.answer import Answer, Passage
from rag.errors import RagError
from rag.serve.learning import learn_from_votes, new_votes, undo
from rag.serve.viewer import lines
from rag.serve.votes import record_vote
from rag.terminal import printable

if TYPE_CHECKING:
    from rag.assistant import Assistant

log = logging.getLogger("rag.ui")

NOTHING_TO_VOTE = "Ask a question first, then pick one of its passages."


def shown(answer: Answer | None) -> dict[str, Any]:
    """What a vote needs of the last answer, kept in the visitor's server-side state (never sent by the browser)."""
    if answer is None:
        return {}
    return {"question": answer.question, "lang": answer.lang, "passages": list(answer.passages)}


def choices(answer: Answer | None) -> list[tuple[str, str]]:
    """The passages of an answer as (label, value) for the vote's drop-down: "[2] file, line 14 — It has…"."""
    if answer is None:
        return []
    return [(f"[{n}] {printable(p.source)}, {lines(p)} — {p.text[:50]}…", str(n))
            for n, p in enumerate(answer.passages, start=1)]


def vote(assistant: Assistant, last: Any, choice: Any, up: bool) -> str:
    """Record 👍/👎 on the chosen passage of the last answer; a sentence for the page."""
    passages = last.get("passages", []) if isinstance(last, dict) else []
    if not passages or not isinstance(choice, str) or not choice.isdigit() or not 1 <= int(choice) <= len(passages):
        return NOTHING_TO_VOTE
    passage: Passage = passages[int(choice) - 1]
    try:
        record_vote(assistant.index.path, last["question"], last["lang"], passage, up)
    except RagError as exc:
        return f"⚠ {exc}"
    verdict = "answers" if up else "does not answer"
    return f"Noted: [{choice}] {verdict} “{printable(last['question'][:80])}”. {learn_hint(assistant)}"


def learn_hint(assistant: Assistant) -> str:
    """How many votes are waiting to be learned from."""
    index = assistant.index
    n = new_votes(index.path, index.manifest["model"], index.vectors.shape[1])
    return f"{n} new vote(s) to learn from." if n else "No new votes to learn from."


def learn(assistant: Assistant) -> str:
    """Train on the votes (and what the adapter learned from before); before/after figures for the page."""
    index = assistant.index
    settings = assistant.settings.with_(index_dir=index.path)
    try:
        lesson = learn_from_votes(settings, index.manifest["model"], index.vectors.shape[1])
    except RagError as exc:
        return f"⚠ {exc}"
    except Exception:
        log.exception("learning from votes failed")
        return "⚠ Learning failed; the assistant ranks as before."
    figures = lesson.figures.get("cross-validated")
    if not figures:
        return f"Not learned: {lesson.reason}"
    before, after = figures["identity"]["mean"], figures["adapter"]["mean"]
    head = "Learned" if lesson.installed else "Not learned"
    return (f"{head} from {lesson.questions} questions: right passage in the top 3 for {before['hit@3']:.0%} → "
            f"{after['hit@3']:.0%} of held-out questions, first for {before['hit@1']:.0%} → {after['hit@1']:.0%}. "
            f"{'' if lesson.installed else lesson.reason}")


def unlearn(assistant: Assistant) -> str:
    """Undo the last learning."""
    index = assistant.index
    try:
        return undo(index.path, index.manifest["model"], index.vectors.shape[1])
    except (RagError, OSError) as exc:
        return f"⚠ Cannot undo: {exc}"


@dataclass(frozen=True)
class Panel:
    """The page's feedback controls that the chat updates after each answer."""

    last: Any  # gr.State: shown() of the last answer
    choice: Any  # gr.Dropdown of its passages


def feedback_panel(assistant: Assistant, learning: bool) -> Panel:
    """Build the vote row (and, if learning, the learn and undo buttons) inside the current gr.Blocks."""
    import gradio as gr

    last = gr.State({})
    with gr.Accordion("Was a passage right? Vote, and the assistant learns from it", open=False):
        with gr.Row():
            choice = gr.Dropdown(choices=[], label="Passage", scale=4, elem_id="vote-choice")
            up = gr.Button("👍 answers it", scale=1, min_width=100, elem_id="vote-up")
            down = gr.Button("👎 does not", scale=1, min_width=100, elem_id="vote-down")
        status = gr.Markdown(elem_id="vote-status")
        up.click(lambda s, c: vote(assistant, s, c, True), [last, choice], status, api_visibility="private")
        down.click(lambda s, c: vote(assistant, s, c, False), [last, choice], status, api_visibility="private")
        if learning:
            with gr.Row():
                learn_button = gr.Button("Learn from the new votes", size="sm", elem_id="learn")
                undo_button = gr.Button("Undo the last learning", size="sm", elem_id="unlearn")
            learned = gr.Markdown(elem_id="learn-status")
            learn_button.click(lambda: learn(assistant), None, learned, api_visibility="private",
                               concurrency_limit=1)
            undo_button.click(lambda: unlearn(assistant), None, learned, api_visibility="private",
                              concurrency_limit=1)
    return Panel(last, choice)
