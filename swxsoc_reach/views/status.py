"""The ``status`` report: where a range stands, built from the telemetry file.

Per (day, sensor, descriptor): the latest status (historical-download.md
"Telemetry": the latest row is the day's state), its ``DayState`` (what an
operator must do about it: the colour of the coverage map), records and
availability from the latest Phase 1 row, the CDF and its S3 key from the latest
row, and the seconds each stage took. Then a summary: days per status, days done
and left with an ETA (``views.eta``), each failed day with ``error_type:
error_message``, total records, mean availability, total times.

Built from ``TelemetryStore.state()`` (the latest rows only, never the whole
history as ``Row`` objects) and the product summary of each recorded CDF
(``cdf.summary``: records and samples per sensor, never the CDF itself), so a
decade reports in about a second. Rendering: ``format_table`` / ``format_csv`` /
``format_json``; coverage in ``views.coverage``; the plot in ``views.plots``
(matplotlib, imported only for ``--plot``).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import itertools
import json
import os
import shlex
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from swxsoc_reach.cdf.summary import ProductSummary, read_summary
from swxsoc_reach.days import check_range, iter_days
from swxsoc_reach.errors import ConfigError
from swxsoc_reach.paths import cdf_data_version
from swxsoc_reach.telemetry import daylock
from swxsoc_reach.telemetry.audits import AuditStore, DayAudit, current
from swxsoc_reach.telemetry.products import newest_version
from swxsoc_reach.telemetry.schema import Row, Stage, Status
from swxsoc_reach.telemetry.store import TelemetryStore, gc_paused
from swxsoc_reach.views.eta import RangeProgress, StageSeconds, duration, estimate_progress

NOT_STARTED = "NOT_STARTED"  # a day of the asked range without any telemetry row (not a Status)
_Key = tuple[str, str, str]
_PENDING = frozenset({Status.DOWNLOAD_PENDING.value, Status.PROCESS_PENDING.value,
                      Status.UPLOAD_PENDING.value})


class DayState(enum.StrEnum):
    """What a day's telemetry means for the operator (the coverage map's colours).

    Only ``COMPLETE`` and ``NO_DATA`` are done; a no-data day (UDL holds nothing)
    is a fact about the source, never drawn or counted as a loss.
    """

    COMPLETE = "complete"
    AWAITING = "awaiting next stage"  # downloaded but not processed, or processed not uploaded
    FAILED = "failed"
    NO_DATA = "no data in UDL"
    NO_INPUT = "no input"
    INTERRUPTED = "interrupted"
    RUNNING = "running now"  # pending, and a live process holds the day's lock (daylock)
    NOT_STARTED = "not started"
    PRODUCT_MISSING = "product missing"
    # the latest audit, newer than the day's last row, found it out of step (archive-sync.md)
    CHANGED_IN_UDL = "changed in UDL"  # UDL holds other records: a refresh fetches them
    OUT_OF_STEP = "out of step"  # a local file or the bucket's object differs or is gone

    @property
    def done(self) -> bool:
        """True when nothing is left to do for the day."""
        return self in (DayState.COMPLETE, DayState.NO_DATA)


@dataclass(frozen=True)
class StatusQuery:
    """Which telemetry file, and which days of it, to report on (filters are optional)."""

    telemetry_file: Path
    start: dt.date | None = None
    end: dt.date | None = None
    sensor_id: str | None = None
    descriptor: str | None = None


class DayStatus(NamedTuple):
    """One day of one (sensor, descriptor): its latest state and what it produced.

    A NamedTuple, like ``Row``: a report of a long range builds tens of thousands.
    """

    day: dt.date
    sensor_id: str
    descriptor: str
    status: str  # a Status value, or NOT_STARTED
    stage: str  # download / process: the stage the latest row belongs to
    records: int | None
    expected_records: int | None
    availability_pct: float | None
    download_seconds: float | None
    process_seconds: float | None
    upload_seconds: float | None
    cdf_path: str
    cdf_exists: bool
    s3_bucket: str
    s3_key: str
    error: str  # "error_type: error_message" of the failure the day still carries, else ""
    error_stage: str  # the stage that failed: the latest row's, or download when only it failed
    state: str  # a DayState value
    csv_path: str  # the artifact the latest rows name ("" when none)
    data_version: str  # X.Y.Z of the day's newest CDF, from its name ("" when none)
    cdf_sha256: str = ""  # what the CDF's bytes were when made ("" before the digests)
    run_id: str = ""  # the run that wrote the latest row (a workflow run names its job logs)
    udl_records: int | None = None  # UDL's count at the latest current audit
    findings: str = ""  # that audit's findings, "code: message; ..." ("" in step or unaudited)

    @property
    def only_in_s3(self) -> bool:
        """The day's CDF was uploaded and its local copy is gone: S3 holds the product."""
        return self.status == Status.UPLOADED.value and bool(self.cdf_path) and not self.cdf_exists

    @property
    def failed(self) -> bool:
        """True when the day carries a failure: its latest row, or its latest download, FAILED.

        A failed download is followed by process's SKIPPED_NO_INPUT; the day still
        needs ``download --retry-failed``, so it is listed with the failures.
        """
        return bool(self.error)


