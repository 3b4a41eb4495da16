"""Phase 2 day work: each day's artifact -> one L1C CDF, then the optional S3 upload.

Rows per day (historical-process.rst "Status lifecycle"): PROCESS_PENDING then
PROCESSED, then in upload mode UPLOAD_PENDING then UPLOADED; a failure in either
stage ends the day FAILED with the stage's context (an upload failure keeps
``cdf_path``, so ``--retry-failed`` uploads without re-processing). A PROCESSED
row is written only after the CDF is complete under its final name.

The digest chain (issue 17): the artifact is checked against its DOWNLOADED row's
SHA-256 while it is read, before anything is written; PROCESSED records the CDF's
SHA-256 (and the artifact's), and the upload sends a CDF only when its bytes still
have that digest, then confirms that S3 holds those bytes. A run never rebuilds a
day at a version older than the day's newest without ``--allow-downgrade``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from swxsoc_reach.days import iter_days
from swxsoc_reach.errors import ConfigError, InputDataError
from swxsoc_reach.fsutil import write_bytes_atomic
from swxsoc_reach.paths import (
    DEFAULT_DATA_VERSION,
    artifact_compression,
    artifact_format,
    artifact_name,
    day_cdf_path,
    find_artifact,
    quicklook_path,
    summary_path,
    upload_receipt_path,
    version_order,
)
from swxsoc_reach.phases.abouttree import move_legacy_files
from swxsoc_reach.phases.dayguard import replan_with
from swxsoc_reach.phases.dayloop import DayPlan, DayRecorder, DaySelection, RunReport, plan_days
from swxsoc_reach.phases.dayloop import run_days as run_day_loop
from swxsoc_reach.phases.diskneed import process_need, records_in
from swxsoc_reach.phases.inputcheck import DownloadedArtifact
from swxsoc_reach.phases.preflight import check_free_space, check_output_dir
from swxsoc_reach.telemetry.audits import AuditStore
from swxsoc_reach.telemetry.products import day_product, newest_version
from swxsoc_reach.telemetry.resume import ProcessAction, decide_process
from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import TelemetryState, TelemetryStore

if TYPE_CHECKING:
    from swxsoc_reach.upload.s3 import Uploader

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
_PROCESSING = (ProcessAction.PROCESS, ProcessAction.PROCESS_AND_UPLOAD)
_UPLOADING = (ProcessAction.PROCESS_AND_UPLOAD, ProcessAction.UPLOAD_ONLY)


@dataclass(frozen=True)
class ProcessRequest:
    """A validated ``process`` invocation."""

    selection: DaySelection
    input_dir: Path
    output_dir: Path
    upload_to_s3: bool = False
    s3_bucket: str | None = None
    aws_region: str | None = None
    receipt_dir: Path | None = None  # the workflow's upload sentinels (paths.upload_receipt_path)
    quicklook: bool = False  # each new CDF's PNG, in the about tree; never fails a day
    data_version: str = DEFAULT_DATA_VERSION  # X.Y.Z, checked: a day is complete per version
    allow_downgrade: bool = False  # make data_version even where a day has a newer one

    def cdf_path(self, day: dt.date, version: str = "") -> Path:
        """Where the day's CDF of ``version`` (default: the version asked) goes."""
        return day_cdf_path(self.output_dir, day, self.selection.sensor_id,
                            version or self.data_version)


def plan(request: ProcessRequest, state: TelemetryState) -> list[DayPlan]:
    """Decide each day's action from its latest row and what is on disk.

    Each day gets its version: the one asked, or the newest revision of its ``X.Y``, or
    the next one after a refresh (``products.version_to_make``). A current audit's
    findings the ordinary commands repair act here (archive-sync.md "Findings"): an
    uploaded day whose object is missing or different is uploaded again (same key, same
    bytes); a CDF not yet uploaded whose bytes changed is made again.
    """
    sel = request.selection
    sources: dict[dt.date, Path | None] = {}
    versions: dict[dt.date, str] = {}
    audits = AuditStore(sel.telemetry_file).latest()

    def decide(day: dt.date) -> ProcessAction:
        download = state.get_download(day.isoformat(), sel.sensor_id, sel.descriptor)
        named = download.csv_path if download and download.status is Status.DOWNLOADED else None
        sources[day] = find_artifact(request.input_dir, day, sel.sensor_id, sel.output_format,
                                     named)  # both forms on disk: the downloaded one
        product = day_product(state, audits, day, sel.sensor_id, sel.descriptor,
                              request.data_version)
        versions[day] = product.version
        facts = product.facts(artifact_exists=sources[day] is not None,
                              cdf_on_disk=request.cdf_path(day, product.version).is_file())
        return decide_process(product.latest, facts, upload=request.upload_to_s3,
                              retry_failed=sel.retry_failed)

    plans = plan_days(sel, decide, lambda action: ProcessAction(action).is_work)
    return [replace(p, source=sources[p.day], version=versions[p.day]) for p in plans]


