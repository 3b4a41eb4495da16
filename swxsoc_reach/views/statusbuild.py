"""How the ``status`` report is built: the telemetry file's latest rows -> each day's
``DayStatus`` and ``DayState``.

``build_report`` reads ``TelemetryStore.state()`` once (the latest rows only,
never the whole history as ``Row`` objects, so a decade reports in about a
second), keeps the days a ``StatusQuery`` asks for, lists the days of an asked
range without a row as ``NOT_STARTED``, marks a pending day whose lock a live
process holds as running (``telemetry.daylock``), and gives a done day the latest
audit found out of step that audit's state (archive-sync.md).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

from swxsoc_reach.cdf.summary import ProductSummary, read_summary
from swxsoc_reach.days import check_range, iter_days
from swxsoc_reach.errors import ConfigError
from swxsoc_reach.paths import cdf_data_version
from swxsoc_reach.telemetry import daylock
from swxsoc_reach.telemetry.audits import AuditStore, DayAudit, current
from swxsoc_reach.telemetry.products import newest_version
from swxsoc_reach.telemetry.schema import Row, Stage, Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.views.status import (
    NOT_STARTED,
    DayKey,
    DayState,
    DayStatus,
    ProductSummaries,
    StatusQuery,
    StatusReport,
)

_PENDING = frozenset({Status.DOWNLOAD_PENDING.value, Status.PROCESS_PENDING.value,
                      Status.UPLOAD_PENDING.value})


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
    days: dict[DayKey, DayStatus] = {}
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


def _wanted(key: DayKey, query: StatusQuery) -> bool:
    day, sensor, descriptor = key
    return ((query.start is None or day >= query.start.isoformat())
            and (query.end is None or day <= query.end.isoformat())
            and (query.sensor_id is None or sensor == query.sensor_id)
            and (query.descriptor is None or descriptor == query.descriptor))


def _unstarted_keys(query: StatusQuery, keys: list[DayKey]) -> Iterator[DayKey]:
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


def _day_status(key: DayKey, latest: Row, download: Row | None, processed: Row | None,
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


def _not_started(key: DayKey) -> DayStatus:
    day, sensor, descriptor = key
    return DayStatus(dt.date.fromisoformat(day), sensor, descriptor, NOT_STARTED, "", None, None,
                     None, None, None, None, "", False, "", "", "", "", DayState.NOT_STARTED.value,
                     "", "", "")

