"""Benchmark: answer pages through the C transcoder and the Python path, usual and hostile.

Usual: a window of the synthetic day sized as the download sizes it (745 s: ~9,600
records, ~7.5 MB of UDL JSON), decoded, cut to its window and spooled as CSV and as
JSON by ``pages.transcode_page`` (C, ``_transcode.c``) and by ``pages.process_page``
(orjson + ``csvrows``: the baseline, in the same run). The spool files must be
byte-identical (exits 1 otherwise). ``--old-extension`` loads another build of
``_transcode`` (e.g. main's, built into a temporary directory) and times it on the same
page, for a same-run before/after.

Hostile (issue 20): one record of 65,000 keys; 8 such records with their keys reversed
and the day's columns given; one such record and 500 tiny ones (the CSV blow-up). Each
must cost at most 2x the Python path on the same page, or be refused (the C path
declines, Python raises ``UdlError``) in under 0.1 s; exits 1 otherwise.

Prints the best of ``--repeat`` runs of each: ms a page, us a record, MB/s, the ratio.

    python benchmarks/page_decode.py [--repeat 7] [--old-extension PATH.so]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from swxsoc_reach.errors import UdlError
from swxsoc_reach.synthetic import iter_records
from swxsoc_reach.testing.hostile_pages import hostile_pages
from swxsoc_reach.udl import pages
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.pages import PageJob, process_page, transcode_page

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
WINDOW = Window(START, START + dt.timedelta(seconds=745))
REFUSED_S = 0.1  # the target for a refused page, C decline and Python refusal together


def best_of(repeat: int, run: Callable[[], Any]) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def load_extension(path: Path) -> Callable[..., Any]:
    """``transcode`` from another build of ``_transcode`` (the old one, to compare)."""
    spec = importlib.util.spec_from_file_location("old_build._transcode", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.transcode


def usual_pages(repeat: int, old: Callable[..., Any] | None) -> None:
    records = list(iter_records(START.date(), start=WINDOW.start, end=WINDOW.end))
    body = orjson.dumps(records)
    print(f"usual page: {len(records):,} records, {len(body) / 1e6:.1f} MB of JSON")
    print(f"{'format':<6} {'path':<8} {'ms/page':>8} {'us/rec':>7} {'MB/s':>7} "
          f"{'x python':>8} {'out/in':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("csv", "json"):
            c_job = PageJob(WINDOW, Path(tmp) / f"c.{fmt}", fmt)
            py_job = PageJob(WINDOW, Path(tmp) / f"py.{fmt}", fmt)
            if transcode_page(body, c_job) != process_page(body, py_job) or (
                    c_job.path.read_bytes() != py_job.path.read_bytes()):
                sys.exit(f"FAILED: the two paths differ for {fmt}")
            ratio = c_job.path.stat().st_size / len(body)
            runs = [("python", lambda job=py_job: process_page(body, job)),
                    ("c", lambda job=c_job: transcode_page(body, job))]
            if old is not None:  # the bare calls, no spool file written: new and old
                for label, call in (("c-call", pages.transcode), ("old-call", old)):
                    runs.append((label, lambda csv=fmt == "csv", call=call: call(
                        body, *WINDOW.udl_bounds, (), frozenset(), 1, csv)))
            python_s = 0.0
            for name, run in runs:
                seconds = best_of(repeat, run)
                python_s = python_s or seconds
                print(f"{fmt:<6} {name:<8} {seconds * 1e3:>8.1f} "
                      f"{seconds / len(records) * 1e6:>7.2f} {len(body) / seconds / 1e6:>7.0f} "
                      f"{python_s / seconds:>7.1f}x {ratio:>6.2f}")


def attempt(body: bytes, job: PageJob) -> str:
    """Both paths as a download takes a page: C, then Python if C declined."""
    if transcode_page(body, job) is not None:
        return "taken by C"
    try:
        process_page(body, job)
    except UdlError:
        return "refused"
    return "taken by Python"


def python_only(body: bytes, job: PageJob) -> None:
    with contextlib.suppress(UdlError):
        process_page(body, job)


def hostile(repeat: int) -> bool:
    print(f"\n{'hostile page':<26} {'KB':>6} {'outcome':<16} {'ms':>7} {'python ms':>9} "
          f"{'ratio':>6} target")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for name, body, columns in hostile_pages():
            job = PageJob(WINDOW, Path(tmp) / "spool", "csv", columns=columns)
            outcome = attempt(body, job)
            both_s = best_of(repeat, lambda job=job, body=body: attempt(body, job))
            python_s = best_of(repeat, lambda job=job, body=body: python_only(body, job))
            met = both_s <= 2 * python_s or (outcome == "refused" and both_s < REFUSED_S)
            ok = ok and met
            print(f"{name:<26} {len(body) / 1e3:>6.0f} {outcome:<16} {both_s * 1e3:>7.1f} "
                  f"{python_s * 1e3:>9.1f} {both_s / python_s:>5.2f}x "
                  f"{'met' if met else 'MISSED'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--old-extension", type=Path, metavar="PATH",
                        help="another build of _transcode to time on the usual page")
    args = parser.parse_args()
    if pages.transcode is None:
        sys.exit("FAILED: the C extension is not built (python setup.py build_ext --inplace)")
    usual_pages(args.repeat, load_extension(args.old_extension) if args.old_extension else None)
    if not hostile(args.repeat):
        sys.exit("FAILED: a hostile page missed its target")


if __name__ == "__main__":
    main()
