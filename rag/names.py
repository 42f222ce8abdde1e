"""Names: one spelling for each romanized Korean name (Sun Woo / Seon-woo / seonwoo → Seon-woo)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from rag.lru import LRU

# One romanized Korean syllable: optional initial, optional glide, vowel, optional final.
_ONE = r"(?:kk|tt|pp|ss|jj|ch|[gkndtrlmbpsjchw])?[wy]?(?:ae|eo|eu|ui|oo|ee|oe|ou|a|e|i|o|u)(?:ng|[nklmpt])?"
_SYLLABLE = re.compile(f"^{_ONE}$")
_TWO = re.compile(f"{_ONE}{_ONE}")  # a word that could be a name written as one word: most are not
_VOWELS = (("eo", "u"), ("oo", "u"), ("ou", "u"), ("ee", "i"))
_WORD = re.compile(r"[A-Za-z]+")
# Two neighbouring words (as _WORD finds them) joined by one hyphen, the first capitalised; the second is
# only looked at, so it can start the next pair ("Kim-Seon-woo": Kim-Seon, Seon-woo).
_HYPHENATED = re.compile(r"(?<![A-Za-z])([A-Z][A-Za-z]*)-(?=([A-Za-z]+))")
WORD_CACHE = 16_384  # words whose one-word lookup is remembered: the frequent ones, not every word ever asked


@lru_cache(maxsize=1 << 16)  # words repeat: at 100,000 passages the rebuild asked 11.8 million times
def syllable_key(token: str) -> str | None:
    """Spelling-independent key of one romanized syllable, or None if it is not one."""
    token = token.casefold()
    if not _SYLLABLE.match(token):
        return None
    for variant, canonical in _VOWELS:
        token = token.replace(variant, canonical)
    return token


def _pair_key(first: str, second: str) -> str | None:
    a, b = syllable_key(first), syllable_key(second)
    return a + b if a and b else None


class NameNormalizer:
    """Learns two-syllable given names from a corpus and rewrites any spelling of them to one form."""

    def __init__(self, canonical: dict[str, str]) -> None:
        self.canonical = canonical  # key ("sunwu") → the corpus's most common hyphenated spelling
        self._single: LRU[str, str | None] = LRU(WORD_CACHE)  # one word → its canonical name, or None

    @classmethod
    def learn(cls, texts: Iterable[str]) -> NameNormalizer:
        """Collect hyphenated syllable pairs ("Seon-woo", "Hyung-Sik") as the names to normalise.

        Args:
            texts: corpus texts.

        Returns:
            A normalizer for those names.
        """
        counts: dict[str, Counter[str]] = {}
        for text in texts:
            for pair in _HYPHENATED.finditer(text):  # only pairs of words joined by a hyphen can be names
                first, second = pair.groups()
                if key := _pair_key(first, second):
                    counts.setdefault(key, Counter())[f"{first}-{second.lower()}"] += 1
        return cls({key: c.most_common(1)[0][0] for key, c in counts.items()})

    def normalize(self, text: str) -> str:
        """Rewrite every known name in text (hyphenated, spaced or written as one word) to one spelling."""
        if not self.canonical:
            return text
        words = list(_WORD.finditer(text))
        out, pos, i = [], 0, 0
        while i < len(words):
            a = words[i]
            replacement, last = self._lookup(text, a, words[i + 1] if i + 1 < len(words) else None)
            if replacement is not None:
                out.append(text[pos : a.start()] + replacement)
                pos = words[i + last].end()
            i += last + 1
        out.append(text[pos:])
        return "".join(out)

    def _lookup(self, text: str, a: re.Match[str], b: re.Match[str] | None) -> tuple[str | None, int]:
        """The canonical spelling starting at word a, and how many extra words it consumes."""
        if b is not None:
            sep = text[a.end() : b.start()]
            spaced = sep == " " and a.group()[0].isupper() and b.group()[0].isupper()
            if sep == "-" or spaced:
                key = _pair_key(a.group(), b.group())
                if key in self.canonical:
                    return self.canonical[key], 1
        # Memoised: every split of every word is slow, and words repeat.
        return self._single.get_or_compute(a.group(), self._one_word), 0

    def _one_word(self, word: str) -> str | None:
        """The canonical name written as one word ("seonwoo", "Sunwoo"), or None."""
        if not _TWO.fullmatch(word.casefold()):  # no split makes two syllables
            return None
        keys = (_pair_key(word[:cut], word[cut:]) for cut in range(1, len(word)))
        return next((self.canonical[k] for k in keys if k in self.canonical), None)

    def to_dict(self) -> dict[str, str]:
        return dict(self.canonical)
