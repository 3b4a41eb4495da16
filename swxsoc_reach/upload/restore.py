"""``restore``: fetch uploaded CDFs whose local copy is gone back from their bucket.

Issue 17.5. An UPLOADED day's product is the object in S3; its local CDF may be
deleted (a pruned disk, a mistake) and the day stays complete. When the operator wants
the local files back, they come from the bucket, byte for byte what was published:
each object is checked against the SHA-256 its PROCESSED row recorded before the file
gets its final name (``fsutil.atomic_path``), so a restored file is the published one
or is not there at all. Making it again from the artifact would give other bytes
(``Generation_date``), which must never stand under a published name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from swxsoc_reach.errors import UploadError

if TYPE_CHECKING:
    from swxsoc_reach.views.status import DayStatus

logger = logging.getLogger(__name__)


@dataclass
class RestoreReport:
    """What a ``restore`` run fetched, and the days it could not."""

    restored: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line per day

    def summary(self) -> str:
        """One line for the operator."""
        line = f"restore: {len(self.restored)} CDFs fetched from S3"
        return line + (f", {len(self.failed)} failed" if self.failed else "")


def restore_days(days: Iterable[DayStatus], region: str | None) -> RestoreReport:
    """Fetch each day's uploaded CDF back to its recorded place."""
    from swxsoc_reach.upload.s3 import open_uploader

    report = RestoreReport()
    uploaders = {}
    for day in days:
        try:
            if day.s3_bucket not in uploaders:
                uploaders[day.s3_bucket] = open_uploader(day.s3_bucket, region)
            uploaders[day.s3_bucket].fetch(day.s3_key, Path(day.cdf_path), day.cdf_sha256)
        except UploadError as exc:
            report.failed.append(f"{day.day} {day.sensor_id}: {exc}")
            logger.error("%s restore: %s", day.day, exc)
            continue
        report.restored.append(Path(day.cdf_path))
        logger.info("%s restore: s3://%s/%s -> %s", day.day, day.s3_bucket, day.s3_key,
                    day.cdf_path)
    return report
