"""The day loop both phases share: plan the range, honour ``--limit-days`` and
``--dry-run``, run each day inside the one failure boundary, and summarize.

A day's rows go through a ``DayRecorder``: it writes a stage's pending row,
then its outcome; any exception escaping a day's work is turned into a FAILED
row that keeps the context of the pending row it follows (historical-process.rst,
"Status lifecycle"), and the range goes on.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from swxsoc_reach.days import day_window, iso_utc, iter_days, utc_now
from swxsoc_reach.errors import RangeStoppedError, TelemetryError
from swxsoc_reach.phases.dayguard import DayGuard, Finals, Replan, WatchedStore
from swxsoc_reach.phases.preflight import FaultStreak, error_type_of
from swxsoc_reach.telemetry.resume import SKIPPED_FAILED
from swxsoc_reach.telemetry.schema import STATUS_STAGE, Row, Status
from swxsoc_reach.telemetry.store import RunRows, TelemetryStore
from swxsoc_reach.views.eta import dry_run_totals
from swxsoc_reach.views.progress import day_progress

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DaySelection:
    """The days a run covers and the options both phases share (validated by the CLI)."""

    start: dt.date
    end: dt.date
    telemetry_file: Path
    sensor_id: str = "ALL"
    descriptor: str = "QUICKLOOK"
    output_format: str = "csv"
    retry_failed: bool = False
    limit_days: int | None = None
    dry_run: bool = False
    # the telemetry run_id to write; a workflow run gives every job its own so they
    # share one streak of systemic faults (``RunRows``), else each run makes a new one
    run_id: str | None = None


@dataclass(frozen=True)
class DayPlan:
    """One day and the action the resume rules chose for it."""

    day: dt.date
    action: enum.Enum
    is_work: bool
    source: Path | None = None  # the day's input artifact, found once while planning
    version: str = ""  # process: the product version the day gets ("" before planning it)


@dataclass
class RunReport:
    """What a run did: the plan, each worked day's final status, and why it stopped early."""

    stage: str
    plans: list[DayPlan]
    outcomes: dict[dt.date, Status] = field(default_factory=dict)
    dry_run: bool = False
    stopped: str | None = None  # the range was cut short: why (the days after have no row)
    busy: dict[dt.date, str] = field(default_factory=dict)  # day -> the process holding it
    totals: str = ""  # a dry run's estimate: requests, bytes, time (views.eta.dry_run_totals)

    @property
    def failed(self) -> int:
        """How many days ended FAILED in this run."""
        return sum(1 for status in self.outcomes.values() if status is Status.FAILED)

    @property
    def failed_earlier(self) -> int:
        """Days left FAILED by an earlier run and skipped for want of ``--retry-failed``."""
        return sum(1 for plan in self.plans if plan.action in SKIPPED_FAILED)

    @property
    def exit_code(self) -> int:
        """1 when a day of the range is FAILED (now or from before) or the range was
        stopped, else 0: a rerun that skips failures must not look like success to cron."""
        if self.dry_run:
            return 0
        return 1 if self.failed or self.failed_earlier or self.stopped else 0

    def summary(self) -> str:
        """One line: days planned, and how each ended."""
        if self.dry_run:
            counts = Counter(str(plan.action) for plan in self.plans)
            detail = ", ".join(f"{n} {action}" for action, n in counts.items())
            line = f"{self.stage} (dry run): {len(self.plans)} days planned: {detail or 'none'}"
            return f"{line}; {self.totals}" if self.totals else line
        skipped = len(self.plans) - len(self.outcomes)
        counts = Counter(status.value for status in self.outcomes.values())
        parts = [f"{n} {status}" for status, n in sorted(counts.items())]
        parts.append(f"{skipped} skipped")
        line = f"{self.stage}: {len(self.plans)} days planned: " + ", ".join(parts)
        if self.failed or self.failed_earlier:
            line += "; " + failed_clause(self.failed, self.failed_earlier, "--retry-failed")
        if self.busy:
            line += (f"; {len(self.busy)} days busy (another process works on them): "
                     "rerun once it ends")
        if self.stopped:
            unreached = sum(1 for p in self.plans if p.is_work and p.day not in self.outcomes)
            line += f"; stopped early, {unreached} days not reached"
        return line


def failed_clause(now: int, earlier: int, retry_hint: str) -> str:
    """``3 days FAILED (2 now, 1 in an earlier run): fix the cause, then rerun with ...``."""
    when = ", ".join(f"{n} {what}" for n, what in ((now, "now"), (earlier, "in an earlier run"))
                     if n)
    total = now + earlier
    return (f"{total} {'day' if total == 1 else 'days'} FAILED ({when}): fix the cause, "
            f"then rerun with {retry_hint}")


def plan_days(
    selection: DaySelection, decide: Callable[[dt.date], enum.Enum],
    is_work: Callable[[enum.Enum], bool],
) -> list[DayPlan]:
    """Decide every day of the range; stop after ``limit_days`` days of work.

    The cap counts only days that will be attempted, so it starts from the first
    day that is not already complete.
    """
    plans: list[DayPlan] = []
    worked = 0
    for day in iter_days(selection.start, selection.end):
        if selection.limit_days is not None and worked >= selection.limit_days:
            break
        action = decide(day)
        work = is_work(action)
        worked += work
        plans.append(DayPlan(day, action, work))
    return plans


