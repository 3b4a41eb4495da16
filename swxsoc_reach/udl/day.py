"""One UTC day from UDL into one artifact: windows fetched concurrently, spooled, merged.

historical-download.md "Chunking and the artifact": the day's windows (sized by
``sizing.WindowPlanner`` to about one full page each, or fixed) are fetched by
``max_concurrent_requests`` threads under the client's shared rate, each thread
taking the next window when free, each answer decoded and spooled as it arrives
(``DaySpool``: in this thread, or in worker processes for answers the C
transcoder leaves) and appended to the artifact's temporary copy once the
windows before it are complete; the first window that fails stops the others
and fails the day, leaving no artifact under its final name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Any

from swxsoc_reach.udl.artifact import DaySpool
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.client import UdlClient, UdlQuery
from swxsoc_reach.udl.pages import PageOutcome, note_decoder, watch_parent
from swxsoc_reach.udl.sizing import WindowPlanner
from swxsoc_reach.udl.workers import run_threads
from swxsoc_reach.views.progress import chunk_progress

logger = logging.getLogger(__name__)


def open_decoders(concurrent_requests: int) -> Executor | None:
    """Worker processes to decode answer pages: one per core, at most one per request
    in flight; None on a single core, where the fetching threads decode."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    processes = min(concurrent_requests, cores or 1)
    if processes < 2:
        return None
    # spawn: workers never inherit this process's threads, and are its own children
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                               initializer=watch_parent, initargs=(os.getpid(),))
    try:
        with _sigint_deferred():  # each submit spawns one worker
            started = [pool.submit(abs, n) for n in range(processes)]
        for future in started:  # start them now, before the first day
            future.result()
    except (BrokenProcessPool, OSError, RuntimeError) as exc:
        pool.shutdown(cancel_futures=True)
        logger.warning("decoding in threads: worker processes did not start (%s)", exc)
        return None
    except KeyboardInterrupt:  # while they start: let them end quietly, not on a cut pipe
        pool.shutdown(cancel_futures=True)
        raise
    return pool


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Spawn worker processes deaf to Ctrl-C; a Ctrl-C meanwhile is raised after.

    Ctrl-C reaches the terminal's whole process group: this process stops the day and
    prints the resume hint, but a worker (even one still importing) would print its
    own ``KeyboardInterrupt`` traceback, and one interrupted half-way through its
    launch dies on a cut pipe. So SIGINT is blocked while they are spawned (a blocked
    signal stays blocked across fork and exec: the workers never receive it), and one
    already on its way is only recorded, then raised once they are all launched.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; it is where SIGINT is handled
        return
    # multiprocessing starts its resource tracker on the first spawn and then unblocks
    # SIGINT (its own mask dance); started before the block, it leaves ours alone
    resource_tracker.ensure_running()
    caught: list[int] = []
    handler = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, handler)
    if caught:
        raise KeyboardInterrupt


@dataclass(frozen=True)
class DayDownload:
    """What a day's download produced: its record count and the artifact, if any."""

    records: int
    path: Path | None  # None when UDL holds no record of the day
    size_bytes: int = 0
    sha256: str = ""  # of the artifact's bytes as written (``DaySpool.sha256``)


def download_day(client: UdlClient, day: dt.date, query: UdlQuery, final: Path,
                 output_format: str, workers: int, decoders: Executor | None = None,
                 fixed_window: dt.timedelta | None = None,
                 compression: str = "none") -> DayDownload:
    """Fetch every window of ``day`` and write the artifact ``final`` (none if no record).

    ``workers`` windows are fetched at once; their pages are decoded by
    ``decoders`` (worker processes) or, without, by the fetching threads.
    Windows are sized to about one page each unless ``fixed_window`` is given;
    ``compression`` ``zstd`` writes the artifact as zstd frames (``final`` names it);
    its SHA-256 is taken as it is written.
    Raises the first window's ``UdlError`` (or any other error) after stopping the rest.
    """
    note_decoder()  # once a process: without the compiled decoder, pages cost more CPU
    planner = WindowPlanner(day, query.sensor_id, client.page_size, fixed=fixed_window)
    stop = threading.Event()
    with DaySpool(final, output_format, decoders, compression) as spool, chunk_progress(
            planner.estimate(), f"{day} chunks",
            lambda: (client.rate.rate, client.throttled)) as chunks:

        def fetch(index: int, window: Window) -> int:
            def take(body: bytes, page: int, seen: frozenset[Any],
                     ids_from: int) -> PageOutcome:
                return spool.add_page(body, window, index, page, seen, ids_from)

            kept = client.fetch_window(window, query, take, stop)
            spool.window_done(index)
            planner.learn(window, kept)
            chunks.advance(kept)
            return kept

        def fetch_until_covered() -> int:
            """One thread's share of the day: the next window while any is left."""
            kept = 0
            while not stop.is_set() and (planned := planner.next_window()) is not None:
                kept += fetch(*planned)
            return kept

        total = sum(run_threads(workers, fetch_until_covered, stop, "udl"))
        logger.debug("%s: %d records in %d windows", day, total, planner.planned)
        if total == 0:
            return DayDownload(0, None)
        size = spool.merge()
        return DayDownload(total, final, size, spool.sha256)