@dataclass(frozen=True)
class StatusReport:
    """Every reported day, in (day, sensor, descriptor) order, and the summary over them."""

    telemetry_file: Path
    days: tuple[DayStatus, ...]
    products: ProductSummaries  # the summary of each day's CDF, when there is one
    uploads: bool = False  # the range uploads to S3: a day is complete only once uploaded

    @property
    def complete(self) -> bool:
        """True when every reported day is done (complete, or no data in UDL): the answer
        of ``status --check``."""
        return bool(self.days) and all(DayState(day.state).done for day in self.days)

    @property
    def counts(self) -> Counter[str]:
        """Days per status."""
        return Counter(day.status for day in self.days)

    @property
    def states(self) -> Counter[str]:
        """Days per ``DayState``."""
        return Counter(day.state for day in self.days)

    @property
    def progress(self) -> RangeProgress:
        """Days done and left, and the ETA from the measured seconds per day of each stage."""
        rates = StageSeconds.measure(self.days)
        return estimate_progress(((d.state, d.error_stage, d.status) for d in self.days), rates,
                                 uploads=self.uploads)

    def product(self, day: DayStatus) -> ProductSummary | None:
        """The product summary of ``day`` (None without a CDF or an older CDF)."""
        return self.products.get((day.day.isoformat(), day.sensor_id, day.descriptor))

    @property
    def failed(self) -> list[DayStatus]:
        """The days that carry a failure (``DayStatus.failed``)."""
        return [day for day in self.days if day.failed]

    @property
    def total_records(self) -> int:
        """Records downloaded over all reported days."""
        return sum(day.records or 0 for day in self.days)

    @property
    def mean_availability_pct(self) -> float | None:
        """Mean availability over the days that have one (None when none has)."""
        values = [day.availability_pct for day in self.days if day.availability_pct is not None]
        return sum(values) / len(values) if values else None

    @property
    def missing_cdfs(self) -> list[DayStatus]:
        """Days whose recorded CDF is no longer on disk and was not uploaded either (a plain
        rerun of ``process`` makes it again)."""
        return [day for day in self.days
                if day.cdf_path and not day.cdf_exists and not day.only_in_s3]

    @property
    def only_in_s3(self) -> list[DayStatus]:
        """Uploaded days whose local CDF is gone (``restore`` fetches it back)."""
        return [day for day in self.days if day.only_in_s3]

    def total_seconds(self, stage: str) -> float:
        """Seconds spent in ``download``, ``process`` or ``upload`` over all days."""
        return sum(getattr(day, f"{stage}_seconds") or 0.0 for day in self.days)

    def summary(self) -> dict[str, object]:
        """The summary as plain values (the JSON form, and the source of the text form)."""
        mean = self.mean_availability_pct
        progress = self.progress
        return {
            "telemetry_file": str(self.telemetry_file),
            "days": len(self.days),
            "first_day": self.days[0].day.isoformat() if self.days else None,
            "last_day": self.days[-1].day.isoformat() if self.days else None,
            "days_per_status": dict(sorted(self.counts.items())),
            "days_per_state": dict(sorted(self.states.items())),
            "days_done": progress.done,
            "days_left": progress.left,
            "eta_seconds": None if progress.eta_seconds is None else round(progress.eta_seconds, 1),
            "seconds_per_day": {stage: None if s is None else round(s, 3)
                                for stage, s in progress.rates.per_stage().items()},
            "failed": [{"day": d.day.isoformat(), "sensor_id": d.sensor_id,
                        "descriptor": d.descriptor, "stage": d.error_stage, "error": d.error}
                       for d in self.failed],
            "total_records": self.total_records,
            "mean_availability_pct": None if mean is None else round(mean, 2),
            "total_download_seconds": round(self.total_seconds("download"), 3),
            "total_process_seconds": round(self.total_seconds("process"), 3),
            "total_upload_seconds": round(self.total_seconds("upload"), 3),
            "missing_cdfs": len(self.missing_cdfs),
            "cdfs_only_in_s3": len(self.only_in_s3),
        }


