"""The eval set itself: well-formed, and every gold string really is in its source."""

from __future__ import annotations

from collections import Counter

from rag.corpus import collapse
from rag.evaluation import DEFAULT_SET, load_set
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
