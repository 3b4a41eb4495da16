"""UDL's count of a day's records, exactly ``[D, D+1)``: what an audit compares with an artifact.

archive-sync.md "A day in step", udl.md "The query": ``/count`` takes the
download's parameters, and ``obTime=A..B`` is inclusive at both ends, so a count
of ``D..D+1`` also holds the records stamped exactly at the next midnight (with
whole-second stamps: every sensor's first sample of the next day). The day's
count is that minus a second count of the next day's first instant ``D+1..D+1``:
exact at any precision UDL stores, at the price of a second request (none when
the first count is 0). Both go through the download's ``UdlClient``: its
credential, AIMD rate, retries and timeouts. ``count_days`` counts many days on
``max_concurrent_requests`` threads under that one shared rate, as the download
fetches a day's windows (``workers.run_threads``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from swxsoc_reach.days import day_window
from swxsoc_reach.errors import SystemicError, UdlError
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.client import UdlClient, UdlQuery
from swxsoc_reach.udl.workers import run_threads

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayCount:
    """One day's count, or why it could not be had (the other days are counted on)."""

    day: dt.date
    records: int | None  # None when ``error`` is set
    error: UdlError | None = None


def count_day(client: UdlClient, day: dt.date, query: UdlQuery,
              stop: threading.Event | None = None) -> int:
    """The number of UDL records ``query`` matches in ``[day, day+1)``; ``UdlError``.

    ``D..D+1`` less ``D+1..D+1``: the next day's first instant matches the first
    range too (UDL's ranges are inclusive) but is not the day's.
    """
    start, end = day_window(day)
    through_next_midnight = client.count_range(Window(start, end), query, stop)
    if through_next_midnight == 0:
        return 0
    at_next_midnight = client.count_range(Window(end, end), query, stop)
    if at_next_midnight > through_next_midnight:
        raise UdlError(f"{day} count: UDL counts {at_next_midnight} records at "
                       f"{end:%Y-%m-%dT%H:%M:%SZ} alone but {through_next_midnight} through "
                       "it; its holdings changed between the two counts, count again")
    return through_next_midnight - at_next_midnight


def count_days(client: UdlClient, days: Iterable[dt.date], query: UdlQuery,
               workers: int) -> dict[dt.date, DayCount]:
    """Count every day of ``days`` on ``workers`` threads; each day's result by day.

    A day whose count fails for its own reasons (an answer that is not a count,
    a 5xx that outlasts the retries) gets its error and the others go on; a
    systemic failure (UDL unreachable, the credential refused) stops every thread
    and is raised, since no further day could be counted.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    pending: Iterator[dt.date] = iter(sorted(set(days)))
    take = threading.Lock()
    stop = threading.Event()
    results: dict[dt.date, DayCount] = {}

    def next_day() -> dt.date | None:
        with take:
            return next(pending, None)

    def count_until_done() -> None:
        """One thread's share: the next day while any is left."""
        while not stop.is_set() and (day := next_day()) is not None:
            try:
                result = DayCount(day, count_day(client, day, query, stop))
            except SystemicError:
                raise
            except UdlError as exc:
                logger.debug("%s count: %s", day, exc)
                result = DayCount(day, None, exc)
            results[day] = result

    run_threads(workers, count_until_done, stop, "udl-count")
    return dict(sorted(results.items()))