class ProductSummaries:
    """The summaries of a report's CDFs, read on first use (``status`` alone needs few:
    the coverage views read them all, in one pass with the cyclic GC paused, which
    makes 3,650 of them about 3x faster)."""

    def __init__(self, cdf_paths: dict[_Key, str]) -> None:
        self._paths = cdf_paths
        self._read: dict[_Key, ProductSummary] | None = None

    def get(self, key: _Key) -> ProductSummary | None:
        """The summary of one (day, sensor, descriptor), or None."""
        return self._all().get(key)

    def values(self) -> Iterable[ProductSummary]:
        """Every summary found."""
        return self._all().values()

    def __len__(self) -> int:
        return len(self._all())

    def _all(self) -> dict[_Key, ProductSummary]:
        if self._read is None:
            with gc_paused():
                found = ((key, read_summary(path)) for key, path in self._paths.items())
                self._read = {key: summary for key, summary in found if summary is not None}
        return self._read


def build_report(query: StatusQuery) -> StatusReport:
    """Read the telemetry file once (latest rows only) and build the report."""
    path = Path(query.telemetry_file)
    store = TelemetryStore(path).check()
    if not path.exists():
        raise ConfigError(f"telemetry file {path} does not exist (download and process write "
                          "<dir>/download_telemetry.csv; pass --telemetry-file)")
    if query.start and query.end:
        check_range(query.start, query.end)
    state = store.state()
    audits = AuditStore(path).latest()
    keys = [key for key in state.latest if _wanted(key, query)]
    uploads = any(state.latest[key].s3_key or state.latest[key].status in _UPLOAD_STATUSES
                  for key in keys)
    days: dict[_Key, DayStatus] = {}
    products = ProductSummaries({key: state.latest[key].cdf_path for key in keys
                                 if state.latest[key].cdf_path})
    for key in keys:
        latest = state.latest[key]
        download = state.latest_download.get(key)
        # the records of a day made from an artifact without a download row: its summary's
        product = (read_summary(latest.cdf_path) if latest.cdf_path and not (
            download is not None and download.records_downloaded) else None)
        running = latest.status.value in _PENDING and daylock.probe(daylock.lock_path(
            path, dt.date.fromisoformat(key[0]), key[1], key[2])) is not None
        day = _day_status(key, latest, download, state.latest_processed.get(key), product,
                          uploads, running, newest_version(state.versions(*key)))
        days[key] = _with_audit(day, current(audits, key, latest.started_at_utc))
    for key in _unstarted_keys(query, keys):
        days[key] = _not_started(key)
    return StatusReport(path, tuple(days[key] for key in sorted(days)), products, uploads)


_UPLOAD_STATUSES = (Status.UPLOADED, Status.UPLOAD_PENDING)


def _with_audit(day: DayStatus, audit: DayAudit | None) -> DayStatus:
    """A done day the latest audit (newer than its last row) found out of step gets that
    state, UDL's count and the findings; any other day keeps what its rows say."""
    if audit is None or audit.in_step or not DayState(day.state).done:
        return day
    state = DayState.CHANGED_IN_UDL if audit.udl_drift else DayState.OUT_OF_STEP
    return day._replace(state=state.value, udl_records=audit.udl_records,
                        findings="; ".join(f"{f.code}: {f.message}" for f in audit.findings))


def _wanted(key: _Key, query: StatusQuery) -> bool:
    day, sensor, descriptor = key
    return ((query.start is None or day >= query.start.isoformat())
            and (query.end is None or day <= query.end.isoformat())
            and (query.sensor_id is None or sensor == query.sensor_id)
            and (query.descriptor is None or descriptor == query.descriptor))


