"""Synthetic corpora for benchmarks: varied English and German passages, corpus folders, and vectors.

Everything is deterministic for a given seed. The text is nonsense with the shape of the real
sources (K-drama reviews and articles), one language per passage, so language detection, chunking
and BM25 see realistic input. The vectors imitate a real model's: mixtures of a few real passage
vectors of the same language plus isotropic noise, so nearest-neighbour structure is realistic.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

_WORDS = {
    "en": {
        "name": "Seon-woo|Eun-soo|Hyung-sik|So-hee|Ji-ho|Min-jun|Ha-eun|Do-yoon|Seo-yeon|Jae-won",
        "noun": "photographer|songwriter|friend|drama|episode|song|lyric|album|director|actor|actress|scene|"
                "studio|summer|winter|camera|piano|guitar|melody|story|series|review|critic|audience|"
                "romance|confession|memory|promise|chorus|soundtrack|house|city|island|letter|contract",
        "adj": "quiet|warm|bright|slow|honest|awkward|tender|lonely|gentle|bittersweet|charming|shy|"
               "restless|stubborn|famous|young|old|careful|clumsy|beautiful",
        "verb": "writes|remembers|records|films|hides|loves|avoids|finds|sings|photographs|misses|"
                "follows|visits|rewrites|answers|watches|forgets|explains|carries|praises",
        "place": "in the studio|at the beach|in Seoul|on Jeju Island|after the concert|during the rain|"
                 "in the fourth episode|at midnight|in the finale|behind the camera|on the rooftop|"
                 "for twenty years|in the first week|before the premiere|at the cafe",
        "det": "the|a|her|his|their|every|one",
    },
    "de": {
        "name": "Seon-woo|Eun-soo|Hyung-sik|So-hee|Ji-ho|Min-jun|Ha-eun|Do-yoon|Seo-yeon|Jae-won",
        "noun": "Fotograf|Songwriterin|Freund|Serie|Folge|Lied|Liedtext|Album|Regisseur|Schauspieler|"
                "Szene|Studio|Sommer|Winter|Kamera|Klavier|Gitarre|Melodie|Geschichte|Kritik|Publikum|"
                "Liebe|Erinnerung|Versprechen|Refrain|Filmmusik|Haus|Stadt|Insel|Brief|Vertrag",
        "adj": "ruhige|warme|helle|langsame|ehrliche|unbeholfene|zarte|einsame|sanfte|bittersüße|"
               "charmante|schüchterne|rastlose|sture|berühmte|junge|alte|vorsichtige|schöne",
        "verb": "schreibt|erinnert|nimmt auf|filmt|versteckt|liebt|meidet|findet|singt|fotografiert|"
                "vermisst|folgt|besucht|überarbeitet|beantwortet|beobachtet|vergisst|erklärt|trägt|lobt",
        "place": "im Studio|am Strand|in Seoul|auf der Insel Jeju|nach dem Konzert|im Regen|"
                 "in der vierten Folge|um Mitternacht|im Finale|hinter der Kamera|auf dem Dach|"
                 "seit zwanzig Jahren|in der ersten Woche|vor der Premiere|im Café",
        "det": "die|eine|ihre|seine|jede|diese",
    },
}
_VOCAB = {lang: {part: words.split("|") for part, words in parts.items()} for lang, parts in _WORDS.items()}
LANGS = ("en", "de")


def sentence(rng: random.Random, lang: str) -> str:
    """One random sentence in lang ("en" or "de"), ending with a full stop."""
    v = _VOCAB[lang]
    pick = rng.choice
    if rng.random() < 0.5:
        words = [pick(v["name"]), pick(v["verb"]), pick(v["det"]), pick(v["adj"]), pick(v["noun"]), pick(v["place"])]
    else:
        words = [pick(v["det"]).capitalize(), pick(v["adj"]), pick(v["noun"]), pick(v["verb"]),
                 pick(v["name"]), pick(v["place"])]
    if rng.random() < 0.3:
        words.append(f"({rng.randint(1990, 2024)})")
    return " ".join(words) + "."


def passage(rng: random.Random, lang: str, sentences: tuple[int, int] = (2, 4)) -> str:
    """A paragraph of a few random sentences in one language."""
    return " ".join(sentence(rng, lang) for _ in range(rng.randint(*sentences)))


def passages(n: int, seed: int = 0, de_share: float = 0.5) -> list[tuple[str, str]]:
    """n (language, text) pairs, a de_share of them German; the same for the same arguments."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        lang = "de" if rng.random() < de_share else "en"
        out.append((lang, passage(rng, lang)))
    return out


def write_corpus(folder: Path, files: int, per_file: int = 5, seed: int = 0) -> list[Path]:
    """Write files text files of per_file paragraphs each (one language per file) into folder.

    Returns:
        The paths written, in name order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(files):
        lang = LANGS[i % 2]
        heading = f"{'Review' if lang == 'en' else 'Kritik'} {i}"
        body = "\n\n".join(passage(rng, lang) for _ in range(per_file))
        path = folder / f"doc_{i:05d}_{lang}.txt"
        path.write_text(f"{heading}\n\n{body}\n", encoding="utf-8")
        paths.append(path)
    return paths


def extend_file(path: Path, seed: int = 0) -> None:
    """Append one new paragraph in the file's own language (how a benchmark changes one file)."""
    from rag.corpus import detect_language

    text = path.read_text(encoding="utf-8")
    lang = detect_language(text[:5000], default="en")
    addition = passage(random.Random(f"extend {path.name} {seed}"), lang if lang in LANGS else "en")  # a new one
    path.write_text(f"{text.rstrip()}\n\n{addition}\n", encoding="utf-8")


def synthetic_vectors(sample: np.ndarray, n: int, seed: int = 0, mix: int = 3, noise: float = 0.7,
                      batch: int = 50_000) -> np.ndarray:
    """n unit vectors shaped like sample (a real model's vectors of one language).

    Each is a random convex mixture of `mix` sample rows plus Gaussian noise with the sample's own
    covariance (so the noise lies along the directions the model really uses, as real text's
    variation does), renormalised.

    Args:
        sample: (m, dim) float32 unit vectors.
        n: how many to make.
        seed: random seed.
        mix: sample rows per vector.
        noise: scale of the noise relative to the sample's spread.
        batch: rows generated at a time (bounds temporary memory).

    Returns:
        (n, dim) float32, C-contiguous, rows of unit length.
    """
    rng = np.random.default_rng(seed)
    m, dim = sample.shape
    centred = sample - sample.mean(axis=0)
    eigenvalues, basis = np.linalg.eigh(centred.T @ centred / m)
    spread = (basis * np.sqrt(np.clip(eigenvalues, 0, None))).T.astype(np.float32)  # z @ spread ~ N(0, cov)
    out = np.empty((n, dim), dtype=np.float32)
    for lo in range(0, n, batch):
        hi = min(n, lo + batch)
        rows = rng.integers(0, m, size=(hi - lo, mix))
        weights = rng.dirichlet(np.ones(mix), size=hi - lo).astype(np.float32)
        block = sum(weights[:, j, None] * sample[rows[:, j]] for j in range(mix))
        block += noise * (rng.standard_normal((hi - lo, dim), dtype=np.float32) @ spread)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[lo:hi] = block
    return out
