"""One Snakemake run as a whole: its id, its stop on a systemic fault, its exit code.

Each day is its own job process (its own SLURM job on a cluster), so what the CLI
keeps in one process the workflow keeps in shared places:

- The run id: made once by the main snakemake process and handed to every job through
  the environment (``envvars:`` in common.smk), so a SLURM job's re-read of the
  Snakefile finds the same one. Every day's command writes its telemetry rows under it
  (``--run-id``) and names its log and benchmark file after it: a rerun, a retry or a
  second campaign at once never overwrites an attempt's log.
- The streak of systemic faults (``phases.preflight``): each day's command reads this
  run's rows before its day starts and refuses (no row, exit 1) once three days in a
  row failed the same systemic way; ``StreakWatch`` in the main process sees the same
  rows and stops Snakemake from starting further jobs (SIGTERM: running jobs finish).
- The verdict (``close_run``, from ``onsuccess``/``onerror``): the CLI's summary line,
  the log of each failed day, exit 1 when a day of the range is FAILED (now or from
  an earlier run) or the range was stopped, 0 when every day is complete or has no data.

Imports nothing heavy: every job's re-read of the Snakefile imports it.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import signal
import sys
import threading
from typing import TextIO

from swxsoc_reach.days import ONE_DAY
from swxsoc_reach.phases.dayloop import SharedStreak, failed_clause
from swxsoc_reach.targets import WorkflowPlan
from swxsoc_reach.telemetry.schema import Stage, Status
from swxsoc_reach.telemetry.store import RunRows, TelemetryStore

RUN_ENV = "SWXSOC_REACH_WORKFLOW_RUN"
RETRY_HINT = "--config retry_failed=True"
POLL_S = 0.5  # how often the main process reads the telemetry's new rows
SHOWN_FAILURES = 10  # failed days listed with their log; the rest are counted


def run_id(main_process: bool) -> str:
    """The main process makes the run's id (UTC time and pid: unique, and sorts by
    time); a job process reads the one its main process exported."""
    if main_process:
        os.environ[RUN_ENV] = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}"
    return os.environ[RUN_ENV]


def _streaks(plan: WorkflowPlan, run: str) -> list[SharedStreak]:
    telemetry = plan.config.selection.telemetry_file
    return [SharedStreak(telemetry, run, stage, retry_hint=RETRY_HINT) for stage in Stage]


class StreakWatch:
    """Reads the run's new rows every ``POLL_S``; on a streak, stops Snakemake's
    scheduling the way SIGTERM does (no new job; running ones finish).

    ``close_run`` ends every watch first: no signal lands once the run is being closed.
    """

    def __init__(self, plan: WorkflowPlan, run: str) -> None:
        self._streaks = _streaks(plan, run)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="swxsoc-reach-streak",
                                        daemon=True)

    def start(self) -> StreakWatch:
        self._thread.start()
        _WATCHES.append(self)
        return self

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(POLL_S):
            if any([streak.stopped() for streak in self._streaks]):  # read every stage
                os.kill(os.getpid(), signal.SIGTERM)
                return


_WATCHES: list[StreakWatch] = []  # started by this process (onstart), ended by close_run


def close_run(plan: WorkflowPlan, run: str, data_dir: str, out: TextIO = sys.stderr) -> int:
    """Print the run's verdict from the telemetry; return the exit code it means."""
    while _WATCHES:
        _WATCHES.pop().stop()
    sel = plan.config.selection
    key = (sel.sensor_id, sel.descriptor)
    rows = [row for row in RunRows(sel.telemetry_file, run).new_rows()
            if (row.sensor_id, row.descriptor) == key]
    touched = {row.chunk_date_utc for row in rows}
    untouched = [day for day in plan.days if day.isoformat() not in touched]
    # a streak that ended with the range stopped nothing: the failed days say it all
    stopped = next(filter(None, (streak.stopped(_count(untouched))
                                 for streak in _streaks(plan, run))), None) if untouched else None
    state = TelemetryStore(sel.telemetry_file).state()

    failed = {day: row for day in sorted([*plan.days, *plan.failed_days])
              if (row := state.get(day.isoformat(), *key)) is not None
              and row.status is Status.FAILED}
    # failed by this run; the others in an earlier one (not retried, or not reached)
    now = sum(1 for row in failed.values() if row.run_id == run)
    span = f"{sel.start}..{sel.end}"
    if stopped:
        print(f"swxsoc_reach: error: {stopped}", file=out)
    if failed:
        print(f"swxsoc_reach: {span}: {failed_clause(now, len(failed) - now, RETRY_HINT)}",
              file=out)
        for day, row in list(failed.items())[:SHOWN_FAILURES]:
            log = job_log(data_dir, day, row.run_id, row.stage)
            where = f" (log: {log})" if log else ""
            print(f"  {day} {row.error_type}: {row.error_message}{where}", file=out)
        if len(failed) > SHOWN_FAILURES:
            print(f"  ... and {len(failed) - SHOWN_FAILURES} more "
                  "(swxsoc_reach status lists them)", file=out)
    elif not stopped:
        print(f"swxsoc_reach: {span}: every day complete or without data in UDL", file=out)
    return 1 if stopped or failed else 0


def job_log(data_dir: str, day: dt.date, run: str, stage: Stage | None) -> str | None:
    """The log of the job of run ``run`` that failed the day's ``stage`` (rules/*.smk),
    relative to ``data_dir``; None when there is none (a CLI run writes no job log)."""
    if not run:
        return None
    rules = ("download",) if stage is Stage.DOWNLOAD else ("process", "resume", "upload")
    for rule in rules:
        found = glob.glob(os.path.join(glob.escape(data_dir), "logs", rule,
                                       f"{day}.*{glob.escape(run)}.log"))
        if found:
            return os.path.relpath(found[0], data_dir)
    return None


def _count(days: list[dt.date]) -> str:
    """``7 days (2026-01-04..2026-01-08, 2026-01-10)``: the days no row was written for."""
    spans: list[list[dt.date]] = []
    for day in sorted(days):
        if spans and spans[-1][1] + ONE_DAY == day:
            spans[-1][1] = day
        else:
            spans.append([day, day])
    text = ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in spans)
    return f"{len(days)} {'day' if len(days) == 1 else 'days'} ({text or 'none'})"
