"""What audits found, per day: an append-only JSON-lines file beside the telemetry.

archive-sync.md "Findings": an audit records, per day it checked, UDL's count, the
records the day's artifact holds and its findings (short codes and messages), with
the time of the audit, where ``status``, its coverage view and ``report`` read them.
It is a file of its own, not telemetry rows: an audit never changes what the resume
rules decide for a day by itself (only a refresh acts on ``udl_*`` findings), and the
telemetry's latest row stays the day's state. A day's audit counts only while it is
newer than the day's latest telemetry row (a refresh or an upload after it makes it
stale). Lines are appended whole under ``flock`` and fsync'ed, like telemetry rows;
a damaged line is skipped with a warning.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from swxsoc_reach.errors import TelemetryError

logger = logging.getLogger(__name__)

UDL_FINDINGS = frozenset({"udl_changed", "udl_new_data"})  # what a refresh repairs
S3_FINDINGS = frozenset({"s3_missing", "s3_different"})  # what an upload again repairs
_Key = tuple[str, str, str]


@dataclass(frozen=True)
class Finding:
    """One way a day is out of step: a short code (archive-sync.md) and a message."""

    code: str
    message: str


@dataclass(frozen=True)
class DayAudit:
    """What one audit found for one day (``udl_records`` None when UDL was not asked)."""

    day: str
    sensor_id: str
    descriptor: str
    audited_at: str  # ISO 8601 UTC, comparable with telemetry's started_at_utc
    udl_records: int | None
    downloaded_records: int | None
    findings: tuple[Finding, ...] = field(default=())

    @property
    def key(self) -> _Key:
        return (self.day, self.sensor_id, self.descriptor)

    @property
    def in_step(self) -> bool:
        return not self.findings

    @property
    def udl_drift(self) -> bool:
        """UDL holds the day differently from its artifact: a refresh downloads it again."""
        return any(f.code in UDL_FINDINGS for f in self.findings)

    def plain(self) -> dict[str, object]:
        """The JSON form (``audit --format json`` and the file's lines)."""
        return {"day": self.day, "sensor_id": self.sensor_id, "descriptor": self.descriptor,
                "audited_at": self.audited_at, "udl_records": self.udl_records,
                "downloaded_records": self.downloaded_records,
                "findings": [{"code": f.code, "message": f.message} for f in self.findings]}


def audit_path(telemetry_file: Path) -> Path:
    """``<telemetry stem>.audit.jsonl`` beside the telemetry file it audits."""
    telemetry_file = Path(telemetry_file)
    return telemetry_file.with_name(telemetry_file.stem + ".audit.jsonl")


class AuditStore:
    """The audit file of one telemetry file."""

    def __init__(self, telemetry_file: Path) -> None:
        self.path = audit_path(telemetry_file)

    def append(self, audits: Iterable[DayAudit]) -> None:
        """Append one line per day, durably (one write under the lock, then fsync)."""
        data = b"".join(orjson.dumps(a.plain()) + b"\n" for a in audits)
        if not data:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise TelemetryError(f"cannot append to audit file {self.path}: {exc}") from exc

    def latest(self) -> dict[_Key, DayAudit]:
        """The latest audit of each day (file order: a later line wins)."""
        found: dict[_Key, DayAudit] = {}
        try:
            with open(self.path, "rb") as fh:
                lines = fh.read().splitlines()
        except FileNotFoundError:
            return found
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                audit = _from_plain(orjson.loads(line))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                logger.warning("%s:%d: skipped damaged audit line", self.path, number)
                continue
            found[audit.key] = audit
        return found


def current(audits: Mapping[_Key, DayAudit], key: _Key, since: str) -> DayAudit | None:
    """The day's latest audit if it is newer than ``since`` (the day's latest telemetry
    row's start): an audit older than the day's latest work says nothing any more."""
    audit = audits.get(key)
    return audit if audit is not None and audit.audited_at > since else None


def open_codes(audits: Mapping[_Key, DayAudit], key: _Key, since: str) -> frozenset[str]:
    """The finding codes of the day's current audit (``current``): what the ordinary
    commands still have to repair; none when the audit is stale or absent."""
    audit = current(audits, key, since)
    return frozenset(f.code for f in audit.findings) if audit is not None else frozenset()


def _from_plain(doc: dict[str, object]) -> DayAudit:
    findings = doc["findings"]
    if not isinstance(findings, list):
        raise TypeError("findings is not a list")
    return DayAudit(
        day=str(doc["day"]), sensor_id=str(doc["sensor_id"]), descriptor=str(doc["descriptor"]),
        audited_at=str(doc["audited_at"]),
        udl_records=None if doc["udl_records"] is None else int(doc["udl_records"]),  # type: ignore[arg-type]
        downloaded_records=(None if doc["downloaded_records"] is None
                            else int(doc["downloaded_records"])),  # type: ignore[arg-type]
        findings=tuple(Finding(str(f["code"]), str(f["message"])) for f in findings),
    )
