"""Phase 1 day work: each UTC day of a range from UDL into one artifact, resumable.

historical-download.md: the shared day loop (``dayloop``) plans the range with
the Phase 1 resume rules and runs each day inside the failure boundary; a day
writes DOWNLOAD_PENDING, then DOWNLOADED (artifact complete under its final
name), SKIPPED_NO_DATA (every window answered, none held a record) or, through
the boundary, FAILED. Credentials are resolved before any day is touched and
never for ``--dry-run``, which also sends no request and writes no telemetry.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path

from swxsoc_reach.errors import ConfigError
from swxsoc_reach.mission import expected_records
from swxsoc_reach.paths import (
    ARTIFACT_COMPRESSIONS,
    DEFAULT_DATA_VERSION,
    artifact_format,
    artifact_name,
    check_data_version,
)
from swxsoc_reach.phases.dayguard import replan_with
from swxsoc_reach.phases.dayloop import DayPlan, DayRecorder, DaySelection, RunReport, plan_days
from swxsoc_reach.phases.dayloop import run_days as run_day_loop
from swxsoc_reach.phases.diskneed import download_need
from swxsoc_reach.phases.preflight import check_free_space, check_output_dir
from swxsoc_reach.telemetry.products import has_product
from swxsoc_reach.telemetry.resume import DownloadAction, decide_download
from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import TelemetryState, TelemetryStore
from swxsoc_reach.udl.client import RetryPolicy, UdlClient, UdlQuery, resolve_base_url
from swxsoc_reach.udl.credentials import Credential, resolve_credential
from swxsoc_reach.udl.day import download_day, open_decoders
from swxsoc_reach.udl.ratelimit import RateSettings

logger = logging.getLogger(__name__)

MIB = 1024 * 1024  # csv_size_mb is in MiB


@dataclass(frozen=True)
class DownloadRequest:
    """A validated ``download`` invocation."""

    selection: DaySelection
    output_dir: Path
    udl_url: str
    rate: RateSettings
    compression: str = "none"  # --artifact-compression: "zstd" writes <name>.zst
    window: dt.timedelta | None = None  # --window-minutes: fixed windows, else sized to a page
    # --data-version: a day with a product of this version (or later) needs no artifact
    data_version: str = DEFAULT_DATA_VERSION
    max_retries: int = RetryPolicy.max_retries  # --max-retries: per request, then the day fails
    refresh: bool = False  # --refresh: download again the days UDL holds differently
    refreshing: frozenset[dt.date] = frozenset()  # those days, found once the run starts


def run_from_cli(selection: DaySelection, args: argparse.Namespace) -> RunReport:
    """Build the request from the parsed flags, resolve credentials, run."""
    if args.output_dir.exists() and not args.output_dir.is_dir():
        raise ConfigError(f"output directory {args.output_dir} exists and is not a directory")
    request = DownloadRequest(
        selection=selection,
        output_dir=args.output_dir,
        udl_url=resolve_base_url(args.udl_url, allow_insecure=args.allow_insecure_udl_url),
        rate=rate_settings(args),
        compression=args.artifact_compression,
        window=dt.timedelta(minutes=args.window_minutes) if args.window_minutes else None,
        data_version=check_data_version(args.data_version),
        max_retries=args.max_retries,
        refresh=args.refresh,
    )
    credential = None if selection.dry_run else resolve_credential(args.aws_region)
    return run(request, credential)


def rate_settings(args: argparse.Namespace) -> RateSettings:
    """The AIMD settings of the rate flags (``commands.flags.add_udl_flags``), checked."""
    return RateSettings(
        max_concurrent_requests=args.max_concurrent_requests,
        initial_rate=args.initial_rate,
        additive_increase=args.additive_increase,
        multiplicative_decrease=args.multiplicative_decrease,
        min_rate=args.min_rate,
        max_rate=args.max_rate,
    ).check()


def plan(request: DownloadRequest, state: TelemetryState) -> list[DayPlan]:
    """Decide each day's action from its latest rows and what is on disk."""
    sel = request.selection

    def decide(day: dt.date) -> DownloadAction:
        key = (day.isoformat(), sel.sensor_id, sel.descriptor)
        latest, latest_download = state.get(*key), state.get_download(*key)
        return decide_download(
            latest, latest_download,
            artifact_exists=_artifact_exists(request, day, (latest, latest_download)),
            retry_failed=sel.retry_failed,
            product_exists=has_product(state.versions(*key), request.data_version),
            refresh=day in request.refreshing,
        )

    return plan_days(sel, decide, lambda action: DownloadAction(action).fetches)


