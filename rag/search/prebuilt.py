"""Prebuilt vectors: what a first build of the project would embed, computed once and shipped in the package.

A fresh clone's first build used to embed 10,193 texts (64 s on 2 cores): ~9,500 everyday words, the
corpus's own words, its passages and their sentences. rag/prebuilt/<model>.vectors holds the model's
vectors of all of them, keyed like the index's own vector cache (rag.vectorcache.embedding_key), so a build
takes any vector it finds there and embeds only the rest: a corpus a user brings pays only for its own texts.
They are the very float32 bytes the model gives (checksummed), so `rag eval` is identical; float16 moved
three confidence AUROCs in the third or fourth decimal, int8 one follow-up question (docs/performance.md).
`python tools/ship_vectors.py` remakes them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path

import numpy as np

log = logging.getLogger("rag")

SHIPPED = Path(__file__).resolve().parent.parent / "prebuilt"  # <model>.vectors (float32 rows), .vectors.json
FORMAT = 1
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a model name that can only name a file in SHIPPED


def paths(model: str, folder: Path | None = None) -> tuple[Path, Path]:
    """The header and the data file of a model's prebuilt vectors (in SHIPPED unless folder says otherwise)."""
    folder = folder or SHIPPED
    return folder / f"{model}.vectors.json", folder / f"{model}.vectors"


def write(model: str, vectors: dict[str, np.ndarray], folder: Path | None = None) -> None:
    """Store key → vector for model, keys sorted (what tools/ship_vectors.py calls)."""
    keys = sorted(vectors)
    rows = np.asarray([vectors[key] for key in keys], dtype="<f4")
    data = rows.tobytes()
    header, body = paths(model, folder)
    header.parent.mkdir(parents=True, exist_ok=True)
    body.write_bytes(data)
    header.write_text(json.dumps({"format": FORMAT, "model": model, "dim": int(rows.shape[1]), "dtype": "float32",
                                  "sha256": hashlib.sha256(data).hexdigest(), "keys": keys}) + "\n",
                      encoding="utf-8")


def load(model: str, dim: int, folder: Path | None = None) -> dict[str, np.ndarray]:
    """Key → vector of every prebuilt text for model; {} when there are none that fit.

    A missing, damaged or foreign file only costs time (the texts are embedded instead), so it is logged
    and never raised.
    """
    if not SAFE_NAME.fullmatch(model):  # a path or hub name (sentence-transformers): nothing prebuilt for it
        return {}
    header, body = paths(model, folder)
    if not header.is_file():
        return {}
    try:
        meta = json.loads(header.read_text(encoding="utf-8"))
        data = body.read_bytes()
        keys, n = meta["keys"], len(meta["keys"])
        if meta["format"] != FORMAT or meta["model"] != model or meta["dim"] != dim:
            raise ValueError(f"made for {meta['model']} ({meta['dim']} dimensions)")
        if hashlib.sha256(data).hexdigest() != meta["sha256"] or len(data) != 4 * n * dim:
            raise ValueError("checksum or size does not match")
        rows = np.frombuffer(data, dtype="<f4").reshape(n, dim)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("prebuilt vectors %s not used (%s): the texts are embedded instead", body.name, exc)
        return {}
    return dict(zip(keys, rows, strict=True))
