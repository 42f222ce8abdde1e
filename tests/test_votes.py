"""Readers' votes: kept beside the index without following links, turned into training pairs, learned from, undone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import rag.serve.votes
from rag.assistant import Assistant
from rag.cli import main
from rag.config import Settings
from rag.errors import IndexWriteError
from rag.search.adapter import ADAPTER, PREVIOUS
from rag.serve import feedback
from rag.serve.learning import pairs_from_votes
from rag.serve.votes import VOTES, read_votes, record_vote
from tests.test_adapter import QUESTIONS, rank, tiny  # noqa: F401 - tiny is a fixture

__all__ = ["tiny"]

pytestmark = pytest.mark.usefixtures("open_policy", "quick_learning")  # tiny corpus: see tests/conftest.py


def plain(settings: Settings) -> Assistant:
    """The tiny index's assistant, ranking by the dense score alone (the bag-of-words embedder's lexical
    signals would outvote what the adapter learns)."""
    return Assistant.load(settings=settings.with_(lexical_weight=0.0, soft_weight=0.0, entity_weight=0.0),
                          check_stale=False)


def vote_for(assistant: Assistant, question: str, gold: str, up: bool = True) -> None:
    """What the page does when a reader picks the passage holding gold and presses 👍 (or 👎)."""
    answer = assistant.ask(question, k=6)
    n = next(i for i, p in enumerate(answer.passages, 1) if gold in p.text)
    assert feedback.vote(assistant, feedback.shown(answer), str(n), up).startswith("Noted")


def test_a_vote_is_appended_and_read_back_whatever_the_file_name(tiny: Settings) -> None:  # noqa: F811
    assistant = plain(tiny)
    answer = assistant.ask("who shot the scenes", k=2)
    record_vote(tiny.index_dir, answer.question, answer.lang, answer.passages[0], True)
    record_vote(tiny.index_dir, answer.question, answer.lang, answer.passages[1], False)
    with open(tiny.index_dir / VOTES, "a", encoding="utf-8") as handle:
        handle.write("not json\n")
    votes = read_votes(tiny.index_dir)
    assert [(v.up, v.source, v.start) for v in votes] == [
        (True, answer.passages[0].source, answer.passages[0].start),
        (False, answer.passages[1].source, answer.passages[1].start)]
    assert feedback.vote(assistant, {}, "1", True) == feedback.NOTHING_TO_VOTE
    assert feedback.vote(assistant, feedback.shown(answer), "9", True) == feedback.NOTHING_TO_VOTE


def test_votes_never_follow_a_link_and_are_capped(tiny: Settings, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    answer = plain(tiny).ask("who shot the scenes", k=1)
    outside = tmp_path / "outside.jsonl"
    outside.write_text("", encoding="utf-8")
    os.symlink(outside, tiny.index_dir / VOTES)
    with pytest.raises(IndexWriteError):
        record_vote(tiny.index_dir, answer.question, answer.lang, answer.passages[0], True)
    assert outside.read_text(encoding="utf-8") == ""
    (tiny.index_dir / VOTES).unlink()
    monkeypatch.setattr(rag.serve.votes, "MAX_BYTES", 300)
    record_vote(tiny.index_dir, answer.question, answer.lang, answer.passages[0], True)
    with pytest.raises(IndexWriteError, match="rag learn --from votes"):
        record_vote(tiny.index_dir, answer.question, answer.lang, answer.passages[0], True)


def test_votes_become_pairs_with_hard_negatives(tiny: Settings) -> None:  # noqa: F811
    assistant = plain(tiny)
    question, gold = QUESTIONS["a"]
    vote_for(assistant, question, gold)
    vote_for(assistant, question, "Part one opens", up=False)
    vote_for(assistant, "who shot the scenes", "Critics found", up=False)  # 👎 only: nothing to learn
    pairs = pairs_from_votes(read_votes(tiny.index_dir), assistant.retriever)
    assert len(pairs) == 1 and pairs[0].group == question and pairs[0].direction == "en->en"
    chunks = assistant.index.chunks
    assert gold in chunks[pairs[0].positives[0]].text and "Part one opens" in chunks[pairs[0].negatives[0]].text


def test_learning_from_votes_ranks_the_voted_passage_first_and_can_be_undone(tiny: Settings,  # noqa: F811
                                                                            capsys: pytest.CaptureFixture[str]
                                                                            ) -> None:
    assistant = plain(tiny)
    question, gold = "one part runs how many minutes", QUESTIONS["a"][1]  # never voted on: a rewording
    assert rank(assistant, question, gold) > 1
    assert main(["learn", "--from", "votes", "--index", str(tiny.index_dir)]) == 2  # no votes yet
    assert "no usable votes" in capsys.readouterr().err
    for key in "abcdef":
        vote_for(assistant, *QUESTIONS[key])
    assert feedback.learn_hint(assistant) == "6 new vote(s) to learn from."
    message = feedback.learn(assistant)
    assert message.startswith("Learned from 6 questions"), message
    after = plain(tiny)
    assert rank(after, question, gold) == 1 and feedback.learn_hint(after) == "No new votes to learn from."
    stored = json.loads((tiny.index_dir / ADAPTER).read_text())["info"]
    assert stored["votes"] == 6 and stored["sources"] == ["votes"]
    assert not (tiny.index_dir / PREVIOUS).exists()  # there was no adapter before: undo removes it
    assert feedback.unlearn(after).startswith("Undone") and not (tiny.index_dir / ADAPTER).exists()
    assert rank(plain(tiny), question, gold) > 1
