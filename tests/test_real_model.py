"""The shipped default model, end to end: the issue's acceptance checks and the quality floor."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from rag.answer import LIKELY
from rag.assistant import Assistant
from rag.config import Settings
from rag.corpus import collapse
from rag.evaluation import CONVERSATIONS, evaluate, load_set, rank_of
from rag.index import build_index
from rag.serve.page import EXAMPLES
from rag.vocabulary import words
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow  # loads the real models: minutes, not seconds

# Floors for the eval set's TEST split (with the shipped adapter), a little under what the README reports,
# so that noise passes and a real regression fails.
# One question is about 0.007 of a direction (about 140 each) and 0.0045 of off-topic (220).
FLOOR_HIT3 = {"en->en": 0.82, "en->de": 0.86, "de->en": 0.82, "de->de": 0.86}  # measured .872 .914 .879 .921
FLOOR_MEAN_HIT1 = 0.70  # measured 0.748
FLOOR_ANSWERED = 0.98  # answerable questions given passages: nothing on-topic is hidden (0.995 measured)
FLOOR_OFF_TOPIC = 0.20  # questions no source answers given none (0.436 measured: the price of hiding nothing on topic)
FLOOR_OFF_TOPIC_ONLY = 0.62  # of them the off-topic ones (0.716 measured; 0.493 before the probe read words)
FLOOR_SHOWN = 0.98  # answerable sides given passages, each direction (0.993 at worst measured; one side is 0.007)
FLOOR_MISSING_SIDE = 0.92  # a language whose source does not answer is not said to answer (1.000 measured)
FLOOR_AUROC = 0.77  # the confidence ranks sides whose top 3 hold the answer above the others (0.835 measured)
FLOOR_FOLLOW_UP_HIT3 = 0.75  # second turns of follow-up conversations, both splits, mean of the directions


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("real")
    shutil.copytree(CORPUS, root / "corpus")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")  # default model
    build_index(settings)
    return Assistant.load(settings=settings)


def test_who_directed_cites_both_languages_at_the_right_place(real: Assistant) -> None:
    answer = real.ask("Wer führte Regie?")
    by_lang = {lang: [p for _, p in items] for lang, items in answer.by_language().items()}
    assert set(by_lang) == {"de", "en"}
    for p in answer.passages:
        raw = (real.settings.corpus_dir / p.source).read_text(encoding="utf-8")
        assert collapse(raw[p.start : p.end]) == p.text
    assert "Regie von Kim Hee-won" in by_lang["de"][0].text
    assert any("Kim Hee-Won" in p.text and "direct" in p.text for p in by_lang["en"])


@pytest.mark.parametrize("question", [
    "What is the capital of France?", "Wie wird das Wetter morgen in Berlin?",
    "Give me a good pancake recipe.", "How do I sort a list in Python?",
])
def test_off_topic_question_gets_no_passages_or_never_claims_an_answer(real: Assistant, question: str) -> None:
    """The topic gate refuses at most 1 % of on-topic questions, so some off-topic ones pass it ("pancake recipe"):
    then every language is only `related`, more likely wrong than right, and the text quotes nothing."""
    answer = real.ask(question)
    if answer.passages:
        assert all(c.label == "related" and c.probability < LIKELY for c in answer.confidence.values())
        assert answer.text.count("[") == len(answer.passages) and "Possibly" not in answer.text
    else:
        assert "nichts gefunden" in answer.text or "nothing" in answer.text


@pytest.mark.parametrize("question", EXAMPLES)
def test_every_example_on_the_page_cites_its_answer_first_in_both_languages(real: Assistant, question: str) -> None:
    item = next(i for i in load_set() for q in i.questions.values() if q == question)  # examples are eval questions
    answer = real.ask(question)
    for lang in ("en", "de"):
        assert rank_of(answer, lang, item.gold[lang] or []) == 1, (lang, [p.text[:60] for p in answer.passages])


@pytest.mark.parametrize(("question", "silent"), [
    ("Is Seon-woo a Fotograf?", set()),  # a German word in an English question: English says "photographer"
    ("Does Kyuhyun sing on the OST?", {"en"}),  # a name only the German article writes
])
def test_a_name_only_one_source_writes_empties_the_other_side(real: Assistant, question: str,
                                                               silent: set[str]) -> None:
    retriever = real.retriever
    query = real.index.names.normalize(question)
    question_words = words(query)
    vectors = dict(zip(question_words, retriever.embed(question_words), strict=True))
    assert retriever.abstention.silent_languages(query, "en", vectors) == silent


def test_quality_floor_on_the_test_split(real: Assistant) -> None:
    items = [i for i in load_set() if i.split == "test"]
    report = evaluate(lambda q: real.ask(q, k=3), items)["test"]
    for direction, floor in FLOOR_HIT3.items():
        assert report["directions"][direction]["hit@3"] >= floor, (direction, report["directions"])
    hit1 = [m["hit@1"] for m in report["directions"].values()]
    assert sum(hit1) / len(hit1) >= FLOOR_MEAN_HIT1, report["directions"]
    assert report["abstain_off_topic"]["accuracy"] >= FLOOR_OFF_TOPIC, report
    assert report["abstain_off_topic"]["by_category"]["off_topic"]["accuracy"] >= FLOOR_OFF_TOPIC_ONLY, report
    assert all(m["accuracy"] >= FLOOR_SHOWN for m in report["answerable_sides_shown"]["by_direction"].values()), \
        report["answerable_sides_shown"]
    assert report["answered"]["accuracy"] >= FLOOR_ANSWERED, report["answered"]
    assert report["abstain_missing_side"]["accuracy"] >= FLOOR_MISSING_SIDE, report["abstain_missing_side"]
    assert report["confidence"]["auroc_top3"] >= FLOOR_AUROC, report["confidence"]


def test_the_shipped_adapter_is_installed_and_beats_identity_on_the_test_split(real: Assistant) -> None:
    """Trained on the tune split only (tools/ship_adapter.py); the test split was never trained on."""
    assert not real.retriever.adapter.identity
    plain = Assistant.load(settings=real.settings.with_(adapter=0), check_stale=False)
    items = [i for i in load_set() if i.split == "test"]

    def mean(assistant: Assistant, key: str) -> float:
        directions = evaluate(lambda q: assistant.ask(q, k=3), items)["test"]["directions"].values()
        return sum(m[key] for m in directions) / len(directions)

    assert mean(real, "hit@3") >= mean(plain, "hit@3") + 0.05  # measured 0.897 against 0.778
    assert mean(real, "hit@1") >= mean(plain, "hit@1") + 0.08  # measured 0.748 against 0.566


def test_the_confidence_reads_every_signal_it_was_fitted_on(real: Assistant) -> None:
    """With e5-small the ranker's chances and the question probes are there, per language."""
    from rag.search.confidence import shipped

    sides = real.retriever.search_sides("Wie lange dauert eine Folge?", 3, lang="de")
    policy = shipped()
    for side in sides.values():
        assert set(policy.sides.features) | set(policy.topic.features) <= set(side.features)
    assert sides["de"].features["probe_answerable"] != sides["en"].features["probe_answerable"]
    assert sides["de"].features["chance_top"] > 0.5  # "Laufzeit: Ungefähr 40 Minuten pro Episode"


