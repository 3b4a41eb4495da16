"""How long a query window to ask UDL for, so that each answer is close to one full page.

historical-download.md "Chunking and the artifact": REACH's cadence makes a day's
density predictable (64 dosimeters x 12 samples a minute for ``ALL``, 2 x 12 for
one sensor), so a window of ``fill x page`` expected records costs one request
while leaving room for the odd extra record. The page is the client's
``maxResults`` or the server's cap once proven smaller. Windows are handed out
one after another from the day's start; each finished window reports how many
records it held, and the next windows are sized from the latest density seen:
a sensor missing for part of the day makes them longer (at most ``MAX_GROWTH``
times the previous one, so a sensor coming back costs a page or two, not a
whole day at once), a denser stretch shorter. Whatever the estimate, an answer
that comes back full is paged by the client, so sizing only ever costs
requests, never records. ``fixed`` keeps the older tool's constant windows
(5 minutes for ``ALL``), for comparison.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Callable

from swxsoc_reach.days import day_window
from swxsoc_reach.mission import SAMPLE_PERIOD_S, expected_records
from swxsoc_reach.udl.chunks import Window

FILL = 0.96  # share of a page a window is sized to hold (~116 windows for a full ALL day)
MAX_GROWTH = 2.0  # a window is at most this many times longer than the one planned before
_PERIOD = dt.timedelta(seconds=SAMPLE_PERIOD_S)
_SECOND = dt.timedelta(seconds=1)
_DAY_S = 86_400


class WindowPlanner:
    """Hands out a day's query windows in time order, sized from what earlier ones held.

    Thread-safe: the day's fetching threads each take the next window when free.
    Window number ``n`` (``next_window``'s index) is the ``n``-th in time, so spools
    keyed by it merge in time order.
    """

    def __init__(self, day: dt.date, sensor_id: str, page_size: Callable[[], int], *,
                 fixed: dt.timedelta | None = None, fill: float = FILL) -> None:
        if fixed is not None and fixed <= dt.timedelta(0):
            raise ValueError("a fixed window must be longer than zero")
        self._cursor, self._end = day_window(day)
        self._page_size = page_size
        self._fixed = fixed
        self._fill = fill
        self._lock = threading.Lock()
        self._density = expected_records(sensor_id) / _DAY_S  # records/s, until measured
        self._latest: dt.datetime | None = None  # start of the latest window measured
        self._previous: dt.timedelta | None = None
        self._count = 0

    @property
    def planned(self) -> int:
        """Windows handed out so far."""
        return self._count

    def estimate(self) -> int:
        """Windows the day takes at the expected density (a progress bar's total)."""
        step = self._fixed or self._step(self._density)
        return max(1, math.ceil((self._end - self._cursor) / step))

    def next_window(self) -> tuple[int, Window] | None:
        """The next window and its number, or None once the day is covered."""
        with self._lock:
            if self._cursor >= self._end:
                return None
            step = self._fixed or self._step(self._density)
            if self._previous is not None and not self._fixed:
                step = min(step, self._previous * MAX_GROWTH)
            left = self._end - self._cursor
            if left <= step or (not self._fixed and left <= step / self._fill):
                step = left  # the rest still fits a page: no sliver of a window after it
            self._previous = step
            window = Window(self._cursor, self._cursor + step)
            self._cursor = window.end
            self._count += 1
            return self._count - 1, window

    def learn(self, window: Window, records: int) -> None:
        """Take the density of a finished window; the latest in time counts."""
        with self._lock:
            if self._latest is None or window.start >= self._latest:
                self._latest = window.start
                self._density = records / (window.end - window.start).total_seconds()

    def _step(self, density: float) -> dt.timedelta:
        """A window expected to hold ``fill`` of a page: a whole number of sample periods
        (both ends are asked for, so one more sample instant than periods), else seconds."""
        budget = self._fill * self._page_size()
        if density <= 0:
            return self._end - self._cursor
        seconds = budget / density - SAMPLE_PERIOD_S  # the inclusive end's instant
        if seconds >= SAMPLE_PERIOD_S:
            return _PERIOD * math.floor(seconds / SAMPLE_PERIOD_S)
        return _SECOND * max(1, math.floor(seconds))