def check_downgrades(request: ProcessRequest, state: TelemetryState,
                     plans: list[DayPlan]) -> None:
    """Raise ``ConfigError`` (usage) when the plan would make days at a version older than
    the newest they have, unless ``allow_downgrade``: one forgotten ``--data-version``
    must not rebuild (and upload beside the newer files) a decade at an older version."""
    if request.allow_downgrade:
        return
    sel, asked = request.selection, version_order(request.data_version)[:2]
    newer = {}
    for p in plans:
        if p.is_work:  # a later revision of the same X.Y is made or found by version_to_make
            found = newest_version(state.versions(p.day.isoformat(), sel.sensor_id,
                                                  sel.descriptor))
            if found is not None and version_order(found)[:2] > asked:
                newer[p.day] = found
    if newer:
        first = min(newer)
        raise ConfigError(
            f"{len(newer)} {'day has' if len(newer) == 1 else 'days have'} a newer version than "
            f"{request.data_version} (e.g. {first}: {newer[first]}): this run would downgrade "
            "them. Ask for the newest version (--data-version, workflow data_version), or "
            "pass --allow-downgrade to make the older one anyway")


def run(request: ProcessRequest, uploader: Uploader | None = None) -> RunReport:
    """Plan and run the range; ``uploader`` is required when any day uploads.

    The output directory is checked before any day (``ConfigError``), the free space
    before each day that makes a CDF (too little stops the range).
    """
    sel = request.selection
    check_output_dir(request.output_dir, create=not sel.dry_run)
    if not sel.dry_run:  # the archive tree holds only CDFs: tidy what older versions left
        move_legacy_files(request.output_dir, iter_days(sel.start, sel.end))
    state = TelemetryStore(sel.telemetry_file).state()
    plans = plan(request, state)
    check_downgrades(request, state, plans)
    if uploader is None and any(p.action in _UPLOADING for p in plans) and not sel.dry_run:
        raise ValueError("upload mode needs an uploader")
    downloaded = {p.day: DownloadedArtifact.from_row(p.source, row, p.version) for p in plans
                  if p.source is not None and (row := state.get_downloaded(p.source))}
    made = {p.day: row for p in plans  # the row that made each day's CDF: its digests
            if (row := state.versions(p.day.isoformat(), sel.sensor_id, sel.descriptor).get(
                request.cdf_path(p.day, p.version).name)) is not None}

    def identity(day_plan: DayPlan) -> dict[str, str]:
        source = day_plan.source
        return {"csv_path": str(source.resolve())} if source else {}

    def work(day_plan: DayPlan, recorder: DayRecorder) -> Status:
        return _work_day(request, uploader, day_plan, recorder, downloaded.get(day_plan.day),
                         made.get(day_plan.day))

    def check(day_plan: DayPlan) -> None:
        if day_plan.action in _PROCESSING and day_plan.source is not None:
            check_free_space(request.output_dir,
                             _space_needed(day_plan.source, downloaded.get(day_plan.day)),
                             "CDF")

    return run_day_loop("process", sel, plans, work, identity, check,
                        replan=replan_with(plan, request),
                        finals=lambda day_plan: _day_files(request, day_plan))


def _day_files(request: ProcessRequest, day_plan: DayPlan) -> list[Path]:
    """Every file a day's work writes: CDF, its summary and quicklook, the upload receipt."""
    cdf = request.cdf_path(day_plan.day, day_plan.version)
    files = [cdf, summary_path(cdf), quicklook_path(cdf)]
    if request.receipt_dir is not None:
        files.append(upload_receipt_path(request.receipt_dir, cdf.name))
    return files


def _space_needed(source: Path, downloaded: DownloadedArtifact | None) -> int:
    """Bytes a day's CDF, summary and PNG take (``diskneed``): from the records its
    DOWNLOADED row counts, else from the artifact's size."""
    if downloaded is not None and downloaded.records is not None:
        records = downloaded.records
    else:
        records = records_in(source.stat().st_size, artifact_format(source),
                             artifact_compression(source))
    return process_need(records)


