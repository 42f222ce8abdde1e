"""Shipped word vectors: the everyday words' query vectors for the default model, inside the package.

A first build would otherwise embed ~9,500 everyday words (41 s of a 50 s first start on 2 cores). The
vectors are stored as float32 (14.6 MB), checksummed, beside a JSON header naming the model, the words and
the format; `python tools/ship_word_vectors.py` remakes them. A build takes a shipped vector for any word it
needs (everyday or the corpus's own) and embeds only the rest. They are the very bytes the model gives, so
`rag eval` is identical; float16 (half the size) moved three confidence AUROCs in the third or fourth
decimal and int8 one follow-up question (docs/performance.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path

import numpy as np

from rag.vectorcache import embedding_key

log = logging.getLogger("rag")

SHIPPED = Path(__file__).resolve().parent.parent / "words"  # <model>.vectors (float32 rows) and .vectors.json
FORMAT = 2
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a model name that can only name a file in SHIPPED


def paths(model: str, folder: Path | None = None) -> tuple[Path, Path]:
    """The header and the data file of a model's shipped vectors (in SHIPPED unless folder says otherwise)."""
    folder = folder or SHIPPED
    return folder / f"{model}.vectors.json", folder / f"{model}.vectors"


def write(model: str, words: list[str], vectors: np.ndarray, folder: Path | None = None) -> None:
    """Store words' query vectors for model (what tools/ship_word_vectors.py calls)."""
    rows = np.asarray(vectors, dtype="<f4")
    data = rows.tobytes()
    header, body = paths(model, folder)
    body.write_bytes(data)
    header.write_text(json.dumps({"format": FORMAT, "model": model, "dim": int(rows.shape[1]), "dtype": "float32",
                                  "words": words,
                                  "sha256": hashlib.sha256(data).hexdigest()}, ensure_ascii=False) + "\n",
                      encoding="utf-8")


def load(model: str, dim: int, folder: Path | None = None) -> dict[str, np.ndarray]:
    """Embedding key (as a query) → vector of every shipped word for model; {} when none fit.

    A missing, damaged or foreign file only costs time (the words are embedded instead), so it is logged
    and never raised.
    """
    if not SAFE_NAME.fullmatch(model):  # a path or hub name (sentence-transformers): nothing shipped for it
        return {}
    header, body = paths(model, folder)
    if not header.is_file():
        return {}
    try:
        meta = json.loads(header.read_text(encoding="utf-8"))
        data = body.read_bytes()
        words, n = meta["words"], len(meta["words"])
        if meta["format"] != FORMAT or meta["model"] != model or meta["dim"] != dim:
            raise ValueError(f"made for {meta['model']} ({meta['dim']} dimensions)")
        if hashlib.sha256(data).hexdigest() != meta["sha256"] or len(data) != 4 * n * dim:
            raise ValueError("checksum or size does not match")
        rows = np.frombuffer(data, dtype="<f4").reshape(n, dim)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("shipped word vectors %s not used (%s): the words are embedded instead", body.name, exc)
        return {}
    return {embedding_key(word, "query"): vector for word, vector in zip(words, rows, strict=True)}
