"""``audit``: each day of a range against its source, its local files and its destination.

archive-sync.md "A day in step" and "Findings". Per day that was downloaded (or
found without data):

- UDL: the count of the day's records (``udl.count``: ``[D, D+1)``, the download's
  query, credential, rate limit and retries) against the records its artifact holds
  (``records_downloaded``; 0 for ``SKIPPED_NO_DATA``): ``udl_changed``, ``udl_new_data``;
- the artifact, when present, against its recorded SHA-256 (``artifact_changed``; an
  artifact pruned after its product was made is allowed);
- the newest product's CDF against its recorded SHA-256 (``cdf_missing``, ``cdf_changed``);
- with a bucket, that product's object: it exists and holds the CDF's bytes
  (``s3_missing``, ``s3_different``).

Counts, S3 look-ups and local digests run at the same time. What was found is
appended to the audit file (``telemetry.audits``); nothing else is written. UDL or S3
unreachable stops the audit with one error (exit 1): a day it could not check is
never reported in step.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from swxsoc_reach.days import iso_utc, iter_days, utc_now
from swxsoc_reach.errors import ConfigError
from swxsoc_reach.fsutil import sha256_file
from swxsoc_reach.phases.dayloop import DaySelection
from swxsoc_reach.phases.inputcheck import SIZE_ROUNDING
from swxsoc_reach.telemetry.audits import AuditStore, DayAudit, Finding
from swxsoc_reach.telemetry.products import newest_product
from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import TelemetryState, TelemetryStore
from swxsoc_reach.udl.ratelimit import RateSettings

if TYPE_CHECKING:
    from swxsoc_reach.udl.count import DayCount
    from swxsoc_reach.udl.credentials import Credential
    from swxsoc_reach.upload.s3 import Uploader
    from swxsoc_reach.upload.verify import StoredObject

logger = logging.getLogger(__name__)

S3_LOOKUPS = 8  # HEAD requests in flight at once (each a small answer)


@dataclass(frozen=True)
class AuditRequest:
    """A validated ``audit`` invocation."""

    selection: DaySelection
    udl_url: str
    rate: RateSettings
    s3_bucket: str | None = None
    aws_region: str | None = None
    max_retries: int = 5  # per request (--max-retries), as for download


@dataclass(frozen=True)
class Subject:
    """One day to audit and what the telemetry says of it."""

    day: dt.date
    downloaded: Row | None  # the latest DOWNLOADED or SKIPPED_NO_DATA row; None: never
    product: Row | None  # the newest version's latest PROCESSED or UPLOADED row

    @property
    def records(self) -> int | None:
        """What the day's artifact holds (0 for a day UDL had no data for)."""
        if self.downloaded is None:
            return None
        if self.downloaded.status is Status.SKIPPED_NO_DATA:
            return 0
        try:
            return int(self.downloaded.records_downloaded)
        except ValueError:
            return None


@dataclass
class AuditReport:
    """Every audited day's result, in day order."""

    days: list[DayAudit] = field(default_factory=list)

    @property
    def drift(self) -> list[DayAudit]:
        return [d for d in self.days if not d.in_step]

    @property
    def exit_code(self) -> int:
        """0 when every day is in step, else 1 (archive-sync.md "Nightly operation")."""
        return 1 if self.drift else 0

    def summary(self) -> str:
        codes = Counter(f.code for d in self.days for f in d.findings)
        line = (f"audit: {len(self.days)} days: {len(self.days) - len(self.drift)} in step, "
                f"{len(self.drift)} not")
        if codes:
            line += " (" + ", ".join(f"{n} {code}" for code, n in sorted(codes.items())) + ")"
        if any(d.udl_drift for d in self.days):
            line += "; download --refresh fetches the days UDL now holds differently"
        return line


def run_from_cli(selection: DaySelection, args: argparse.Namespace) -> AuditReport:
    """Build the request from the parsed flags, resolve credentials, audit."""
    from swxsoc_reach.phases.download import rate_settings
    from swxsoc_reach.udl.client import resolve_base_url
    from swxsoc_reach.udl.credentials import resolve_credential

    if not selection.telemetry_file.is_file():
        raise ConfigError(f"telemetry file {selection.telemetry_file} does not exist")
    request = AuditRequest(selection, resolve_base_url(
        args.udl_url, allow_insecure=args.allow_insecure_udl_url), rate_settings(args),
                           args.s3_bucket, args.aws_region, args.max_retries)
    return run(request, resolve_credential(args.aws_region))


def subjects(state: TelemetryState, selection: DaySelection,
             days: list[dt.date] | None = None) -> list[Subject]:
    """The days of the range (or ``days``) with what the telemetry says of each."""
    found = []
    for day in days if days is not None else iter_days(selection.start, selection.end):
        key = (day.isoformat(), selection.sensor_id, selection.descriptor)
        download = state.get_download(*key)
        product = newest_product(state.versions(*key))
        downloaded = download if download is not None and download.status in (
            Status.DOWNLOADED, Status.SKIPPED_NO_DATA) else _last_downloaded(state, key, product)
        found.append(Subject(day, downloaded, product))
    return found


def _last_downloaded(state: TelemetryState, key: tuple[str, str, str],
                     product: Row | None) -> Row | None:
    """A day whose latest Phase 1 row is not an outcome (a refresh killed or failed): the
    DOWNLOADED row of the artifact its latest rows or its newest ``product`` name still
    says what that artifact holds."""
    for row in (state.get(*key), product):
        if row is not None and row.csv_path:
            found = state.get_downloaded(Path(row.csv_path))
            if found is not None:
                return found
    return None


