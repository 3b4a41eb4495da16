"""Resume rules: (latest telemetry row, what is on disk, flags) -> what to do with a day.

Pure functions, one table per phase, so the CLI, the workflow's target helper
and the tests apply exactly the same rules (historical-download.md "Resume
rules", historical-process.rst "Restart semantics").
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass

from swxsoc_reach.telemetry.schema import Row, Stage, Status


class DownloadAction(enum.StrEnum):
    """What ``download`` does with a day."""

    DOWNLOAD = "download"
    REDOWNLOAD = "download again (artifact gone)"  # downloaded once; its product not made
    REFRESH = "refresh (UDL holds it differently)"  # download --refresh (archive-sync.md)
    SKIP_COMPLETE = "skip (downloaded)"
    SKIP_PRODUCT = "skip (product made; artifact not needed)"
    SKIP_NO_DATA = "skip (no data in UDL)"
    SKIP_FAILED = "skip (failed; use --retry-failed)"

    @property
    def fetches(self) -> bool:
        """True when the day is downloaded (it counts against ``--limit-days``)."""
        return self in (DownloadAction.DOWNLOAD, DownloadAction.REDOWNLOAD,
                        DownloadAction.REFRESH)


class ProcessAction(enum.StrEnum):
    """What ``process`` does with a day."""

    PROCESS = "process"
    PROCESS_AND_UPLOAD = "process+upload"
    UPLOAD_ONLY = "upload only"
    NO_INPUT = "no input"
    SKIP_COMPLETE = "skip (complete)"
    SKIP_FAILED = "skip (failed; use --retry-failed)"
    SKIP_NO_DATA = "skip (no data in UDL)"
    SKIP_NO_INPUT = "skip (still no input)"

    @property
    def is_work(self) -> bool:
        """True when the day is attempted (it counts against ``--limit-days``)."""
        return self not in _PROCESS_SKIPS


_PROCESS_SKIPS = frozenset({ProcessAction.SKIP_COMPLETE, ProcessAction.SKIP_FAILED,
                            ProcessAction.SKIP_NO_DATA, ProcessAction.SKIP_NO_INPUT})
# Days skipped because an earlier run left them FAILED: a run over them exits 1.
SKIPPED_FAILED: frozenset[enum.Enum] = frozenset({DownloadAction.SKIP_FAILED,
                                                  ProcessAction.SKIP_FAILED})


@dataclass(frozen=True)
class DayFacts:
    """What is on disk for a day, gathered by the caller (the rules do no I/O).

    ``cdf_exists`` is about the CDF of the product version asked, named ``cdf_name``
    (l1c-cdf.md "versions": a day counts as complete only for the version asked); a CDF
    a current audit found changed does not count. ``s3_drift``: a current audit found
    the day's S3 object missing or holding other bytes (archive-sync.md "Findings").
    """

    artifact_exists: bool
    cdf_exists: bool = False
    cdf_name: str = ""  # "" when the caller does not tell versions apart
    s3_drift: bool = False


def decide_download(
    latest: Row | None, latest_download: Row | None, *, artifact_exists: bool,
    retry_failed: bool, product_exists: bool = False, refresh: bool = False,
) -> DownloadAction:
    """Apply the Phase 1 resume table.

    ``product_exists``: the day has a product of the version asked (or later) whose
    CDF is on disk or whose upload was confirmed (``telemetry.products.has_product``):
    its artifact is then a cache that may have been pruned, never a reason to download.
    Otherwise ``download`` consults Phase 1 statuses only: when the latest row is a
    Phase 2 one whose recorded artifact is still on disk, the day is complete; else the
    latest Phase 1 row decides; an interrupted or failed download (a refresh, when the
    product exists) is resumed or waits for ``--retry-failed`` as any other. ``refresh``:
    UDL holds the day differently from its artifact and ``--refresh`` was asked
    (``phases.refresh``): it is downloaded again, whatever else holds.
    """
    if refresh:
        return DownloadAction.REFRESH
    if latest is not None and latest.stage is Stage.PROCESS and artifact_exists:
        return DownloadAction.SKIP_COMPLETE
    if latest_download is None:
        return DownloadAction.SKIP_PRODUCT if product_exists else DownloadAction.DOWNLOAD
    status = latest_download.status
    if status is Status.DOWNLOADED:
        if artifact_exists:
            return DownloadAction.SKIP_COMPLETE
        return DownloadAction.SKIP_PRODUCT if product_exists else DownloadAction.REDOWNLOAD
    if status is Status.SKIPPED_NO_DATA:
        return DownloadAction.SKIP_NO_DATA
    if status is Status.FAILED and not retry_failed:
        return DownloadAction.SKIP_FAILED
    return DownloadAction.DOWNLOAD  # DOWNLOAD_PENDING (interrupted) or FAILED with retry


def decide_process(
    latest: Row | None, facts: DayFacts, *, upload: bool, retry_failed: bool
) -> ProcessAction:
    """Apply the Phase 2 restart table to one day.

    A row about another version's CDF (its ``cdf_path`` names another file) says nothing
    about the version asked: that version's day starts from the input, as after Phase 1.
    """
    if latest is not None and _other_version(latest, facts):
        latest = None
    status = None if latest is None else latest.status
    if status is Status.FAILED and latest is not None and latest.stage is Stage.DOWNLOAD:
        if not facts.artifact_exists:
            # it waits for download --retry-failed: recording SKIPPED_NO_INPUT over it
            # would hide the failure (and write a row each run)
            return ProcessAction.SKIP_FAILED
        status = None  # an artifact is there anyway (copied in): process it
    if status is Status.FAILED:
        if not retry_failed:
            return ProcessAction.SKIP_FAILED
        # the runbook: a failed upload with the CDF still on disk is retried as upload only
        status = Status.UPLOAD_PENDING if latest is not None and latest.cdf_path else None
    if status is Status.UPLOADED:
        # the bucket lost or changed the object: the same bytes again, from the local CDF
        drifted = upload and facts.s3_drift and facts.cdf_exists
        return ProcessAction.UPLOAD_ONLY if drifted else ProcessAction.SKIP_COMPLETE
    if status in (Status.PROCESSED, Status.UPLOAD_PENDING) and facts.cdf_exists:
        # local-only mode needs nothing more than the CDF on disk
        return ProcessAction.UPLOAD_ONLY if upload else ProcessAction.SKIP_COMPLETE
    # PROCESS_PENDING, SKIPPED_NO_INPUT, a Phase 1 status, a vanished CDF: from the input
    if not facts.artifact_exists:
        if status is Status.SKIPPED_NO_DATA:
            return ProcessAction.SKIP_NO_DATA  # terminal, as for download
        if status is Status.SKIPPED_NO_INPUT:
            return ProcessAction.SKIP_NO_INPUT  # recorded once; re-attempted when it appears
        return ProcessAction.NO_INPUT
    return ProcessAction.PROCESS_AND_UPLOAD if upload else ProcessAction.PROCESS


def _other_version(latest: Row, facts: DayFacts) -> bool:
    return bool(facts.cdf_name and latest.cdf_path
                and os.path.basename(latest.cdf_path) != facts.cdf_name)
