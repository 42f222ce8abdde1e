"""Language: which language a text is in, with py3langid (its model ships inside the wheel, no pickle)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _identifier() -> Any:  # py3langid's LanguageIdentifier (untyped)
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, default: str = "und", min_confidence: float = 0.8) -> str:
    """Detect the ISO 639-1 language of a text with py3langid.

    Args:
        text: the text; short texts rarely reach the confidence bar.
        default: returned when the detector is not confident enough.
        min_confidence: normalised probability the best language needs.

    Returns:
        A two-letter language code, or default.
    """
    letters = sum(ch.isalpha() for ch in text)
    if letters < 12:
        return default
    lang, prob = _identifier().classify(text)
    return str(lang) if prob >= min_confidence else default


def detect_among(text: str, languages: list[str], default: str) -> str:
    """The most likely of the given languages for text (used for questions, which are short)."""
    if not languages or sum(ch.isalpha() for ch in text) < 2:
        return default
    ranked = dict(_identifier().rank(text))
    return max(languages, key=lambda lang: ranked.get(lang, float("-inf")))