class DayRecorder:
    """Writes one day's telemetry rows; remembers the last so a failure can extend it."""

    def __init__(self, store: TelemetryStore, run_id: str, day: dt.date,
                 selection: DaySelection, **identity: str) -> None:
        start, end = day_window(day)
        self._store = store
        self._identity = Row(
            run_id=run_id,
            chunk_date_utc=day.isoformat(),
            window_start_utc=iso_utc(start),
            window_end_utc=iso_utc(end),
            sensor_id=selection.sensor_id,
            descriptor=selection.descriptor,
            output_format=selection.output_format,
            **identity,
        )
        self.last: Row | None = None

    def begin(self, status: Status, **fields: str) -> Row:
        """Write a stage's pending row; its ``started_at_utc`` is now."""
        return self._write(self._identity.evolve(
            status=status, started_at_utc=iso_utc(utc_now()), **fields))

    def finish(self, status: Status, **fields: str) -> Row:
        """Write a stage's outcome row, timed from the pending row (or now, if none)."""
        started = self.last.started_at_utc if self.last else iso_utc(utc_now())
        return self._write(self._identity.evolve(
            status=status, started_at_utc=started, finished_at_utc=iso_utc(utc_now()), **fields))

    def fail(self, exc: BaseException) -> Row:
        """Write FAILED, keeping the interrupted stage's context, with a one-line reason."""
        base = self.last or self._identity.evolve(started_at_utc=iso_utc(utc_now()))
        message = " ".join(str(exc).split()) or type(exc).__name__
        return self._write(base.evolve(
            status=Status.FAILED, error_type=error_type_of(exc), error_message=message,
            finished_at_utc=iso_utc(utc_now())))

    def _write(self, row: Row) -> Row:
        self._store.append(row)
        self.last = row
        return row


DayWork = Callable[[DayPlan, DayRecorder], Status]


def run_days(
    stage: str,
    selection: DaySelection,
    plans: Sequence[DayPlan],
    work: DayWork,
    identity: Callable[[DayPlan], dict[str, str]] = lambda plan: {},
    check: Callable[[DayPlan], None] = lambda plan: None,
    *,
    replan: Replan,
    finals: Finals,
) -> RunReport:
    """Run every planned day in order, each inside the per-day failure boundary.

    Each day is worked on under its lock (``dayguard``): a day another process holds
    is skipped, one it changed is decided again with ``replan`` (fresh telemetry),
    and the temporary files killed writers left beside the day's ``finals`` go.
    ``check`` runs before each day's first row (the free-space check): its
    ``RangeStoppedError`` stops the range, leaving that day and the rest untouched.
    So does a streak of days failing with one systemic cause (``FaultStreak``): this
    process's, or, with ``selection.run_id``, the streak every process of that run wrote
    to the telemetry (a workflow's parallel day jobs), read before each day starts.
    """
    report = RunReport(stage, list(plans), dry_run=selection.dry_run)
    if selection.dry_run:
        for plan in plans:
            logger.info("%s %s: would %s", plan.day, stage, plan.action)
        report.totals = dry_run_totals(stage, [p.action for p in plans], selection.sensor_id,
                                       TelemetryStore(selection.telemetry_file).state())
        return report
    store = WatchedStore(selection.telemetry_file)
    guard = DayGuard(stage, store, selection.sensor_id, selection.descriptor, replan, finals)
    report.busy = guard.busy
    run_id = selection.run_id or str(uuid.uuid4())
    shared = SharedStreak(selection.telemetry_file, run_id, stage) if selection.run_id else None
    worked = [plan for plan in plans if plan.is_work]
    for plan in plans:
        if not plan.is_work:
            logger.info("%s %s: %s", plan.day, stage, plan.action)
    streak = FaultStreak()
    with day_progress(len(worked), stage, selection.telemetry_file) as progress:
        for planned in worked:
            with guard.enter(planned) as plan:
                if plan is None:  # busy, or done by another process meanwhile
                    progress.advance("skipped")
                    continue
                report.stopped = shared.stopped() if shared is not None else None
                if report.stopped:  # another job of this run ended the streak: no row
                    break
                try:
                    check(plan)
                except RangeStoppedError as exc:
                    report.stopped = f"{plan.day} {stage}: {exc}"
                    break
                recorder = DayRecorder(store, run_id, plan.day, selection, **identity(plan))
                failure: Exception | None = None
                try:
                    status = work(plan, recorder)
                except TelemetryError:
                    raise  # the truth cannot be written: stop rather than go on blind
                except Exception as exc:  # the per-day boundary: record, log, go on
                    logger.error("%s %s: FAILED: %s: %s", plan.day, stage,
                                 type(exc).__name__, exc)
                    logger.debug("%s %s: traceback", plan.day, stage, exc_info=True)
                    status = recorder.fail(exc).status
                    failure = exc
                report.outcomes[plan.day] = status
                progress.advance(status.value)
                report.stopped = streak.record(failure)
                if report.stopped:
                    break
    return report


class SharedStreak:
    """The systemic-fault streak of one run's ``stage``, read from the telemetry.

    Every job of a workflow run writes rows under the run's id; outcome rows in the
    order they were appended make the streak, whichever process wrote them.
    """

    def __init__(self, telemetry_file: Path, run_id: str, stage: str,
                 retry_hint: str = "--retry-failed") -> None:
        self._rows = RunRows(telemetry_file, run_id)
        self._stage = stage
        self._streak = FaultStreak(retry_hint=retry_hint)

    def stopped(self, not_attempted: str = "the days after them") -> str | None:
        """Why this run's ``stage`` must stop (read the rows appended since), or None."""
        for row in self._rows.new_rows():
            if (row.stage or STATUS_STAGE.get(row.status)) == self._stage:
                self._streak.record_row(row)
        return self._streak.describe(not_attempted)
