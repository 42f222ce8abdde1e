"""The learned query adapter: stored safely, deterministic, refused when it does not help, and it lifts ranks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import rag.search.teach
from rag.assistant import Assistant
from rag.cli import main
from rag.config import Settings
from rag.errors import IndexCorruptError, IndexStaleError
from rag.index import build_index
from rag.search.adapter import ADAPTER, Adapter, load_adapter, match_moments, remove_adapter, save_adapter
from rag.search.learn import Pair, Passages, train
from tests.conftest import hashing_settings

pytestmark = pytest.mark.usefixtures("open_policy", "quick_learning")  # tiny corpus: see tests/conftest.py

PASSAGES = [
    "Each episode lasts about forty minutes, so the show is quick to finish.",
    "The director Kim Hee-won shot the photographer's studio in warm light.",
    "Han So-hee plays the lyricist Eun-soo who lives with her friend for two weeks.",
    "Songs by LeeHi and Monday Kiz fill the soundtrack, one per episode.",
    "Critics found the romance rushed and the supporting roles thin.",
    "Part one opens with a photo shoot; the show runs four parts in all.",
]
QUESTIONS = {  # id → (question, gold): the labelled questions a reader's votes stand for
    "a": ("how many minutes does one part run", "Each episode lasts about forty minutes"),
    "b": ("runtime of one part in minutes", "Each episode lasts about forty minutes"),
    "c": ("who filmed the show", "The director Kim Hee-won"),
    "d": ("who shot the scenes", "The director Kim Hee-won"),
    "e": ("which singers are on the music", "Songs by LeeHi and Monday Kiz"),
    "f": ("what music plays", "Songs by LeeHi and Monday Kiz"),
}


@pytest.fixture
def tiny(tmp_path: Path) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notes.txt").write_text("\n\n".join(PASSAGES) + "\n", encoding="utf-8")
    settings = hashing_settings(corpus, tmp_path / "index").with_(min_score=-1.0, min_question_score=-1.0,
                                                                  chunk_size=80, chunk_overlap=0)
    build_index(settings)
    return settings


def labelled(tmp_path: Path, ids: str) -> Path:
    path = tmp_path / "votes.jsonl"
    rows = [{"id": i, "split": "tune", "category": "votes", "en": QUESTIONS[i][0], "de": QUESTIONS[i][0],
             "gold": {"en": QUESTIONS[i][1], "de": None}} for i in ids]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def rank(assistant: Assistant, question: str, gold: str) -> int | None:
    ranked = [p for p in assistant.ask(question, k=6).passages if p.lang == "en"]
    return next((i for i, p in enumerate(ranked, 1) if gold in p.text), None)


def test_learning_from_labelled_questions_lifts_the_answer_to_the_top(tiny: Settings, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_MIN_SCORE", "-1")
    monkeypatch.setenv("RAG_MIN_QUESTION_SCORE", "-1")
    flags = ["--index", str(tiny.index_dir)]
    question, gold = "one part runs how many minutes", QUESTIONS["a"][1]  # a rewording of a labelled question
    tiny = tiny.with_(lexical_weight=0.0, soft_weight=0.0, entity_weight=0.0)  # the bag-of-words embedder's
    # lexical signals would outvote it: the adapter moves the dense score, measured here through the pipeline
    before = rank(Assistant.load(settings=tiny, check_stale=False), question, gold)
    assert before is not None and before > 1
    assert main(["learn", "--from", str(labelled(tmp_path, "abcdef")), *flags]) == 0
    assert "installed" in capsys.readouterr().out
    after = Assistant.load(settings=tiny, check_stale=False)
    assert not after.retriever.adapter.identity and rank(after, question, gold) == 1
    plain = Assistant.load(settings=tiny.with_(adapter=0), check_stale=False)  # RAG_ADAPTER=0 / --no-adapter
    assert plain.retriever.adapter.identity and rank(plain, question, gold) == before
    assert main(["learn", "--reset", *flags]) == 0 and not (tiny.index_dir / ADAPTER).exists()


@pytest.mark.slow  # two trainings with cross-validation (seconds); the unit test below checks training's determinism
def test_learning_twice_writes_the_same_bytes(tiny: Settings, tmp_path: Path) -> None:
    votes = labelled(tmp_path, "abcdef")
    files = []
    for _ in range(2):
        assert main(["learn", "--from", str(votes), "--index", str(tiny.index_dir)]) == 0
        files.append((tiny.index_dir / ADAPTER).read_bytes())
    assert files[0] == files[1]


def test_an_adapter_that_does_not_help_is_not_installed(tiny: Settings, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    def worse(pairs: object, passages: object, model: str) -> tuple[dict, dict]:
        return {"mean": {"hit@1": 0.5, "hit@3": 0.9}}, {"mean": {"hit@1": 0.4, "hit@3": 0.8}}

    monkeypatch.setattr(rag.search.teach, "cross_validate", worse)
    assert main(["learn", "--from", str(labelled(tmp_path, "abcdef")), "--index", str(tiny.index_dir)]) == 2
    assert "not installed" in capsys.readouterr().out and not (tiny.index_dir / ADAPTER).exists()
    assert main(["learn", "--from", str(labelled(tmp_path, "a")), "--index", str(tiny.index_dir)]) == 2
    assert "at least two" in capsys.readouterr().out


def test_the_stored_adapter_is_checked(tmp_path: Path) -> None:
    weights = np.arange(16, dtype=np.float32).reshape(4, 4) / 100
    save_adapter(tmp_path, Adapter("e5-small", weights, {"pairs": 3}))
    loaded = load_adapter(tmp_path, "e5-small", 4)
    assert np.array_equal(loaded.weights, weights) and loaded.info == {"pairs": 3}
    with pytest.raises(IndexStaleError, match="rag learn"):
        load_adapter(tmp_path, "minilm", 4)
    with pytest.raises(IndexStaleError, match="rag learn"):
        load_adapter(tmp_path, "e5-small", 8)
    body = json.loads((tmp_path / ADAPTER).read_text())
    body["sha256"] = "0" * 64
    (tmp_path / ADAPTER).write_text(json.dumps(body))
    with pytest.raises(IndexCorruptError, match="checksum"):
        load_adapter(tmp_path, "e5-small", 4)
    (tmp_path / ADAPTER).unlink()
    (tmp_path / "elsewhere.json").write_text("{}")
    (tmp_path / ADAPTER).symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(IndexCorruptError):
        load_adapter(tmp_path, "e5-small", 4)  # a link is never followed
    assert remove_adapter(tmp_path) and load_adapter(tmp_path, "e5-small", 4).identity


def test_identity_and_moment_matching() -> None:
    vector = np.array([0.6, 0.8, 0.0], dtype=np.float32)
    assert Adapter("m").apply(vector) is vector
    moved = Adapter("m", np.eye(3, dtype=np.float32)).apply(vector)
    assert np.allclose(moved, vector) and abs(float(np.linalg.norm(moved)) - 1) < 1e-6
    plain, adapted = np.array([0.80, 0.82, 0.84]), np.array([0.1, 0.5, 0.3])
    matched = match_moments(adapted, plain)
    assert np.argsort(matched).tolist() == np.argsort(adapted).tolist()
    assert abs(matched.mean() - plain.mean()) < 1e-9 and abs(matched.std() - plain.std()) < 1e-9


def test_training_moves_the_question_towards_its_passage() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    passages = {"en": Passages(vectors, np.zeros((5, 1, 8), np.float32), np.zeros((5, 1), bool))}
    question = vectors[0] + vectors[3]
    question /= np.linalg.norm(question)
    pairs = [Pair("q", "en->en", question, "en", (3,)), Pair("r", "en->en", vectors[1], "en", (1,))]
    adapter = train(pairs, passages, "m", steps=100)
    before, after = question @ vectors[3], adapter.apply(question) @ vectors[3]
    assert after > before
    assert np.array_equal(adapter.weights, train(pairs, passages, "m", steps=100).weights)


def test_a_copied_index_keeps_its_adapter_and_a_rebuild_keeps_it(tiny: Settings, tmp_path: Path) -> None:
    assert main(["learn", "--from", str(labelled(tmp_path, "abcdef")), "--index", str(tiny.index_dir)]) == 0
    copy = tmp_path / "copy"
    shutil.copytree(tiny.index_dir, copy)
    build_index(tiny, force=True)  # the corpus rebuilt with the same model: the adapter stays
    assert not Assistant.load(settings=tiny, check_stale=False).retriever.adapter.identity
    assert not Assistant.load(settings=tiny.with_(index_dir=copy), check_stale=False).retriever.adapter.identity


def test_a_new_index_of_the_shipped_corpus_gets_the_shipped_adapter(tiny: Settings, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.search.adapter

    assert main(["learn", "--from", str(labelled(tmp_path, "abcdef")), "--index", str(tiny.index_dir)]) == 0
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    shutil.copyfile(tiny.index_dir / ADAPTER, shipped / "hashing.json")
    monkeypatch.setattr(rag.search.adapter, "SHIPPED", shipped)
    same = tiny.with_(index_dir=tmp_path / "new")
    build_index(same)
    assert (same.index_dir / ADAPTER).read_bytes() == (shipped / "hashing.json").read_bytes()
    assert main(["learn", "--reset", "--index", str(same.index_dir)]) == 0
    build_index(same, force=True)  # a reset stays reset: only a new index is given the shipped adapter
    assert not (same.index_dir / ADAPTER).exists()
    other_corpus = tmp_path / "other"
    other_corpus.mkdir()
    (other_corpus / "notes.txt").write_text("\n\n".join(PASSAGES[:4]) + "\n", encoding="utf-8")
    other = tiny.with_(corpus_dir=other_corpus, index_dir=tmp_path / "other-index")
    build_index(other)
    assert not (other.index_dir / ADAPTER).exists()  # trained on other files: not given
