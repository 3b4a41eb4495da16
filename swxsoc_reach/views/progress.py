"""Progress on a terminal: days done / planned with an ETA, and the chunks of a day.

``day_progress`` is driven by the shared day loop (``phases/dayloop.py``);
``chunk_progress`` is the hook a day's download calls as each window lands: a
second bar under the first with records so far, the current request rate and
the 429 answers of the day. Shown only when stderr is a terminal and not
``--quiet``, so log files and Snakemake logs stay clean. tqdm draws the bars (no
hand-rolled escape codes); while a bar is up, log lines print above it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol


class DayProgress(Protocol):
    """What the day loop reports to."""

    def advance(self, outcome: str) -> None:
        """One day finished with ``outcome``."""


class _Silent:
    def advance(self, outcome: str) -> None:
        """Do nothing: progress is off."""


class _Bar:
    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._counts: dict[str, int] = {}

    def advance(self, outcome: str) -> None:
        """Count the outcome and move the bar one day."""
        self._counts[outcome] = self._counts.get(outcome, 0) + 1
        self._bar.set_postfix_str(
            ", ".join(f"{k} {v}" for k, v in sorted(self._counts.items())), refresh=False
        )
        self._bar.update(1)


_enabled = True


def set_enabled(enabled: bool) -> None:
    """Turn bars off for the whole process (``--quiet``)."""
    global _enabled
    _enabled = enabled


def bars_enabled() -> bool:
    """True when a bar would be drawn: a terminal on stderr and not ``--quiet``."""
    return _enabled and sys.stderr.isatty()


@contextmanager
def day_progress(total: int, label: str) -> Iterator[DayProgress]:
    """A bar over ``total`` days, or a silent stand-in when bars are off."""
    if not bars_enabled() or total <= 1:
        yield _Silent()
        return
    from tqdm import tqdm

    with _logs_above_bars(), tqdm(total=total, desc=label, unit="day", file=sys.stderr,
                                  leave=True) as bar:
        yield _Bar(bar)


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
