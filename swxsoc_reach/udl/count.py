"""UDL's count of a day's records, exactly ``[D, D+1)``: what an audit compares with an artifact.

archive-sync.md "A day in step", udl.md "The query": ``/count`` takes the
download's parameters, and ``obTime=A..B`` is inclusive at both ends, so a count
of ``D..D+1`` would also hold the records stamped exactly at the next midnight
(with whole-second stamps: every sensor's first sample of the next day). UDL
writes ``obTime`` to the millisecond (udl.md: ``YYYY-MM-DDTHH:MM:SS.sssZ``), so
the day's last instant is the millisecond before the next midnight, and one count
of ``D..(D+1 - 1 ms)`` is exactly ``[D, D+1)``: one request a day, as the audit's
budget has it (3,650 days at 20 requests/s in about three minutes; a nightly
recheck of 10 days in 10 requests). It goes through the download's ``UdlClient``: its
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


LAST_INSTANT = dt.timedelta(milliseconds=1)  # UDL's obTime resolution


def count_day(client: UdlClient, day: dt.date, query: UdlQuery,
              stop: threading.Event | None = None) -> int:
    """The number of UDL records ``query`` matches in ``[day, day+1)``; ``UdlError``.

    One count of ``D..(D+1 - 1 ms)``, both ends inclusive as UDL reads them: the next
    day's first instant is not the day's.
    """
    start, end = day_window(day)
    return client.count_range(Window(start, end - LAST_INSTANT), query, stop)


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
