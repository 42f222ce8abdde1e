"""Write rag/words/<lang>.txt: the most frequent content words of each language, from wordfreq.

`rag index` embeds these once, next to the corpus's own words, so a question's everyday words
("lang", "heißt", "tall") already have vectors when it is asked and cost no model call then.
The lists are data, checked in; wordfreq is needed only to remake them:

    pip install wordfreq==3.1.1 && python tools/question_words.py

wordfreq's data is CC BY-SA 4.0 (Robyn Speer and contributors, https://github.com/rspeer/wordfreq): the lists
keep that licence (see README, Licences).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rag.vocabulary import words

OUT = Path(__file__).resolve().parent.parent / "rag" / "words"


def content_words(lang: str, n: int) -> list[str]:
    """The n most frequent words of lang that rag.vocabulary.words keeps as they are."""
    from wordfreq import top_n_list

    out: list[str] = []
    for word in top_n_list(lang, 50 * n):
        if words(word) == [word] and word not in out:
            out.append(word)
            if len(out) == n:
                break
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000, help="words per language")
    ap.add_argument("--languages", default="en,de")
    args = ap.parse_args()
    for lang in args.languages.split(","):
        found = content_words(lang, args.n)
        (OUT / f"{lang}.txt").write_text("\n".join(found) + "\n", encoding="utf-8")
        print(f"{OUT / f'{lang}.txt'}: {len(found)} words")


if __name__ == "__main__":
    main()