def test_the_shipped_ranker_beats_the_hand_set_fusion_on_the_test_split(real: Assistant) -> None:
    """Trained on the tune split only (eval/train_ranker.py); RAG_RANKER=0 keeps the fusion's order."""
    assert real.retriever.ranker is not None
    fusion = Assistant.load(settings=real.settings.with_(ranker=0), check_stale=False)
    assert fusion.retriever.ranker is None
    items = [i for i in load_set() if i.split == "test"]

    def mean(assistant: Assistant, key: str) -> float:
        directions = evaluate(lambda q: assistant.ask(q, k=3), items)["test"]["directions"].values()
        return sum(m[key] for m in directions) / len(directions)

    assert mean(real, "hit@3") >= mean(fusion, "hit@3")  # measured 0.897 against 0.895
    assert mean(real, "hit@1") >= mean(fusion, "hit@1") + 0.01  # measured 0.748 against 0.730


@pytest.mark.parametrize(("question", "lang", "needle", "top"), [
    ("Who wrote the script?", "en", "screenwriter Chae Yoon", 1),  # was: "I found nothing"
    ("Wie lange dauert eine Folge?", "de", "Laufzeit: Ungefähr 40 Minuten", 1),  # was third, after marketing copy
    ("Wo kann man die Serie streamen?", "de", "Disney+", 3),
    ("Which songs are on the OST?", "en", "Wanna be your lover", 1),  # was third
    ("What is the show's genre?", "de", "Genre: Romanze, Musik", 1),
])
def test_the_answers_issue_examples_find_their_answer(real: Assistant, question: str, lang: str, needle: str,
                                                      top: int) -> None:
    """The answers issue's examples, written by a reader: the passage that answers is shown, not hidden."""
    answer = real.ask(question)
    shown = [p.text for p in answer.passages if p.lang == lang][:top]
    assert any(needle in text for text in shown), shown
    assert answer.confidence[lang].label in ("answers", "related")


