"""The package's one C extension; everything else is in pyproject.toml.

UDL answer pages -> CSV rows in C (``swxsoc_reach/udl/pages.py`` says why); it needs a C
compiler and Python's headers at install. Declared here rather than under pyproject's
``[tool.setuptools] ext-modules``, which setuptools before 74 rejects (a venv's own
setuptools can be 65).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("swxsoc_reach.udl._transcode", ["swxsoc_reach/udl/_transcode.c"])])
