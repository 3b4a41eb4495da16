"""Threads that share one task list and stop together: how a day's windows are fetched
and how many days are counted, concurrently under one ``UdlClient``'s rate."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

_T = TypeVar("_T")


def run_threads(workers: int, task: Callable[[], _T], stop: threading.Event,
                name: str) -> list[_T]:
    """Run ``task`` on ``workers`` threads (each takes work until none is left or ``stop``
    is set); return each thread's result.

    The first thread to raise sets ``stop`` (the others end after their current
    request) and its exception is raised once all have ended; so is a Ctrl-C.
    """
    with ThreadPoolExecutor(workers, thread_name_prefix=name) as pool:
        futures = [pool.submit(task) for _ in range(workers)]
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
    return [future.result() for future in futures]
