"""The eval set itself: well-formed, and every gold string really is in its source."""

from __future__ import annotations

from collections import Counter

from rag.corpus import collapse
from rag.evaluation import CONVERSATIONS, DEFAULT_SET, load_set
from tests.conftest import CORPUS

SOURCES = {"en": "soundtrack1_review_en.txt", "de": "soundtrack1_article_de.txt"}
UNANSWERED = ("off_topic", "unanswerable")  # no source answers: other subjects, or details no source mentions


def test_eval_set_is_well_formed_and_gold_is_in_the_sources() -> None:
    items = load_set(DEFAULT_SET)
    texts = {lang: collapse((CORPUS / name).read_text(encoding="utf-8")) for lang, name in SOURCES.items()}
    assert len({i.id for i in items}) == len(items)
    on_topic = [i for i in items if not i.off_topic]
    assert len(on_topic) >= 150 and len(items) - len(on_topic) >= 40
    assert {i.split for i in items} == {"tune", "test"}
    for item in items:
        assert all(item.questions[lang].strip() for lang in SOURCES), item.id
        assert item.off_topic == (item.category in UNANSWERED), item.id
        for lang, alternatives in item.gold.items():
            for gold in alternatives or []:
                assert collapse(gold) in texts[lang], (item.id, lang, gold)
    for split in ("tune", "test"):  # both halves can measure every kind of question
        part = [i for i in items if i.split == split]
        assert sum(not i.off_topic for i in part) >= 30 and sum(i.off_topic for i in part) >= 8, split
        assert Counter(i.category for i in part if not i.off_topic).keys() == Counter(
            i.category for i in on_topic).keys(), split


def test_conversations_are_well_formed_and_gold_is_in_the_sources() -> None:
    turns = load_set(CONVERSATIONS)
    texts = {lang: collapse((CORPUS / name).read_text(encoding="utf-8")) for lang, name in SOURCES.items()}
    assert len({t.id for t in turns}) == len(turns)
    assert {t.category for t in turns} == {"follow-up", "switch"}
    for split in ("tune", "test"):
        part = [t for t in turns if t.split == split]
        assert sum(t.category == "follow-up" for t in part) >= 10 and any(t.category == "switch" for t in part)
    assert sum(t.category == "follow-up" for t in turns) >= 20  # per language: every conversation is in both
    for turn in turns:
        for lang in SOURCES:
            assert turn.questions[lang].strip() and turn.history.get(lang), (turn.id, lang)
            assert all(q.strip() for q in turn.history[lang]), (turn.id, lang)
        for lang, alternatives in turn.gold.items():
            for gold in alternatives or []:
                assert collapse(gold) in texts[lang], (turn.id, lang, gold)