def run(request: DownloadRequest, credential: Credential | None) -> RunReport:
    """Plan and run the range; ``credential`` may be None only for a dry run."""
    sel = request.selection
    state = TelemetryStore(sel.telemetry_file).state()
    expected = str(expected_records(sel.sensor_id))
    with contextlib.ExitStack() as stack:
        client: UdlClient | None = None
        decoders: Executor | None = None
        if not sel.dry_run:
            if credential is None:
                raise ValueError("a download needs a credential")
            check_output_dir(request.output_dir, create=True)
            client = stack.enter_context(UdlClient(
                request.udl_url, credential, request.rate,
                RetryPolicy(max_retries=request.max_retries)))
        if request.refresh:
            from swxsoc_reach.phases.refresh import days_to_refresh

            request = replace(request, refreshing=days_to_refresh(
                sel, state, client, request.rate.max_concurrent_requests))
        plans = plan(request, state)
        if client is not None and any(day_plan.is_work for day_plan in plans):
            decoders = open_decoders(request.rate.max_concurrent_requests)
            if decoders is not None:
                stack.enter_context(decoders)

        def work(day_plan: DayPlan, recorder: DayRecorder) -> Status:
            assert client is not None  # the loop calls work only outside a dry run
            return _work_day(request, client, decoders, day_plan, recorder)

        def check(day_plan: DayPlan) -> None:
            check_free_space(request.output_dir, download_need(
                sel.sensor_id, sel.output_format, request.compression), "artifact")

        return run_day_loop("download", sel, plans, work,
                            lambda day_plan: {"expected_records": expected}, check,
                            replan=replan_with(plan, request),
                            finals=lambda day_plan: [_artifact_path(request, day_plan.day)])


def _percent(value: float) -> str:
    """``availability_pct`` with four decimals, as the older tool wrote it (other tools
    compute with it): ``3.1524``."""
    return f"{value:.4f}"


def _artifact_path(request: DownloadRequest, day: dt.date, compression: str | None = None) -> Path:
    sel = request.selection
    return request.output_dir / artifact_name(day, sel.sensor_id, sel.output_format,
                                              compression or request.compression)


def _artifact_exists(request: DownloadRequest, day: dt.date,
                     rows: tuple[Row | None, Row | None]) -> bool:
    """The day's artifact in this format, compressed or not: in the output dir, or where
    telemetry says (a day downloaded plain is not fetched again to compress it)."""
    fmt = request.selection.output_format
    places = [_artifact_path(request, day, c) for c in ARTIFACT_COMPRESSIONS]
    places += [Path(row.csv_path) for row in rows if row is not None and row.csv_path]
    return any(artifact_format(path) == fmt and path.is_file() for path in places)


def _work_day(request: DownloadRequest, client: UdlClient, decoders: Executor | None,
              day_plan: DayPlan, recorder: DayRecorder) -> Status:
    sel = request.selection
    day = day_plan.day
    recorder.begin(Status.DOWNLOAD_PENDING)
    began = time.perf_counter()
    result = download_day(client, day, UdlQuery(sel.sensor_id, sel.descriptor),
                          _artifact_path(request, day), sel.output_format,
                          request.rate.max_concurrent_requests, decoders,
                          fixed_window=request.window, compression=request.compression)
    seconds = time.perf_counter() - began
    timing = {"download_seconds": f"{seconds:.3f}"}
    if result.path is None:
        logger.info("%s download: UDL holds no record (%s, %s); skipped", day,
                    sel.sensor_id, sel.descriptor)
        return recorder.finish(
            Status.SKIPPED_NO_DATA, records_downloaded="0", availability_pct=_percent(0), **timing,
            error_message=f"UDL answered no {sel.descriptor} record of {sel.sensor_id} "
                          f"for any window of {day}",
        ).status
    expected = expected_records(sel.sensor_id)
    percent = 100.0 * result.records / expected
    recorder.finish(
        Status.DOWNLOADED,
        records_downloaded=str(result.records),
        availability_pct=_percent(percent),
        csv_size_mb=f"{result.size_bytes / MIB:.3f}",
        csv_path=str(result.path.resolve()),
        artifact_sha256=result.sha256,
        **timing,
    )
    logger.info("%s download: %d/%d records (%.2f %%) in %.1f s", day, result.records,
                expected, percent, seconds)
    return Status.DOWNLOADED