def _work_day(request: ProcessRequest, uploader: Uploader | None, day_plan: DayPlan,
              recorder: DayRecorder, downloaded: DownloadedArtifact | None,
              made: Row | None) -> Status:
    """One day's stages; ``made``: the row that made the CDF an upload-only day sends."""
    sel = request.selection
    day, action = day_plan.day, day_plan.action
    if action is ProcessAction.NO_INPUT:
        expected = artifact_name(day, sel.sensor_id, sel.output_format)
        logger.warning("%s process: no input %s in %s", day, expected, request.input_dir)
        return recorder.finish(
            Status.SKIPPED_NO_INPUT,
            error_message=f"no input {expected} in {request.input_dir.resolve()}",
        ).status
    cdf = request.cdf_path(day, day_plan.version)
    digests = {"cdf_sha256": made.cdf_sha256, "artifact_sha256": made.artifact_sha256} \
        if made is not None else {"cdf_sha256": "", "artifact_sha256": ""}
    if action in _PROCESSING:
        assert day_plan.source is not None  # planned as processing only when present
        cdf, digests = _process(request, day_plan, recorder, downloaded)
        if action is ProcessAction.PROCESS:
            return Status.PROCESSED
    assert uploader is not None
    return _upload(uploader, day, cdf, digests, recorder, request.receipt_dir)


def _process(request: ProcessRequest, day_plan: DayPlan, recorder: DayRecorder,
             downloaded: DownloadedArtifact | None) -> tuple[Path, dict[str, str]]:
    """Make the day's CDF (of the plan's version); return it and its and its artifact's
    SHA-256."""
    from swxsoc_reach.cdf import process_file  # heavy: pyarrow, cdflib
    from swxsoc_reach.cdf.summary import read_summary

    sel = request.selection
    day, source = day_plan.day, day_plan.source
    assert source is not None
    recorder.begin(Status.PROCESS_PENDING)
    began = time.perf_counter()
    if downloaded is not None:  # a cut or changed artifact is never a complete day
        downloaded.check_size()
    try:
        (cdf,) = process_file(source, request.output_dir, day=day, sensor_id=sel.sensor_id,
                              data_version=day_plan.version or request.data_version,
                              check_read=downloaded.check_read if downloaded else None)
    except InputDataError:
        if downloaded is not None:  # say "changed since its download" when that is why
            downloaded.check_unchanged()
        raise
    seconds = time.perf_counter() - began
    size = cdf.stat().st_size
    summary = read_summary(cdf)  # just written with the CDF: its digests
    if summary is None:
        raise InputDataError(f"{cdf}: its product summary is missing or unreadable")
    if request.quicklook:  # before the row: a day recorded PROCESSED is not worked on again,
        # so a kill while drawing must leave it pending (its temporary PNG is then cleared)
        from swxsoc_reach.views.quicklook import write_quicklook_or_warn

        write_quicklook_or_warn(cdf, day)
    digests = {"cdf_sha256": summary.cdf_sha256, "artifact_sha256": summary.artifact_sha256}
    recorder.finish(
        Status.PROCESSED,
        process_seconds=f"{seconds:.3f}",
        cdf_size_mb=f"{size / MIB:.3f}",
        cdf_path=str(cdf.resolve()),
        **digests,
    )
    logger.info("%s process: %s (%.2f MiB) in %.1f s", day, cdf.name, size / MIB, seconds)
    return cdf, digests


def _upload(uploader: Uploader, day: dt.date, cdf: Path, digests: dict[str, str],
            recorder: DayRecorder, receipt_dir: Path | None) -> Status:
    """Upload the CDF if its bytes are still those PROCESSED recorded (``cdf_sha256`` of
    ``digests``; "" for a CDF made before the digests: then as it is, with one INFO line).
    The upload rows carry both digests (the artifact's says what the product was made of)."""
    cdf_sha256 = digests["cdf_sha256"]
    size = f"{cdf.stat().st_size / MIB:.3f}"
    recorder.begin(Status.UPLOAD_PENDING, cdf_path=str(cdf.resolve()), cdf_size_mb=size,
                   **digests)
    began = time.perf_counter()
    if not cdf_sha256:
        logger.info("%s upload: %s was made before CDF digests: sent as it is", day, cdf.name)
    receipt = uploader.upload(cdf, cdf_sha256 or None)
    seconds = time.perf_counter() - began
    if receipt_dir is not None:
        # The object is confirmed: the receipt is true now. Before the row, because a day
        # recorded UPLOADED is not worked on again, so a kill while writing the receipt
        # must leave the day pending (rerun: uploaded again, temporary file cleared); a kill
        # after it leaves a receipt with UPLOAD_PENDING, which the workflow's plan redoes.
        write_bytes_atomic(upload_receipt_path(receipt_dir, cdf.name), json.dumps(
            {"bucket": receipt.bucket, "key": receipt.key}).encode() + b"\n")
    recorder.finish(
        Status.UPLOADED,
        cdf_path=str(cdf.resolve()),
        cdf_size_mb=size,
        upload_seconds=f"{seconds:.3f}",
        s3_bucket=receipt.bucket,
        s3_key=receipt.key,
        **digests,
    )
    logger.info("%s upload: s3://%s/%s in %.1f s", day, receipt.bucket, receipt.key, seconds)
    return Status.UPLOADED
