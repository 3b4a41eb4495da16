"""One UTC day from UDL into one artifact: windows fetched concurrently, spooled, merged.

historical-download.md "Chunking and the artifact": the day's windows are
fetched by ``max_concurrent_requests`` workers under the client's shared rate;
the first window that fails stops the others and fails the day, leaving no
artifact under its final name.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from swxsoc_reach.progress import chunk_progress
from swxsoc_reach.udl.artifact import DaySpool
from swxsoc_reach.udl.chunks import plan_windows
from swxsoc_reach.udl.client import UdlClient, UdlQuery

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayDownload:
    """What a day's download produced: its record count and the artifact, if any."""

    records: int
    path: Path | None  # None when UDL holds no record of the day
    size_bytes: int = 0


def download_day(client: UdlClient, day: dt.date, query: UdlQuery, final: Path,
                 output_format: str, workers: int) -> DayDownload:
    """Fetch every window of ``day`` and write the artifact ``final`` (none if no record).

    Raises the first window's ``UdlError`` (or any other error) after stopping the rest.
    """
    windows = plan_windows(day, query.sensor_id)
    stop = threading.Event()
    with DaySpool(final, output_format) as spool, chunk_progress(
            len(windows), f"{day} chunks", lambda: (client.rate.rate, client.throttled)) as chunks:

        def fetch(index: int) -> int:
            records = client.fetch_window(windows[index], query, stop)
            spool.write(index, records)
            chunks.advance(len(records))
            return len(records)

        with ThreadPoolExecutor(workers, thread_name_prefix="udl") as pool:
            futures = [pool.submit(fetch, index) for index in range(len(windows))]
            try:
                wait(futures, return_when=FIRST_EXCEPTION)
                failed = [f for f in futures if f.done() and f.exception() is not None]
                if failed:
                    raise failed[0].exception()  # type: ignore[misc]
            except BaseException:
                stop.set()
                for future in futures:
                    future.cancel()
                raise
        total = sum(future.result() for future in futures)
        logger.debug("%s: %d records in %d windows", day, total, len(windows))
        if total == 0:
            return DayDownload(0, None)
        return DayDownload(total, final, spool.merge())
