"""The package's one C extension, optional; everything else is in pyproject.toml.

UDL answer pages -> CSV rows in C (``swxsoc_reach/udl/pages.py`` says why). It needs a
C compiler and Python's headers at install; without them the install still succeeds
(a warning says the decoder was not built) and downloads decode every page in Python
(``pages.note_decoder`` says so once a run, with the cost). Declared here rather than
under pyproject's ``[tool.setuptools] ext-modules``, which setuptools before 74 rejects
(a venv's own setuptools can be 65).
"""

import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, PlatformError

BUILD_ERRORS = (CCompilerError, CompileError, ExecError, PlatformError, OSError)


class OptionalBuildExt(build_ext):
    """``build_ext`` that warns and goes on when the compiler is missing or fails; an
    extension not built is then left out of what is copied and installed."""

    def run(self) -> None:
        self._failed: set[str] = set()
        try:
            super().run()
        except BUILD_ERRORS as exc:  # no compiler configured at all
            self._skipped(exc)
            self.extensions = []

    def build_extensions(self) -> None:
        super().build_extensions()
        self.extensions = [ext for ext in self.extensions if ext.name not in self._failed]

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except BUILD_ERRORS as exc:
            self._failed.add(ext.name)
            self._skipped(exc)

    def _skipped(self, exc: Exception) -> None:
        print(f"WARNING: swxsoc_reach's C page decoder was not built ({exc}); downloads "
              "decode pages in Python instead (slower, same result). Install a C "
              "compiler and Python's headers, then reinstall, to build it.",
              file=sys.stderr)


setup(
    ext_modules=[Extension("swxsoc_reach.udl._transcode", ["swxsoc_reach/udl/_transcode.c"])],
    cmdclass={"build_ext": OptionalBuildExt},
)
