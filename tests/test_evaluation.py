"""The metrics of `rag eval`: ranks, hit@k, MRR, abstention and intervals on hand-made answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answer import Answer, Passage
from rag.cli import main
from rag.evaluation import Item, rank_of, summarize, wilson


def passage(text: str, lang: str) -> Passage:
    return Passage(text=text, lang=lang, source=f"doc_{lang}.txt", start=0, end=len(text), score=0.5)


def item(gold_en: list[str] | None, gold_de: list[str] | None) -> Item:
    return Item("q", "test", "cast", {"en": "Who?", "de": "Wer?"}, {"en": gold_en, "de": gold_de})


def test_rank_counts_only_passages_of_the_language_and_any_alternative() -> None:
    answer = Answer("Who?", "", [passage("Nothing here.", "en"), passage("Der Regisseur ist Kim.", "de"),
                                 passage("Directed by Kim Hee-won.", "en")])
    assert rank_of(answer, "en", ["kim hee-won"]) == 2  # case-insensitive; German passage not counted
    assert rank_of(answer, "de", ["Der Regisseur  ist\nKim"]) == 1  # gold whitespace collapsed
    assert rank_of(answer, "en", ["Parasite", "Nothing"]) == 1
    assert rank_of(answer, "de", ["Parasite"]) is None


def test_summary_scores_each_direction_and_abstention() -> None:
    hit_first = Answer("Who?", "", [passage("gold en", "en"), passage("gold de", "de")])
    hit_third = Answer("Who?", "", [passage("a", "en"), passage("b", "en"), passage("gold en", "en")])
    records = [
        (item(["gold en"], ["gold de"]), "en", hit_first, 1.0),
        (item(["gold en"], None), "de", hit_third, 3.0),  # de side has no answer, and none is shown
        (item(["gold en"], None), "en", hit_first, 2.0),  # de side shown although it has no answer
        (item(None, None), "en", Answer("Capital?", "", []), 1.0),  # off-topic, abstained
        (item(None, None), "de", hit_first, 1.0),  # off-topic, answered
    ]
    report = summarize(records)
    d = report["directions"]
    assert d["en->en"] == {"n": 2, "hit@1": 1.0, "hit@3": 1.0, "hit@3_ci95": wilson([True, True]), "mrr": 1.0}
    assert d["de->en"]["hit@1"] == 0.0 and d["de->en"]["hit@3"] == 1.0
    assert d["de->en"]["mrr"] == pytest.approx(1 / 3, abs=1e-3)
    assert d["en->de"]["n"] == 1 and d["de->de"]["n"] == 0
    assert report["abstain_missing_side"] == {"n": 2, "accuracy": 0.5}
    assert report["abstain_off_topic"]["accuracy"] == 0.5 and report["abstain_off_topic"]["n"] == 2
    assert report["latency_ms"]["p50"] == 1.0
    # every answerable side above is shown, except the German one of the question whose answer is empty
    shown = summarize([*records, (item(["gold en"], ["gold de"]), "de", Answer("Who?", "", []), 1.0)])
    assert shown["answerable_sides_shown"]["by_direction"] == {
        "de->de": {"n": 1, "accuracy": 0.0}, "de->en": {"n": 2, "accuracy": 0.5},
        "en->de": {"n": 1, "accuracy": 1.0}, "en->en": {"n": 2, "accuracy": 1.0}}


@pytest.mark.parametrize(("outcomes", "low", "high"), [
    ([True] * 30, 0.88, 1.0),
    ([True] * 27 + [False] * 3, 0.74, 0.97),
    ([True] * 270 + [False] * 30, 0.86, 0.93),  # ten times the questions: a much tighter interval
    ([], 0.0, 1.0),
])
def test_wilson_interval(outcomes: list[bool], low: float, high: float) -> None:
    lo, hi = wilson(outcomes)
    assert lo == pytest.approx(low, abs=0.01) and hi == pytest.approx(high, abs=0.01)
    if outcomes:
        assert lo <= sum(outcomes) / len(outcomes) <= hi


def test_rag_eval_json_reports_every_direction(hashing_index, tmp_path: Path,  # type: ignore[no-untyped-def]
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CORPUS_DIR", str(hashing_index.corpus_dir))
    rows = [
        {"id": "a", "split": "test", "category": "crew", "en": "Who directed it?", "de": "Wer führte Regie?",
         "gold": {"en": "director Kim Hee-Won", "de": "Unter der Regie von Kim Hee-won"}},
        {"id": "b", "split": "tune", "category": "off_topic", "en": "How do I bake bread?",
         "de": "Wie backe ich Brot?", "gold": {"en": None, "de": None}},
    ]
    eval_set = tmp_path / "set.jsonl"
    eval_set.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    code = main(["eval", "--index", str(hashing_index.index_dir), "--set", str(eval_set), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"test", "tune", "all", "settings"}
    assert set(report["test"]["directions"]) == {"en->en", "en->de", "de->en", "de->de"}
    assert all(m["n"] == 1 for m in report["test"]["directions"].values())
    assert report["tune"]["abstain_off_topic"]["n"] == 2
    assert report["settings"]["model"] == "hashing"
    assert main(["eval", "--index", str(hashing_index.index_dir), "--set", str(tmp_path / "missing.jsonl")]) == 2
    assert "cannot read eval set" in capsys.readouterr().err


def test_rag_eval_reports_second_turns_by_split_and_kind(hashing_index, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CORPUS_DIR", str(hashing_index.corpus_dir))
    question = {"id": "a", "split": "test", "category": "crew", "en": "Who directed it?", "de": "Wer führte Regie?",
                "gold": {"en": "director Kim Hee-Won", "de": "Unter der Regie von Kim Hee-won"}}
    turns = [{"id": "c1", "split": "test", "category": "follow-up", "history": {"en": ["Who directed it?"],
              "de": ["Wer führte Regie?"]}, "en": "And who wrote it?", "de": "Und wer schrieb das Drehbuch?",
              "gold": {"en": "Chae Yoon", "de": "Chae Yoon"}},
             {"id": "c2", "split": "tune", "category": "switch", "history": {"en": ["Who directed it?"],
              "de": ["Wer führte Regie?"]}, "en": "How many episodes are there?", "de": "Wie viele Folgen gibt es?",
              "gold": {"en": None, "de": "Episoden: 4"}}]
    (tmp_path / "set.jsonl").write_text(json.dumps(question), encoding="utf-8")
    (tmp_path / "turns.jsonl").write_text("\n".join(json.dumps(t) for t in turns), encoding="utf-8")
    args = ["eval", "--index", str(hashing_index.index_dir), "--set", str(tmp_path / "set.jsonl"),
            "--turns", str(tmp_path / "turns.jsonl")]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"two-turn test follow-up", "two-turn tune switch"} <= set(report)
    assert report["two-turn test follow-up"]["directions"]["en->en"]["n"] == 1
    assert report["two-turn tune switch"]["directions"]["de->de"]["n"] == 1
    assert main(args) == 0
    assert "two-turn test follow-up" in capsys.readouterr().out
