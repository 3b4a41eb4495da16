"""Progress on a terminal: days done / planned with the range's ETA, and the chunks of a day.

``day_progress`` is driven by the shared day loop (``phases/dayloop.py``);
``chunk_progress`` is the hook a day's download calls as each window lands: a
second bar under the first with records so far, the current request rate and
the 429 answers of the day. The day bar's "range ETA" is the days left times the
measured seconds per day (this run's days, else the telemetry's: ``views.eta``),
less the share of the current day already done, so it is known from the first
day on and moves while a long day downloads. Shown only when stderr is a
terminal and not ``--quiet``, so log files and Snakemake logs stay clean. tqdm
draws the bars (no hand-rolled escape codes); while a bar is up, log lines print
above it.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from swxsoc_reach.views.eta import StageSeconds, duration


class DayProgress(Protocol):
    """What the day loop reports to."""

    def advance(self, outcome: str) -> None:
        """One day finished with ``outcome``."""


class _Silent:
    def advance(self, outcome: str) -> None:
        """Do nothing: progress is off."""


class _Bar:
    def __init__(self, bar: Any, prior_seconds: float | None) -> None:
        self._bar = bar
        self._counts: dict[str, int] = {}
        self._prior = prior_seconds  # measured seconds per day before this run, if any
        self._lock = threading.Lock()  # chunk threads report the day's share done
        self._day_began = time.monotonic()
        self._took: list[float] = []
        self._share_done = 0.0
        self._show(refresh=True)

    def advance(self, outcome: str) -> None:
        """Count the outcome and move the bar one day."""
        with self._lock:
            now = time.monotonic()
            self._took.append(now - self._day_began)
            self._day_began, self._share_done = now, 0.0
            self._counts[outcome] = self._counts.get(outcome, 0) + 1
            self._show(refresh=False)
            self._bar.update(1)

    def day_share(self, share: float) -> None:
        """The current day is ``share`` (0..1) done: move the range ETA with it."""
        with self._lock:
            self._share_done = min(max(share, 0.0), 1.0)
            self._show(refresh=True)

    def range_eta(self) -> float | None:
        """Seconds the days left need, from this run's days (else the telemetry's)."""
        per_day = sum(self._took) / len(self._took) if self._took else self._prior
        if per_day is None:
            return None
        left = self._bar.total - len(self._took)
        return max(left - self._share_done, 0.0) * per_day

    def _show(self, *, refresh: bool) -> None:
        eta = self.range_eta()
        parts = [f"range ETA {'?' if eta is None else duration(eta)}"]
        parts += [f"{k} {v}" for k, v in sorted(self._counts.items())]
        self._bar.set_postfix_str(", ".join(parts), refresh=refresh)


_enabled = True


def set_enabled(enabled: bool) -> None:
    """Turn bars off for the whole process (``--quiet``)."""
    global _enabled
    _enabled = enabled


def bars_enabled() -> bool:
    """True when a bar would be drawn: a terminal on stderr and not ``--quiet``."""
    return _enabled and sys.stderr.isatty()


_day_bar: _Bar | None = None  # the day bar on screen, which chunk bars move the ETA of


@contextmanager
def day_progress(total: int, label: str,
                 telemetry_file: Path | None = None) -> Iterator[DayProgress]:
    """A bar over ``total`` days, or a silent stand-in when bars are off.

    ``telemetry_file`` gives the measured seconds per day of earlier runs, so the
    range ETA is known before this run's first day ends.
    """
    global _day_bar
    if not bars_enabled() or total <= 1:
        yield _Silent()
        return
    from tqdm import tqdm

    prior = _measured_seconds(label, telemetry_file) if telemetry_file else None
    with _logs_above_bars(), tqdm(total=total, desc=label, unit="day", file=sys.stderr,
                                  leave=True) as bar:
        _day_bar = _Bar(bar, prior)
        try:
            yield _day_bar
        finally:
            _day_bar = None


def _measured_seconds(label: str, telemetry_file: Path) -> float | None:
    """Mean seconds per day of the stage ``label`` (process: with its upload, if measured)."""
    from swxsoc_reach.telemetry.store import TelemetryStore

    rates = StageSeconds.from_state(TelemetryStore(telemetry_file).state())
    if label == "download":
        return rates.download
    if rates.process is None:
        return None
    return rates.process + (rates.upload or 0.0)


@contextmanager
def _logs_above_bars() -> Iterator[None]:
    """While bars are drawn, the CLI's stderr log lines go through ``tqdm.write``.

    A log line then prints above the bars instead of through them. Only a logger
    that already has a console handler (the CLI's) is redirected.
    """
    import logging

    from tqdm.contrib.logging import logging_redirect_tqdm

    package = logging.getLogger("swxsoc_reach")
    if not any(isinstance(h, logging.StreamHandler) and h.stream is sys.stderr
               for h in package.handlers):
        yield
        return
    with logging_redirect_tqdm(loggers=[package]):
        yield


class ChunkProgress(Protocol):
    """What a day's download reports to, from any of its worker threads."""

    def advance(self, records: int) -> None:
        """One window finished with ``records`` records."""


class _SilentChunks:
    def advance(self, records: int) -> None:
        """Do nothing: progress is off."""


RateStats = Callable[[], tuple[float, int]]
"""Returns (current request rate in requests/s, 429 answers so far) of the client."""


class _ChunkBar:
    def __init__(self, bar: Any, stats: RateStats | None) -> None:
        self._bar = bar
        self._stats = stats
        self._lock = threading.Lock()
        self._records = 0
        self._throttled_before = stats()[1] if stats else 0  # the client outlives the day

    def advance(self, records: int) -> None:
        """Add the window's records and move the bar one chunk."""
        with self._lock:
            self._records += records
            postfix = f"{self._records:,} records"
            if self._stats is not None:
                rate, throttled = self._stats()
                postfix += f", {rate:.1f} req/s, {throttled - self._throttled_before} x 429"
            self._bar.set_postfix_str(postfix, refresh=False)
            self._bar.update(1)
            if self._bar.n >= self._bar.total:
                self._bar.refresh()  # the day's totals, even within tqdm's redraw interval
            share = self._bar.n / self._bar.total if self._bar.total else 0.0
        if _day_bar is not None:
            _day_bar.day_share(share)


@contextmanager
def chunk_progress(total: int, label: str,
                   stats: RateStats | None = None) -> Iterator[ChunkProgress]:
    """A transient bar over one day's ``total`` query windows (silent when bars are off).

    ``stats`` adds the client's request rate and the day's 429 count to the bar.
    """
    if not bars_enabled() or total <= 1:
        yield _SilentChunks()
        return
    from tqdm import tqdm

    with _logs_above_bars(), tqdm(total=total, desc=label, unit="chunk", file=sys.stderr,
                                  leave=False) as bar:
        yield _ChunkBar(bar, stats)
