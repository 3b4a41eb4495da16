"""``workflow_run.job_log``: the log of the job that failed a day, found by run id among
the logs the rules name ``logs/<rule>/<day>.[<state>.]<run>.log``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from swxsoc_reach.telemetry.schema import Stage
from swxsoc_reach.workflow_run import job_log

DAY = dt.date(2026, 1, 4)
RUN = "20260105T010203Z-42"


def touch(data: Path, relative: str) -> None:
    path = data / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def test_job_log_finds_the_failing_runs_log_of_the_days_stage(tmp_path: Path) -> None:
    touch(tmp_path, f"logs/process/{DAY}.20260101T000000Z-7.log")  # an earlier run's
    touch(tmp_path, f"logs/resume/{DAY}.FAILED-x.{RUN}.log")
    touch(tmp_path, f"logs/download/{DAY}.{RUN}.log")
    found = job_log(str(tmp_path), DAY, RUN, Stage.PROCESS)
    assert found == f"logs/resume/{DAY}.FAILED-x.{RUN}.log"
    assert job_log(str(tmp_path), DAY, RUN, Stage.DOWNLOAD) == f"logs/download/{DAY}.{RUN}.log"
    assert job_log(str(tmp_path), DAY, "20260109T000000Z-9", Stage.PROCESS) is None
    assert job_log(str(tmp_path), DAY + dt.timedelta(days=1), RUN, Stage.PROCESS) is None


def test_job_log_of_a_row_without_a_run_id_is_none(tmp_path: Path) -> None:
    """A CLI run's row names no workflow run: no job log, though logs of the day exist."""
    touch(tmp_path, f"logs/process/{DAY}.{RUN}.log")
    assert job_log(str(tmp_path), DAY, "", Stage.PROCESS) is None
