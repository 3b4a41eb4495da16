"""The ``status`` report's values: where a range stands, per day and in sum.

Per (day, sensor, descriptor), a ``DayStatus``: the latest status
(historical-download.md "Telemetry": the latest row is the day's state), its
``DayState`` (what an operator must do about it: the colour of the coverage map),
records and availability from the latest Phase 1 row, the CDF and its S3 key from
the latest row, and the seconds each stage took. Over them, a ``StatusReport``:
days per status, days done and left with an ETA (``views.eta``), the failed
days, total records, mean availability, total times, and whether every day is
done (``status --check``).

Built by ``views.statusbuild.build_report`` from ``TelemetryStore.state()``;
each recorded CDF's product summary (``cdf.summary``: records and samples per
sensor, never the CDF itself) is read lazily (``ProductSummaries``). Rendering:
``views.statusformat`` (table, CSV, JSON); coverage in ``views.coverage``; the
plot in ``views.plots`` (matplotlib, imported only for ``--plot``).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from swxsoc_reach.cdf.summary import ProductSummary, read_summary
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import gc_paused
from swxsoc_reach.views.eta import RangeProgress, StageSeconds, estimate_progress

NOT_STARTED = "NOT_STARTED"  # a day of the asked range without any telemetry row (not a Status)
DayKey = tuple[str, str, str]  # (day YYYY-MM-DD, sensor, descriptor), as telemetry keys a day


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

    def __init__(self, cdf_paths: dict[DayKey, str]) -> None:
        self._paths = cdf_paths
        self._read: dict[DayKey, ProductSummary] | None = None

    def get(self, key: DayKey) -> ProductSummary | None:
        """The summary of one (day, sensor, descriptor), or None."""
        return self._all().get(key)

    def values(self) -> Iterable[ProductSummary]:
        """Every summary found."""
        return self._all().values()

    def __len__(self) -> int:
        return len(self._all())

    def _all(self) -> dict[DayKey, ProductSummary]:
        if self._read is None:
            with gc_paused():
                found = ((key, read_summary(path)) for key, path in self._paths.items())
                self._read = {key: summary for key, summary in found if summary is not None}
        return self._read

