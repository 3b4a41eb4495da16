"""A Phase 1 artifact against the DOWNLOADED row that names it (issues 9.1 and 17).

An artifact cut short, grown or changed after its download must never become a
complete day: ``process`` compares its size on disk with the row's ``csv_size_mb``
(cheap, before reading), then the SHA-256 of the bytes it read with the row's
``artifact_sha256`` and the records it read with ``records_downloaded`` (before
anything is written). A row older than the digests is checked by size and records
only (one INFO line says so); an artifact without such a row (copied from
elsewhere) is processed as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from swxsoc_reach.errors import InputDataError
from swxsoc_reach.fsutil import sha256_file
from swxsoc_reach.telemetry.schema import Row

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
# csv_size_mb is written with three decimals: the size on disk is within half of 0.001 MiB
SIZE_ROUNDING = 0.0005 * MIB + 1
_N = TypeVar("_N", int, float)


@dataclass(frozen=True)
class DownloadedArtifact:
    """What the DOWNLOADED row says one artifact holds."""

    path: Path
    records: int | None
    size_bytes: float | None
    downloaded_at: str
    sha256: str = ""  # "" for a row written before the digests
    # the product version process makes of it: download must be asked for the same one,
    # or it counts the day's earlier product complete and leaves the artifact gone
    data_version: str = ""

    @classmethod
    def from_row(cls, path: Path, row: Row, data_version: str = "") -> DownloadedArtifact:
        """Read the row's counts; a blank or hand-edited cell is not checked."""
        return cls(path, _number(row.records_downloaded, int),
                   None if (mib := _number(row.csv_size_mb, float)) is None else mib * MIB,
                   row.finished_at_utc or row.started_at_utc, row.artifact_sha256.strip(),
                   data_version)

    def check_size(self) -> None:
        """Raise ``InputDataError`` when the size on disk is not the row's."""
        if self.size_bytes is None:
            return
        size = self.path.stat().st_size
        if abs(size - self.size_bytes) > SIZE_ROUNDING:
            self._differs(f"is {size / MIB:.3f} MiB on disk", f"{self.size_bytes / MIB:.3f} MiB")

    def check_read(self, read: int, sha256: str) -> None:
        """Raise ``InputDataError`` when the bytes read (``sha256``) or the ``read``
        records are not what the row says."""
        self._check_digest(sha256)
        if self.records is not None and read != self.records:
            self._differs(f"holds {read} records", f"{self.records}")

    def check_unchanged(self) -> None:
        """After a read that failed: raise the "changed since its download" error when the
        file's bytes are not the recorded ones (a changed artifact often stops parsing)."""
        if self.sha256:
            self._check_digest(sha256_file(self.path))

    def _check_digest(self, sha256: str) -> None:
        if not self.sha256:
            logger.info("%s: its DOWNLOADED row (%s) predates artifact digests: checked by "
                        "size and records only", self.path.name, self.downloaded_at)
        elif sha256 != self.sha256:
            self._differs(f"has SHA-256 {sha256[:16]}...",
                          f"{self.sha256[:16]}... (its bytes changed since the download)")

    def _differs(self, found: str, said: str) -> None:
        version = f" with --data-version {self.data_version}" if self.data_version else ""
        raise InputDataError(
            f"artifact {self.path} {found} but its DOWNLOADED row ({self.downloaded_at}) says "
            f"{said}: it was cut or changed after the download. Delete it and run download "
            f"for the day again{version} (or put the downloaded file back), then rerun "
            "process with --retry-failed")


def _number(text: str, kind: Callable[[str], _N]) -> _N | None:
    try:
        return kind(text)
    except ValueError:
        return None