def _unstarted_keys(query: StatusQuery, keys: list[_Key]) -> Iterator[_Key]:
    """Days of an asked range that have no row, for each (sensor, descriptor) reported.

    Only when a range bound is given: without one, the report covers what ran.
    The missing bound is the first or last day with a row.
    """
    if query.start is None and query.end is None:
        return
    pairs = sorted({key[1:] for key in keys})
    if not pairs:
        pairs = [(query.sensor_id or "ALL", query.descriptor or "QUICKLOOK")]
    present = set(keys)
    days = sorted({key[0] for key in keys})
    start = query.start or (dt.date.fromisoformat(days[0]) if days else query.end)
    end = query.end or (dt.date.fromisoformat(days[-1]) if days else query.start)
    assert start is not None and end is not None
    for day, (sensor, descriptor) in itertools.product(iter_days(start, end), pairs):
        key = (day.isoformat(), sensor, descriptor)
        if key not in present:
            yield key


def _int(text: str) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None  # a hand-edited cell: reported as unknown, not a crash


def _float(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _day_status(key: _Key, latest: Row, download: Row | None, processed: Row | None,
                product: ProductSummary | None, uploads: bool,
                running: bool = False, newest: str | None = None) -> DayStatus:
    day, sensor, descriptor = key
    # an upload row does not repeat the process time of the PROCESSED row before it
    process_seconds = latest.process_seconds or (
        processed.process_seconds if processed is not None and latest.cdf_path else "")
    counted = download if download is not None and download.status in (
        Status.DOWNLOADED, Status.SKIPPED_NO_DATA) else Row()
    stage = (latest.stage or Stage.DOWNLOAD).value
    failure = latest if latest.status is Status.FAILED else download
    error = error_stage = ""
    if failure is not None and failure.status is Status.FAILED:
        error = f"{failure.error_type or 'error'}: {failure.error_message}"
        error_stage = stage if failure is latest else Stage.DOWNLOAD.value
    cdf_exists = bool(latest.cdf_path) and os.path.isfile(latest.cdf_path)  # no Path: 3x cheaper
    records = _int(counted.records_downloaded)
    if records is None and product is not None:
        records = product.records_read  # an artifact made without a download row: its records
    return DayStatus(
        day=dt.date.fromisoformat(day),
        sensor_id=sensor,
        descriptor=descriptor,
        status=latest.status.value,
        stage=stage,
        records=records,
        expected_records=_int(counted.expected_records),
        availability_pct=_float(counted.availability_pct),
        download_seconds=_float(counted.download_seconds),
        process_seconds=_float(process_seconds),
        upload_seconds=_float(latest.upload_seconds),
        cdf_path=latest.cdf_path,
        cdf_exists=cdf_exists,
        s3_bucket=latest.s3_bucket,
        s3_key=latest.s3_key,
        error=error,
        error_stage=error_stage,
        state=(DayState.RUNNING if running
               else _state(latest, download, bool(error), cdf_exists, uploads)).value,
        csv_path=latest.csv_path or (download.csv_path if download is not None else ""),
        data_version=newest or cdf_data_version(latest.cdf_path or (
            processed.cdf_path if processed is not None else "")) or "",
        cdf_sha256=latest.cdf_sha256,
        run_id=latest.run_id,
    )


def _state(latest: Row, download: Row | None, failed: bool, cdf_exists: bool,
           uploads: bool) -> DayState:
    """The day's ``DayState`` from its latest rows (first match wins, most urgent first)."""
    status = latest.status
    if failed:
        return DayState.FAILED
    if status.value in _PENDING:
        return DayState.INTERRUPTED
    if download is not None and download.status is Status.SKIPPED_NO_DATA:
        return DayState.NO_DATA  # process then finds no input: still UDL's, not a loss
    if status is Status.SKIPPED_NO_INPUT:
        return DayState.NO_INPUT
    if status is Status.UPLOADED:
        return DayState.COMPLETE  # the object is in S3, whatever is left on local disk
    if status is Status.PROCESSED:
        if not cdf_exists:
            return DayState.PRODUCT_MISSING
        return DayState.AWAITING if uploads else DayState.COMPLETE
    return DayState.AWAITING  # DOWNLOADED: process has not run


def _not_started(key: _Key) -> DayStatus:
    day, sensor, descriptor = key
    return DayStatus(dt.date.fromisoformat(day), sensor, descriptor, NOT_STARTED, "", None, None,
                     None, None, None, None, "", False, "", "", "", "", DayState.NOT_STARTED.value,
                     "", "", "")


# --- rendering -------------------------------------------------------------------------------

CSV_COLUMNS = DayStatus._fields  # one column per field, in order: the two cannot drift


def _plain(day: DayStatus) -> dict[str, object]:
    values = day._asdict()
    values["day"] = day.day.isoformat()
    return values


def format_csv(report: StatusReport) -> str:
    """One CSV row per day (empty cells for unknown values), for spreadsheets and scripts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for day in report.days:
        writer.writerow("" if value is None else value for value in _plain(day).values())
    return buffer.getvalue()


def format_json(report: StatusReport) -> str:
    """``{"summary": {...}, "days": [...]}``, for scripts and dashboards."""
    return json.dumps({"summary": report.summary(), "days": [_plain(d) for d in report.days]},
                      indent=2) + "\n"


def _cell(value: float | int | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def format_table(report: StatusReport) -> str:
    """An aligned table of the days, then the summary, for a terminal."""
    several = len({(d.sensor_id, d.descriptor) for d in report.days}) > 1
    header = ["day", *(["sensor", "descriptor"] if several else []), "status", "version",
              "records", "avail %", "process s", "CDF", "S3 key"]
    rows = []
    for d in report.days:
        cdf = os.path.basename(d.cdf_path) if d.cdf_path else "-"  # 3x cheaper than Path
        if d.only_in_s3:
            cdf += " (only in S3)"
        elif d.cdf_path and not d.cdf_exists:
            cdf += " (missing)"
        rows.append([d.day.isoformat(), *([d.sensor_id, d.descriptor] if several else []),
                     d.status, d.data_version or "-", _cell(d.records, ","),
                     _cell(d.availability_pct, ".2f"),
                     _cell(d.process_seconds, ".1f"), cdf, d.s3_key or "-"])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    numeric = {"records", "avail %", "process s"}
    lines = ["  ".join(str(cell).rjust(w) if header[i] in numeric else str(cell).ljust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in [header, *rows]]
    return "\n".join([*lines, "", *summary_lines(report)]) + "\n"


def summary_lines(report: StatusReport) -> list[str]:
    """The summary as text lines (also the whole output when no day matched)."""
    if not report.days:
        return [f"{report.telemetry_file}: no day matches"]
    per_status = ", ".join(f"{n} {status}" for status, n in sorted(report.counts.items()))
    mean = report.mean_availability_pct
    lines = [
        f"{len(report.days)} days ({report.days[0].day} .. {report.days[-1].day}): "
        f"{per_status}; {len(report.failed)} failed",
        f"records: {report.total_records:,}; mean availability: "
        f"{'-' if mean is None else f'{mean:.2f} %'}",
        "time: " + ", ".join(f"{stage} {duration(report.total_seconds(stage))}"
                             for stage in ("download", "process", "upload")),
        report.progress.line(),
    ]
    missing = len(report.missing_cdfs)
    if missing:
        lines.append(f"CDFs recorded but missing on disk: {missing} (a plain rerun of "
                     "process re-makes them)")
    remote = report.only_in_s3
    if remote:
        lines.append(
            f"uploaded CDFs not on local disk: {len(remote)} (complete: S3 holds them, e.g. "
            f"s3://{remote[0].s3_bucket}/{remote[0].s3_key}; their coverage comes from their "
            "product summaries). To fetch the local files back: python -m swxsoc_reach "
            f"restore --telemetry-file {shlex.quote(str(report.telemetry_file))}")
    drift = [d for d in report.days if d.findings]
    if drift:
        lines.append(f"out of step at their latest audit ({len(drift)}; download --refresh "
                     "then process repair them: docs/operations.md):")
        lines += [f"  {d.day} {d.sensor_id}: {d.findings}" for d in drift]
    failed = report.failed
    if failed:
        lines.append(f"failed days ({len(failed)}; fix the cause, then rerun with "
                     "--retry-failed):")
        lines += [f"  {d.day} {d.sensor_id} {d.error_stage}: {d.error}{_log_of(report, d)}"
                  for d in failed]
    return lines


def _log_of(report: StatusReport, day: DayStatus) -> str:
    """`` (log: logs/process/<day>.<run>.log)`` for a day a workflow job failed: its job
    log, beside the telemetry (the workflow's data_dir, or one above its input_dir)."""
    from swxsoc_reach.workflow_run import job_log

    stage = Stage(day.error_stage) if day.error_stage in set(Stage) else None
    for data_dir in (report.telemetry_file.parent, report.telemetry_file.parent.parent):
        found = job_log(str(data_dir), day.day, day.run_id, stage) if day.run_id else None
        if found:
            return f" (log: {os.path.join(str(data_dir), found)})"
    return ""


FORMATTERS = {"table": format_table, "csv": format_csv, "json": format_json}