def run(request: AuditRequest, credential: Credential) -> AuditReport:
    """Audit the range; append the results to the audit file; raise on UDL or S3 outage."""
    from swxsoc_reach.udl.client import RetryPolicy, UdlClient, UdlQuery
    from swxsoc_reach.udl.count import count_days

    sel = request.selection
    state = TelemetryStore(sel.telemetry_file).state()
    days = subjects(state, sel)
    counted = [s.day for s in days if s.downloaded is not None]
    uploader = _open_uploader(request)
    retries = RetryPolicy(max_retries=request.max_retries)
    with UdlClient(request.udl_url, credential, request.rate, retries) as client, \
            ThreadPoolExecutor(S3_LOOKUPS, thread_name_prefix="s3-audit") as pool:
        stored = {s.day: pool.submit(_check_s3, uploader, s) for s in days
                  if uploader is not None and _uploaded(s)}
        counting = ThreadPoolExecutor(1, thread_name_prefix="udl-audit")
        with counting:
            counts = counting.submit(count_days, client, counted,
                                     UdlQuery(sel.sensor_id, sel.descriptor),
                                     request.rate.max_concurrent_requests)
            local = {s.day: _check_local(s) for s in days}  # digests while UDL counts
            results = counts.result()
        remote = {day: future.result() for day, future in stored.items()}
    audited_at = iso_utc(utc_now())
    report = AuditReport()
    for s in days:
        count = results.get(s.day)
        findings = [*udl_findings(s, count), *local[s.day], *remote.get(s.day, [])]
        report.days.append(DayAudit(
            s.day.isoformat(), sel.sensor_id, sel.descriptor, audited_at,
            None if count is None else count.records, s.records, tuple(findings)))
    AuditStore(sel.telemetry_file).append(report.days)
    for audit in report.drift:
        logger.info("%s audit: %s", audit.day, "; ".join(f.message for f in audit.findings))
    return report


def _open_uploader(request: AuditRequest) -> Uploader | None:
    if request.s3_bucket is None:
        return None
    from swxsoc_reach.upload.s3 import open_uploader

    return open_uploader(request.s3_bucket, request.aws_region)


def _uploaded(subject: Subject) -> bool:
    return subject.product is not None and subject.product.status is Status.UPLOADED


def udl_findings(subject: Subject, count: DayCount | None) -> list[Finding]:
    """UDL's count against the artifact's records."""
    if subject.downloaded is None:
        return [Finding("not_downloaded", "the day has no download yet: run download")]
    if count is None or count.records is None:
        return [Finding("udl_count_failed", "UDL's count could not be had: "
                        f"{count.error if count is not None else 'not counted'}")]
    records = count.records
    held = subject.records
    if subject.downloaded.status is Status.SKIPPED_NO_DATA:
        return [Finding("udl_new_data", f"UDL holds {records} records now; it held none when "
                        "the day was downloaded")] if records else []
    if held is None or records != held:
        return [Finding("udl_changed", f"UDL holds {records} records, the artifact {held}")]
    return []


def _check_local(subject: Subject) -> list[Finding]:
    """The artifact and the newest CDF against their recorded digests."""
    findings = []
    downloaded = subject.downloaded
    if (downloaded is not None and downloaded.status is Status.DOWNLOADED
            and downloaded.artifact_sha256 and os.path.isfile(downloaded.csv_path)
            and sha256_file(Path(downloaded.csv_path)) != downloaded.artifact_sha256):
        findings.append(Finding("artifact_changed", f"artifact {downloaded.csv_path}: its "
                                    "bytes differ from the digest its DOWNLOADED row recorded"))
    product = subject.product
    if product is not None and product.cdf_path:
        if not os.path.isfile(product.cdf_path):
            findings.append(Finding("cdf_missing", f"CDF {product.cdf_path} is not on disk"))
        elif product.cdf_sha256 and sha256_file(Path(product.cdf_path)) != product.cdf_sha256:
            findings.append(Finding("cdf_changed", f"CDF {product.cdf_path}: its bytes differ "
                                    "from the digest recorded when it was made"))
    return findings


def _check_s3(uploader: Uploader, subject: Subject) -> list[Finding]:
    """The product's object: there, and holding the recorded CDF's bytes."""
    product = subject.product
    assert product is not None
    key = product.s3_key
    where = f"s3://{uploader.bucket}/{key}"
    stored = uploader.stored(key)
    if stored is None:
        return [Finding("s3_missing", f"{where} does not exist")]
    if not _holds(stored, product):
        return [Finding("s3_different", f"{where} holds other bytes than the CDF recorded "
                        f"({stored.size} bytes)")]
    return []


def _holds(stored: StoredObject, product: Row) -> bool:
    """Whether the stored object is the recorded CDF: its whole-object SHA-256 (from the
    local CDF's reading when the object is multipart), else its size."""
    from swxsoc_reach.upload.verify import local_checksum

    size = stored.size
    reported = stored.checksums.get("SHA256")
    if reported and product.cdf_sha256:
        whole = None if "-" in reported else _b64_hex(reported)
        if whole is not None:
            return whole == product.cdf_sha256
        if os.path.isfile(product.cdf_path):
            return local_checksum(Path(product.cdf_path), "SHA256").matches(reported)
    try:
        recorded = float(product.cdf_size_mb) * 1024 * 1024
    except ValueError:
        return True  # nothing recorded to compare with: existence is all we know
    return abs(size - recorded) <= SIZE_ROUNDING


def _b64_hex(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).hex()
    except ValueError:
        return None
