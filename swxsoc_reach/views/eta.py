"""How long a range still takes: measured seconds per day of each stage, times the days left.

One estimate for ``status`` (days done / left and the ETA), the progress bars of
a multi-day ``download`` / ``process`` and the totals of ``--dry-run``: the mean
of what each stage really took per day (the telemetry's ``download_seconds``,
``process_seconds``, ``upload_seconds``), never a guess. A stage never measured
yet has no rate, and an ETA that needs it is unknown rather than made up.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from swxsoc_reach.telemetry.resume import DownloadAction, ProcessAction

if TYPE_CHECKING:
    from swxsoc_reach.telemetry.store import TelemetryState

STAGES = ("download", "process", "upload")


class _Timed(Protocol):
    download_seconds: float | None
    process_seconds: float | None
    upload_seconds: float | None


@dataclass(frozen=True)
class StageSeconds:
    """Mean measured seconds per day of each stage (None: not measured yet)."""

    download: float | None = None
    process: float | None = None
    upload: float | None = None

    @classmethod
    def measure(cls, days: Iterable[_Timed]) -> StageSeconds:
        """Means over the days that carry a time for the stage (``DayStatus`` rows)."""
        sums = dict.fromkeys(STAGES, 0.0)
        counts = dict.fromkeys(STAGES, 0)
        for day in days:
            for stage in STAGES:
                seconds = getattr(day, f"{stage}_seconds")
                if seconds:
                    sums[stage] += seconds
                    counts[stage] += 1
        return cls(*(sums[s] / counts[s] if counts[s] else None for s in STAGES))

    @classmethod
    def from_state(cls, state: TelemetryState) -> StageSeconds:
        """The same means from a folded telemetry file (the day loop's view of it)."""

        def mean(rows: Iterable[str]) -> float | None:
            values = [v for v in (_float(text) for text in rows) if v]
            return sum(values) / len(values) if values else None

        return cls(
            download=mean(r.download_seconds for r in state.latest_download.values()),
            process=mean(r.process_seconds for r in state.latest_processed.values()),
            upload=mean(r.upload_seconds for r in state.latest.values()),
        )

    def per_stage(self) -> dict[str, float | None]:
        """``{"download": s, "process": s, "upload": s}``."""
        return {stage: getattr(self, stage) for stage in STAGES}

    def seconds(self, stages: Iterable[str]) -> float | None:
        """Seconds one day needs for ``stages``; None when one of them is unmeasured."""
        total = 0.0
        for stage in stages:
            value = getattr(self, stage)
            if value is None:
                return None
            total += value
        return total


def _float(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RangeProgress:
    """Days done and left over a range, and the time the days left need."""

    done: int
    left: int
    failed: int  # of the days left: they need --retry-failed
    eta_seconds: float | None  # None when a needed stage has no measurement yet
    unmeasured: tuple[str, ...]  # the stages that made the ETA unknown
    rates: StageSeconds

    def line(self) -> str:
        """``progress: 7 of 10 days done, 3 left (1 failed); ETA 2 min 5 s (...)``."""
        total = self.done + self.left
        text = f"progress: {self.done} of {total} days done, {self.left} left"
        if self.failed:
            text += f" ({self.failed} failed: rerun with --retry-failed)"
        if not self.left:
            return text
        if self.eta_seconds is None:
            return text + f"; ETA unknown (no {' or '.join(self.unmeasured)} measured yet)"
        per_day = ", ".join(f"{stage} {value:.1f} s" for stage, value in
                            self.rates.per_stage().items() if value is not None)
        return text + f"; ETA {duration(self.eta_seconds)} (per day: {per_day})"


def stages_left(state: str, error_stage: str, status: str, *, uploads: bool) -> tuple[str, ...]:
    """The stages a day in ``state`` (a ``DayState`` value) still needs."""
    tail = ("upload",) if uploads else ()
    whole = ("download", "process", *tail)
    if state in ("complete", "no data in UDL"):
        return ()
    if state == "failed":
        return whole if error_stage == "download" else ("process", *tail)
    if state == "changed in UDL":  # a refresh: download, the next revision, its upload
        return whole
    if state == "out of step":  # made again or uploaded again (archive-sync.md "Findings")
        return ("process", *tail)
    if status in ("DOWNLOADED", "PROCESS_PENDING"):
        return ("process", *tail)
    if status in ("PROCESSED", "UPLOAD_PENDING") and state != "product missing":
        return tail
    if state == "product missing":
        return ("process", *tail)
    return whole  # not started, interrupted download, no input


def estimate_progress(days: Iterable[tuple[str, str, str]], rates: StageSeconds, *,
                      uploads: bool) -> RangeProgress:
    """Fold (state, error_stage, status) per day into days done / left and the ETA."""
    done = left = failed = 0
    eta = 0.0
    unmeasured: set[str] = set()
    for state, error_stage, status in days:
        stages = stages_left(state, error_stage, status, uploads=uploads)
        if not stages:
            done += 1
            continue
        left += 1
        failed += state == "failed"
        seconds = rates.seconds(stages)
        if seconds is None:
            unmeasured.update(s for s in stages if getattr(rates, s) is None)
        else:
            eta += seconds
    ordered = tuple(s for s in STAGES if s in unmeasured)
    return RangeProgress(done, left, failed, None if ordered else eta, ordered, rates)


def duration(seconds: float) -> str:
    """``41.2 s``, ``12 min 3 s``, ``5 h 02 min``, ``3 d 04 h``: readable at a glance."""
    if not math.isfinite(seconds):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours:02d} h"


# historical-download.md / shared notes: a full ALL day of UDL CSV is 579 MB for
# 1,105,920 records. Used for a download's bytes only until a day has been measured.
CSV_BYTES_PER_RECORD = 523
MIB = 1024 * 1024
# the stages an action of either phase's plan stands for (StrEnum: looked up by str too)
_ACTION_STAGES = {
    **{action: ("download",) for action in DownloadAction if action.fetches},
    ProcessAction.PROCESS: ("process",),
    ProcessAction.PROCESS_AND_UPLOAD: ("process", "upload"),
    ProcessAction.UPLOAD_ONLY: ("upload",),
}


def udl_requests_per_day(sensor_id: str) -> int:
    """Requests a day's download takes at the expected density: one per window sized to a
    page (``udl.sizing``), the windows of a full day."""
    from swxsoc_reach.mission import expected_records
    from swxsoc_reach.udl.client import PAGE_SIZE
    from swxsoc_reach.udl.sizing import FILL

    return math.ceil(expected_records(sensor_id) / (FILL * PAGE_SIZE))


def refetch_note(days: int, sensor_id: str) -> str:
    """``3 days need their artifact again: ~360 UDL requests``: days downloaded once whose
    artifact was pruned after processing, wanted again for a product not made yet."""
    need = "day needs its" if days == 1 else "days need their"
    return f"{days} {need} artifact again: ~{days * udl_requests_per_day(sensor_id):,} UDL requests"


def dry_run_totals(stage: str, actions: Sequence[object], sensor_id: str,
                   state: TelemetryState) -> str:
    """``totals: 8 days of work, ~928 UDL requests, ~4.2 GiB, ~9 min 12 s`` for a plan.

    Bytes and time are the means measured in ``state`` (the telemetry) times the days;
    a stage never measured gives "time unknown", never a made-up figure.
    """
    from swxsoc_reach.mission import expected_records

    rates = StageSeconds.from_state(state)
    per_stage = Counter(s for a in actions for s in _ACTION_STAGES.get(str(a), ()))
    csv_mean = _mean_mib(r.csv_size_mb for r in state.latest_download.values())
    cdf_mean = _mean_mib(r.cdf_size_mb for r in state.latest_processed.values())
    parts = []
    if stage == "download":
        work = per_stage["download"]
        per_day = udl_requests_per_day(sensor_id)
        parts.append(f"{work} days to download, ~{work * per_day:,} UDL requests")
        again = sum(1 for a in actions if str(a) == DownloadAction.REDOWNLOAD)
        if again:
            parts.append(refetch_note(again, sensor_id))
        size = csv_mean if csv_mean is not None else CSV_BYTES_PER_RECORD * expected_records(
            sensor_id)
        parts.append(f"~{format_bytes(work * size)} of artifacts"
                     + ("" if csv_mean is not None else " (nominal: nothing measured yet)"))
    else:
        parts.append(f"{per_stage['process']} days to process, {per_stage['upload']} uploads")
        if cdf_mean is not None:
            parts.append(f"~{format_bytes(per_stage['process'] * cdf_mean)} of CDFs written, "
                         f"~{format_bytes(per_stage['upload'] * cdf_mean)} uploaded")
    seconds = 0.0
    unknown = []
    for name, count in per_stage.items():
        mean = getattr(rates, name)
        if mean is None:
            unknown.append(name)
        else:
            seconds += count * mean
    parts.append(f"time unknown (no {' or '.join(unknown)} measured yet)" if unknown
                 else f"~{duration(seconds)} at the measured seconds per day")
    return "totals: " + ", ".join(parts)


def _mean_mib(cells: Iterable[str]) -> float | None:
    """Mean bytes of the measured sizes (telemetry keeps MiB)."""
    values = [v for v in (_float(c) for c in cells) if v]
    return sum(values) / len(values) * MIB if values else None


def format_bytes(size: float) -> str:
    """``812 B``, ``3.4 MiB``, ``1.2 TiB``."""
    value, unit = float(size), "B"
    for bigger in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:,.0f} B" if unit == "B" else f"{value:,.1f} {unit}"
