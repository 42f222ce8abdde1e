"""Adapter: a learned linear map on the question's vector, q → normalise(q + W q), before every dense score.

Passages and the index are untouched: the adapter lives in its own file of the index folder
(`adapter.json`), so a rebuilt corpus keeps it while the model is the same. The file is JSON (never
pickle): the model and dimension it was trained for, how it was trained, and W as little-endian float32
in base64, with its SHA-256. It is replaced in one atomic rename; a damaged or foreign file is refused
with a one-line error naming `rag learn`.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.errors import IndexCorruptError, IndexStaleError
from rag.files import Folder, read_bytes, write_new

ADAPTER = "adapter.json"
PREVIOUS = "adapter.previous.json"  # the adapter before the last "Learn from votes" (its undo)
FORMAT = 1
MAX_BYTES = 64 * 1024 * 1024  # a 1,024-dimensional W is 5.6 MB of base64


@dataclass(frozen=True)
class Adapter:
    """W of q → normalise(q + W q); identity when W is None."""

    model: str
    weights: np.ndarray | None = None  # (dim, dim) float32
    info: dict[str, Any] = field(default_factory=dict)  # how it was trained, and its figures

    def apply(self, vector: np.ndarray) -> np.ndarray:
        """The adapted question vector (unit length); the vector itself for identity.

        Args:
            vector: the question's embedding, unit length.

        Returns:
            A float32 unit vector of the same size.
        """
        if self.weights is None:
            return vector
        moved = vector + self.weights @ vector
        return (moved / max(float(np.linalg.norm(moved)), 1e-12)).astype(np.float32)

    @property
    def identity(self) -> bool:
        return self.weights is None


def match_moments(adapted: np.ndarray, plain: np.ndarray) -> np.ndarray:
    """Adapted scores moved to the mean and spread of the plain ones, so thresholds tuned on e5's scale hold.

    Adapted cosines leave e5's narrow band; a fixed floor (0.75) would turn them all negative. Matching
    each question's scores to its unadapted ones keeps the adapter's order and the scale the rest expects.
    """
    spread = float(adapted.std())
    if len(adapted) < 2 or spread < 1e-9:
        return plain
    return (adapted - float(adapted.mean())) / spread * float(plain.std()) + float(plain.mean())


@dataclass(frozen=True)
class Dense:
    """The question's dense side: plain and adapted vectors; every passage's plain and ranking scores (small
    corpora; None where only candidates are scored). Without an adapter, adapted is plain."""

    plain: np.ndarray
    adapted: np.ndarray
    plain_scores: np.ndarray | None
    ranked_scores: np.ndarray | None


class PassageScorer(Protocol):
    def scores(self, vector: np.ndarray) -> np.ndarray | None: ...

    def scores_of(self, vectors: np.ndarray) -> list[np.ndarray] | None: ...


def dense_side(scorer: PassageScorer, adapter: Adapter, vector: np.ndarray) -> Dense:
    """The question's dense side: plain and adapted vectors, and every passage's scores when few enough.

    Args:
        scorer: scores every passage for a vector (rag.search.dense.DenseScorer), or None for large corpora.
        adapter: the index's adapter (identity: adapted is plain).
        vector: the question's embedding.
    """
    if adapter.identity:
        plain = scorer.scores(vector)
        return Dense(vector, vector, plain, plain)
    adapted = adapter.apply(vector)
    both = scorer.scores_of(np.stack([vector, adapted]))  # one search for both: a remote store is asked once
    if both is None:
        return Dense(vector, adapted, None, None)
    plain, moved = both
    return Dense(vector, adapted, plain, match_moments(moved, plain))


def save_adapter(index_dir: Path, adapter: Adapter, name: str = ADAPTER) -> None:
    """Write the adapter into the index folder, replacing any earlier one in one atomic rename.

    name: the file (PREVIOUS keeps the one before the page's last "Learn", for its undo).

    Raises:
        OSError: the folder cannot be written (the old adapter, if any, stays).
    """
    if adapter.weights is None:
        raise ValueError("an identity adapter is not stored: remove the file (rag learn --reset)")
    raw = np.ascontiguousarray(adapter.weights, dtype="<f4").tobytes()
    body = {"format": FORMAT, "model": adapter.model, "dim": int(adapter.weights.shape[0]),
            "sha256": hashlib.sha256(raw).hexdigest(), "info": adapter.info,
            "weights": base64.b64encode(raw).decode("ascii")}
    tmp = f".{name}.{os.getpid()}.tmp"
    with Folder(index_dir, follow=True) as folder:
        folder.unlink(tmp)
        write_new(folder, tmp, json.dumps(body, indent=1, sort_keys=True).encode())
        folder.replace(tmp, name)
        folder.sync()


SHIPPED = Path(__file__).resolve().parent.parent / "adapters"  # trained on the project's corpus: tools/ship_adapter.py


def install_shipped(index_dir: Path, model: str, dim: int, files: dict[str, str]) -> bool:
    """Give a new index the adapter shipped for its model, if it was trained on exactly these corpus files.

    Args:
        index_dir: the index folder (it has no adapter yet).
        model: the index's model.
        dim: its vectors' dimension.
        files: the index's corpus files, source → SHA-256 (the manifest's "files").

    Returns:
        Whether an adapter was installed.
    """
    path = SHIPPED / f"{model}.json"
    if not path.is_file():
        return False
    shipped = _parse(path.read_bytes(), SHIPPED, model, dim)
    if shipped.info.get("files") != files or shipped.weights is None:
        return False  # another corpus: it starts with no adapter and gains one from `rag learn`
    save_adapter(index_dir, shipped)
    return True


def remove_adapter(index_dir: Path, name: str = ADAPTER) -> bool:
    """Remove the index's adapter (back to identity); whether there was one."""
    path = index_dir / name
    existed = path.is_symlink() or path.exists()  # a link is removed, never followed
    with Folder(index_dir, follow=True) as folder:
        folder.unlink(name)
        folder.sync()
    return existed


