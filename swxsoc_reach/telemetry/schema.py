"""Telemetry columns and statuses (historical-download.md "Telemetry", historical-process.rst).

The column order is part of the file format: readers and other tools index by it.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

COLUMNS: tuple[str, ...] = (
    "run_id",
    "chunk_date_utc",
    "window_start_utc",
    "window_end_utc",
    "status",
    "records_downloaded",
    "expected_records",
    "availability_pct",
    "download_seconds",
    "csv_size_mb",
    "csv_path",
    "sensor_id",
    "descriptor",
    "output_format",
    "error_type",
    "error_message",
    "started_at_utc",
    "finished_at_utc",
    # Phase 2 (historical-process.rst "Telemetry schema")
    "process_seconds",
    "cdf_size_mb",
    "cdf_path",
    "upload_seconds",
    "s3_bucket",
    "s3_key",
    # The digest chain (issue 17): SHA-256 of the artifact's bytes as download wrote them
    # (on DOWNLOADED, and carried on the day's Phase 2 rows), and of the CDF as process
    # wrote it (on PROCESSED and the upload rows). Older rows read as empty.
    "artifact_sha256",
    "cdf_sha256",
)

# Every row width a version of the tool wrote: Phase 1 alone, then Phase 2, then the digests.
ROW_WIDTHS: tuple[int, ...] = (18, 24, len(COLUMNS))

# Columns that hold a path: written relative to the telemetry file's directory, so a
# data directory moved as a whole keeps resolving them (historical-download.md).
PATH_COLUMNS: tuple[str, ...] = ("csv_path", "cdf_path")


class Status(enum.StrEnum):
    """Every status a row can carry, Phase 1 first."""

    DOWNLOAD_PENDING = "DOWNLOAD_PENDING"
    DOWNLOADED = "DOWNLOADED"
    SKIPPED_NO_DATA = "SKIPPED_NO_DATA"
    FAILED = "FAILED"
    PROCESS_PENDING = "PROCESS_PENDING"
    PROCESSED = "PROCESSED"
    UPLOAD_PENDING = "UPLOAD_PENDING"
    UPLOADED = "UPLOADED"
    SKIPPED_NO_INPUT = "SKIPPED_NO_INPUT"


class Stage(enum.StrEnum):
    """Which phase wrote a row; a FAILED row belongs to the stage it interrupted."""

    DOWNLOAD = "download"
    PROCESS = "process"


PENDING_STAGE: dict[Status, Stage] = {
    Status.DOWNLOAD_PENDING: Stage.DOWNLOAD,
    Status.PROCESS_PENDING: Stage.PROCESS,
    Status.UPLOAD_PENDING: Stage.PROCESS,
}
STATUS_STAGE: dict[Status, Stage] = {
    **PENDING_STAGE,
    Status.DOWNLOADED: Stage.DOWNLOAD,
    Status.SKIPPED_NO_DATA: Stage.DOWNLOAD,
    Status.PROCESSED: Stage.PROCESS,
    Status.UPLOADED: Stage.PROCESS,
    Status.SKIPPED_NO_INPUT: Stage.PROCESS,
}


class Row(NamedTuple):
    """One telemetry row; every field is the text written to the CSV ("" when unknown).

    ``stage`` is not a column: the reader derives it (a FAILED row inherits the
    stage of the pending row before it) so the two phases can share one file.
    A NamedTuple rather than a frozen dataclass: building one is ~5x cheaper,
    which matters when a run folds a 100,000-row file.
    """

    run_id: str = ""
    chunk_date_utc: str = ""
    window_start_utc: str = ""
    window_end_utc: str = ""
    status: Status = Status.FAILED
    records_downloaded: str = ""
    expected_records: str = ""
    availability_pct: str = ""
    download_seconds: str = ""
    csv_size_mb: str = ""
    csv_path: str = ""
    sensor_id: str = ""
    descriptor: str = ""
    output_format: str = ""
    error_type: str = ""
    error_message: str = ""
    started_at_utc: str = ""
    finished_at_utc: str = ""
    process_seconds: str = ""
    cdf_size_mb: str = ""
    cdf_path: str = ""
    upload_seconds: str = ""
    s3_bucket: str = ""
    s3_key: str = ""
    artifact_sha256: str = ""
    cdf_sha256: str = ""
    stage: Stage | None = None

    def values(self) -> list[str]:
        """The row's cells in column order."""
        return [str(cell) for cell in self[: len(COLUMNS)]]

    def evolve(self, **changes: object) -> Row:
        """A copy with some fields changed (rows are immutable)."""
        return self._replace(**changes)

    @property
    def key(self) -> tuple[str, str, str]:
        """The identity of a day's state: (day, sensor, descriptor)."""
        return (self.chunk_date_utc, self.sensor_id, self.descriptor)