@pytest.mark.parametrize("question", ["How tall is Han So-hee?", "What does Disney+ cost in Germany?"])
def test_a_question_no_source_answers_is_never_said_to_be_answered(real: Assistant, question: str) -> None:
    """No source gives a height or a price: the asked type is missing from every top passage."""
    answer = real.ask(question)
    assert all(c.label != "answers" for c in answer.confidence.values()), answer.confidence


def test_follow_ups_find_their_answer_through_the_conversation(real: Assistant) -> None:
    turns = [t for t in load_set(CONVERSATIONS) if t.category == "follow-up"]

    def mean_hit3(report: dict) -> float:
        directions = report["all"]["directions"].values()
        return sum(m["hit@3"] for m in directions) / len(directions)

    with_history = mean_hit3(evaluate(lambda q, history=None: real.ask(q, k=3, history=history), turns))
    alone = mean_hit3(evaluate(lambda q, history=None: real.ask(q, k=3), turns))
    # measured with the shipped adapter and ranker and 254 follow-ups: 0.859 with the history, 0.723 without
    assert with_history >= FLOOR_FOLLOW_UP_HIT3 and with_history >= alone + 0.10, (with_history, alone)


def test_the_readme_follow_up_finds_the_runtime_in_german(real: Assistant) -> None:
    """README's example: the follow-up's own words keep half its vector, so the runtime line is found."""
    answer = real.ask("And how long is each one?", k=3, history=["Wie viele Folgen hat die Serie?"])
    assert any("Laufzeit" in p.text for p in answer.passages if p.lang == "de"), answer.passages


def test_default_model_loads_offline_and_embeds_queries_and_passages_differently() -> None:
    from rag.embedding import load_embedder

    e5 = load_embedder("e5-small")
    query = e5.embed(["Wer führte Regie?"], kind="query")
    passages = e5.embed(["Wer führte Regie?", "Unter der Regie von Kim Hee-won", "Episoden: 4"])
    assert query.shape == (1, 384) and passages.shape == (3, 384)
    assert float(query[0] @ passages[0]) < 0.999  # the "query: " / "passage: " prefixes make a difference
    assert float(query[0] @ passages[1]) > float(query[0] @ passages[2])  # and it finds the answer


def test_use_model_loads_offline_from_the_installed_package() -> None:
    from rag.embedding import load_embedder

    vectors = load_embedder("use-multilingual").embed(["Wer führte Regie?", "Who directed it?"])
    assert vectors.shape == (2, 512) and float(vectors[0] @ vectors[1]) > 0.3


def test_sentence_transformers_model_loads_offline() -> None:
    from rag.embedding import load_embedder

    minilm = load_embedder("minilm")
    assert minilm.embed(["a test sentence"]).shape == (1, 384)


def test_prebuilt_vectors_are_the_models_own_bytes() -> None:
    """rag/prebuilt/e5-small.vectors holds what the model gives, so a build that takes them answers the same."""
    from rag.embedding import load_embedder
    from rag.search import prebuilt
    from rag.vectorcache import embedding_key

    embedder = load_embedder("e5-small")
    shipped = prebuilt.load("e5-small", embedder.dim)
    sample = ["haus", "house", "zeit", "music", "woche"]
    fresh = embedder.embed(sample, kind="query")
    for word, vector in zip(sample, fresh, strict=True):
        assert np.array_equal(shipped[embedding_key(word, "query")], vector), word
