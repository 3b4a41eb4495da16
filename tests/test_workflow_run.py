"""``workflow_run``: ``job_log`` (the log of the job that failed a day, found by run id among
the logs the rules name ``logs/<rule>/<day>.[<state>.]<run>.log``) and ``close_run`` (the
run's verdict from the telemetry), on real telemetry files."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from swxsoc_reach.targets import DayTarget, WorkflowConfig, WorkflowPlan
from swxsoc_reach.telemetry.resume import ProcessAction
from swxsoc_reach.telemetry.schema import Row, Stage, Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.workflow_run import close_run, job_log

DAY = dt.date(2026, 1, 4)
RUN = "20260105T010203Z-42"
SENSOR = "REACH-135"


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


def plan_of(tmp_path: Path, days: dict[dt.date, ProcessAction],
            failed: tuple[dt.date, ...]) -> WorkflowPlan:
    """A plan whose ``days`` were to be worked and whose ``failed`` were left out."""
    config = WorkflowConfig.from_config({
        "start_date": "2026-01-01", "end_date": "2026-01-05", "data_dir": str(tmp_path),
        "input_dir": "raw", "output_dir": ".", "telemetry_file": None, "sensor_id": SENSOR,
        "descriptor": "QUICKLOOK", "output_format": "csv", "retry_failed": False,
        "limit_days": None, "download": False, "upload_to_s3": False}, base=tmp_path)
    targets = {day: DayTarget(day, action, False, None, f"cdf-{day}")
               for day, action in days.items()}
    return WorkflowPlan(config, targets, checked=5, failed_days=failed)


def append(plan: WorkflowPlan, day: dt.date, status: Status, run: str) -> None:
    TelemetryStore(plan.config.selection.telemetry_file).append(Row(
        chunk_date_utc=day.isoformat(), status=status, sensor_id=SENSOR,
        descriptor="QUICKLOOK", started_at_utc=f"{day}T00:00:00.000000Z", run_id=run,
        stage=Stage.PROCESS, error_type="CdfError" if status is Status.FAILED else "",
        error_message="made to fail" if status is Status.FAILED else ""))


def test_close_run_counts_days_failed_now_and_earlier_and_exits_1(tmp_path: Path) -> None:
    first, earlier, now = dt.date(2026, 1, 1), DAY, DAY + dt.timedelta(days=1)
    done = DAY - dt.timedelta(days=1)
    plan = plan_of(tmp_path, {now: ProcessAction.PROCESS, done: ProcessAction.PROCESS},
                   failed=(first, earlier))
    for day in (first, earlier):
        append(plan, day, Status.FAILED, "20260101T000000Z-7")
    append(plan, now, Status.FAILED, RUN)
    append(plan, done, Status.PROCESSED, RUN)
    touch(tmp_path, f"logs/process/{now}.{RUN}.log")
    out = io.StringIO()
    assert close_run(plan, RUN, str(tmp_path), out) == 1
    assert out.getvalue().splitlines() == [
        "swxsoc_reach: 2026-01-01..2026-01-05: 3 days FAILED (1 now, 2 in an earlier run): "
        "fix the cause, then rerun with --config retry_failed=True",
        f"  {first} CdfError: made to fail",
        f"  {earlier} CdfError: made to fail",
        f"  {now} CdfError: made to fail (log: logs/process/{now}.{RUN}.log)"]


def test_close_run_of_a_range_without_a_failed_day_exits_0(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, {DAY: ProcessAction.PROCESS}, failed=())
    append(plan, DAY, Status.PROCESSED, RUN)
    out = io.StringIO()
    assert close_run(plan, RUN, str(tmp_path), out) == 0
    assert out.getvalue() == ("swxsoc_reach: 2026-01-01..2026-01-05: every day complete or "
                              "without data in UDL\n")