def load_adapter(index_dir: Path, model: str, dim: int, name: str = ADAPTER) -> Adapter:
    """The index's adapter, or identity when it has none.

    Args:
        index_dir: the index folder.
        model: the model the index was built with.
        dim: its vectors' dimension.

    Raises:
        IndexCorruptError: the file is damaged (size, checksum, format).
        IndexStaleError: it was trained for another model or dimension.
    """
    try:
        with Folder(index_dir, follow=True) as folder:
            data = read_bytes(folder, name, None, MAX_BYTES)
    except FileNotFoundError:
        return Adapter(model)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return Adapter(model)
        raise IndexCorruptError(f"{index_dir / name} cannot be read ({exc.strerror or exc}): "
                                "retrain it with `rag learn`, or remove it with `rag learn --reset`") from None
    return _parse(data, index_dir, model, dim)


def _parse(data: bytes, index_dir: Path, model: str, dim: int) -> Adapter:
    broken = (f"{index_dir / ADAPTER} is damaged ({{}}): retrain it with `rag learn`, or remove it with "
              "`rag learn --reset`")
    try:
        body = json.loads(data)
        raw = base64.b64decode(body["weights"], validate=True)
        if body["format"] != FORMAT:
            raise ValueError(f"format {body['format']!r}, this program reads {FORMAT}")
        if hashlib.sha256(raw).hexdigest() != body["sha256"]:
            raise ValueError("its checksum differs")
        stored_dim, stored_model, info = int(body["dim"]), str(body["model"]), dict(body.get("info") or {})
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexCorruptError(broken.format(" ".join(str(exc).split())[:120])) from None
    if len(raw) != stored_dim * stored_dim * 4:
        raise IndexCorruptError(broken.format("its size does not match its dimension"))
    if stored_model != model or stored_dim != dim:
        raise IndexStaleError(f"the adapter in {index_dir} was trained for model {stored_model!r} ({stored_dim} "
                              f"dimensions), the index uses {model!r} ({dim}): retrain it with `rag learn`, or "
                              "remove it with `rag learn --reset`")
    weights = np.frombuffer(raw, dtype="<f4").reshape(stored_dim, stored_dim).astype(np.float32)
    return Adapter(stored_model, weights, info)
