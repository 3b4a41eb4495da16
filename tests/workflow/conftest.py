"""Workflow test set-up: a copy of the repository's workflow files in a tmp dir, run for real.

Each test gets the Snakefile, config/, workflow/, profiles/ and the bundled sample
copied under ``tmp_path`` and runs ``sys.executable -m snakemake`` there exactly
as an operator would (``--configfile config/range.yaml``), so the committed
config, profile and sample are what is tested. Results are compared with a plain
``python -m swxsoc_reach process`` run over the same sample.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
from results import assert_same_cdf, comparable

from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.telemetry.schema import Row
from swxsoc_reach.telemetry.store import TelemetryStore

REPO = Path(__file__).resolve().parents[2]
WORKFLOW_FILES = ("Snakefile", "config", "workflow", "profiles", "sample/raw")
SENSOR = "REACH-135"
SAMPLE_DAYS = (dt.date(2025, 9, 3), dt.date(2025, 9, 4), dt.date(2025, 9, 5))
DATA_DIR = "demo-output/workflow"  # config/range.yaml's data_dir
RUN_TIMEOUT_S = 300


@dataclass
class Workflow:
    """A copy of the workflow under a tmp dir, and how to run it and read its results."""

    days: ClassVar[tuple[dt.date, ...]] = SAMPLE_DAYS  # config/range.yaml's; a test may set others
    root: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def data(self) -> Path:
        return self.root / DATA_DIR

    @property
    def telemetry(self) -> Path:
        return self.data / "download_telemetry.csv"

    def command(self, *args: str, config: Mapping[str, Any] | None = None) -> list[str]:
        """The operator's command line, with ``--config key=value`` overrides."""
        overrides = [f"{key}={'' if value is None else value}"
                     for key, value in (config or {}).items()]
        return [sys.executable, "-m", "snakemake", "--configfile", "config/range.yaml",
                *(["--config", *overrides] if overrides else []), *args]

    def run(self, *args: str, config: Mapping[str, Any] | None = None,
            expect: int = 0) -> subprocess.CompletedProcess[str]:
        """Run snakemake to the end; assert its exit code (output shown on failure)."""
        result = subprocess.run(self.command(*args, config=config), cwd=self.root,
                                env=self.env, capture_output=True, text=True,
                                timeout=RUN_TIMEOUT_S)
        assert result.returncode == expect, result.stdout + result.stderr
        return result

    def rows(self) -> list[Row]:
        return TelemetryStore(self.telemetry).read()

    def cdf(self, day: dt.date) -> Path:
        return day_cdf_path(self.data, day, SENSOR)

    def files(self) -> dict[str, int]:
        """Every file under the data dir but Snakemake's bookkeeping, with its mtime (ns)."""
        return {str(p.relative_to(self.data)): p.stat().st_mtime_ns
                for p in sorted(self.data.rglob("*"))
                if p.is_file() and ".snakemake" not in p.parts}

    def assert_same_results(self, other: Path, *, ordered: bool = True) -> None:
        """The CDFs and telemetry are those of another run of the same days.

        ``other`` holds that run's ``l1c/`` tree and ``download_telemetry.csv`` (the
        CLI's output dir, or another workflow's data dir). With ``ordered`` the rows
        also come in the same order (days in date order).
        """
        for day in self.days:
            assert_same_cdf(self.cdf(day), day_cdf_path(other, day, SENSOR))
        ours = comparable(self.rows())
        theirs = comparable(TelemetryStore(other / "download_telemetry.csv").read())
        assert (ours if ordered else sorted(ours)) == (theirs if ordered else sorted(theirs))


def copy_workflow(root: Path) -> Workflow:
    """Copy the repository's workflow files (and the sample) to ``root``."""
    for name in WORKFLOW_FILES:
        source, target = REPO / name, root / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return Workflow(root)


@pytest.fixture
def workflow(tmp_path: Path) -> Workflow:
    """A fresh copy of the workflow: nothing processed yet."""
    return copy_workflow(tmp_path / "repo")


@pytest.fixture(scope="session")
def completed_run(tmp_path_factory: pytest.TempPathFactory) -> Workflow:
    """The sample range run once to the end (read only: copy it with ``done_workflow``)."""
    done = copy_workflow(tmp_path_factory.mktemp("completed") / "repo")
    done.run()
    return done


@pytest.fixture
def done_workflow(tmp_path: Path, completed_run: Workflow) -> Workflow:
    """A private copy of the completed sample run (mtimes kept)."""
    root = tmp_path / "repo"
    shutil.copytree(completed_run.root, root, symlinks=True)
    return Workflow(root)


@pytest.fixture(scope="session")
def cli_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bare CLI over the sample range: the output dir (CDFs, telemetry) to compare with."""
    out = tmp_path_factory.mktemp("cli")
    subprocess.run([
        sys.executable, "-m", "swxsoc_reach", "process", "--start-date",
        SAMPLE_DAYS[0].isoformat(), "--end-date", SAMPLE_DAYS[-1].isoformat(),
        "--sensor-id", SENSOR, "--input-dir", str(REPO / "sample" / "raw"),
        "--output-dir", str(out), "--telemetry-file", str(out / "download_telemetry.csv"),
    ], check=True, capture_output=True, timeout=RUN_TIMEOUT_S)
    return out
