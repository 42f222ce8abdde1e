"""Memory: every cache is bounded, so a server's memory stays flat however many new words its questions bring."""

from __future__ import annotations

import random
import string
import threading
from pathlib import Path

import numpy as np
import pytest

import rag.lexical
import rag.names
import rag.retrieve
import rag.search.scorers
from rag.assistant import Assistant
from rag.config import Settings
from rag.lru import LRU

QUESTIONS = 20_000
WARM_UP = 8_000  # by then every cache is full: the token cache (65,536 words) fills first at ~5,500
GROWTH_MB = 30  # generous: unbounded caches grew ~100 MB over the last 12,000 questions here


def rss_mb() -> float:
    """This process's resident memory, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def random_question(rng: random.Random, corpus_words: list[str]) -> str:
    """Mostly words never seen before (the worst case for caches), some corpus words and name-like pairs."""
    parts = []
    for _ in range(rng.randint(3, 9)):
        roll = rng.random()
        if roll < 0.2:
            parts.append(rng.choice(corpus_words))
        elif roll < 0.3:  # romanized-name-like: "Ji-hoon", "Sunwoo"
            a, b = (rng.choice(["ji", "seon", "hyung", "min", "eun", "soo", "woo", "hoon"]) for _ in range(2))
            parts.append(f"{a.capitalize()}-{b}" if rng.random() < 0.5 else f"{a}{b}")
        else:
            word = "".join(rng.choices(string.ascii_lowercase + "äöüß", k=rng.randint(3, 11)))
            parts.append(word.capitalize() if rng.random() < 0.3 else word)
    return " ".join(parts) + rng.choice(["?", ".", ""])


def test_lru_keeps_the_most_recently_used() -> None:
    cache: LRU[str, int] = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3 and len(cache) == 2
    assert cache.get_or_compute("d", len) == 1 and len(cache) == 2 and "a" not in cache
    assert cache.get_or_compute("c", len) == 3  # a hit: not recomputed


def test_lru_from_many_threads_stays_at_its_bound() -> None:
    cache: LRU[int, int] = LRU(100)

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(5000):
            key = rng.randrange(1000)
            assert cache.get_or_compute(key, lambda k: k * 2) == key * 2

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(cache) == 100


@pytest.mark.slow  # about a minute: 20,000 questions through the whole retrieval path (no real model)
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc (Linux)")
def test_memory_stays_flat_over_20000_random_questions(hashing_index: Settings) -> None:
    # Soft term matching is off: it keeps no state and is most of each question's time here.
    assistant = Assistant.load(settings=hashing_index.with_(soft_weight=0.0))
    retriever = assistant.retriever
    rng = random.Random(12)
    corpus_words = sorted({w for words in assistant.index.vocabulary.values() for w in words})
    rss = []
    for i in range(QUESTIONS):
        assistant.ask(random_question(rng, corpus_words), k=int(rng.choice([1, 3, 5])))
        if i + 1 in (WARM_UP, QUESTIONS):
            rss.append(rss_mb())
    growth = rss[1] - rss[0]
    print(f"RSS after {WARM_UP:,} questions {rss[0]:.1f} MB, after {QUESTIONS:,} {rss[1]:.1f} MB")
    assert growth < GROWTH_MB, f"RSS grew {growth:.1f} MB over questions {WARM_UP:,}–{QUESTIONS:,}"
    # Every cache has filled up to its bound and no further.
    assert len(retriever._question_words) == rag.retrieve.WORD_CACHE
    assert len(assistant.index.names._single) == rag.names.WORD_CACHE
    assert rag.lexical._token.cache_info().currsize == rag.lexical.TOKEN_CACHE
    assert len(retriever.fusion.entity.cache) <= rag.search.scorers.ENTITY_CACHE
    # The fixed part: the corpus and everyday words' vectors, which the index holds anyway.
    stored = {w for v in assistant.index.vocabulary.values() for w in v} | set(assistant.index.everyday_words)
    assert len(retriever._word_vectors) == len(stored)
    assert isinstance(next(iter(retriever._word_vectors.values())), np.ndarray)
