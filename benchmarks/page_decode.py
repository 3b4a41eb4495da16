"""Benchmark: one full ALL answer page through the C transcoder and the Python path.

A window of the synthetic day sized as the download sizes it (745 s: ~9,600 records,
~7.5 MB of UDL JSON) is decoded, cut to its window and spooled as CSV and as JSON by
``pages.transcode_page`` (C, ``_transcode.c``) and by ``pages.process_page`` (orjson +
``csvrows``: the baseline, in the same run). Prints the best of ``--repeat`` runs of
each: ms a page, us a record, MB/s of answer, and the ratio; the spool files must be
byte-identical (exits 1 otherwise).

    python benchmarks/page_decode.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from swxsoc_reach.synthetic import iter_records
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.pages import PageJob, PageOutcome, process_page, transcode_page

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
WINDOW = Window(START, START + dt.timedelta(seconds=745))


def best_of(repeat: int, run: Callable[[], PageOutcome | None]) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    records = list(iter_records(START.date(), start=WINDOW.start, end=WINDOW.end))
    body = orjson.dumps(records)
    print(f"page: {len(records):,} records, {len(body) / 1e6:.1f} MB of JSON")
    print(f"{'format':<6} {'path':<7} {'ms/page':>8} {'us/rec':>7} {'MB/s':>7} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("csv", "json"):
            c_job = PageJob(WINDOW, Path(tmp) / f"c.{fmt}", fmt)
            py_job = PageJob(WINDOW, Path(tmp) / f"py.{fmt}", fmt)
            if transcode_page(body, c_job) != process_page(body, py_job) or (
                    c_job.path.read_bytes() != py_job.path.read_bytes()):
                sys.exit(f"FAILED: the two paths differ for {fmt}")
            python_s = best_of(args.repeat, lambda job=py_job: process_page(body, job))
            c_s = best_of(args.repeat, lambda job=c_job: transcode_page(body, job))
            for name, seconds in (("python", python_s), ("c", c_s)):
                print(f"{fmt:<6} {name:<7} {seconds * 1e3:>8.1f} "
                      f"{seconds / len(records) * 1e6:>7.2f} {len(body) / seconds / 1e6:>7.0f} "
                      f"{python_s / seconds:>5.1f}x")


if __name__ == "__main__":
    main()
