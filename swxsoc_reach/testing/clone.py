"""A copy of a clone's workflow files, for runs that must not write into the repository.

Tests and benchmarks run the demo and the workflow exactly as an operator does
in a clone (``snakemake --configfile ...`` or ``python -m swxsoc_reach demo`` from
its root), but in a temporary directory holding copies of these files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

WORKFLOW_FILES = ("Snakefile", "config", "workflow", "profiles")  # what a workflow run reads


def copy_workflow_files(repo: Path, target: Path) -> Path:
    """Copy ``repo``'s workflow files into ``target`` (made if missing); return ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        source = repo / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    return target
