"""Benchmark: one full all-sensor day (1,105,920 records) through ``download``.

Starts the local UDL server as a subprocess (50 ms latency, 20 requests/s, at most
10,000 records per answer), renders the day before the clock starts, then times
``python -m swxsoc_reach download`` in its own process. Prints wall seconds,
requests, 429s, records/s, the client's peak RSS, and the wall time as a ratio of
two lower bounds set by the server: pages the day needs (records / cap) over the
rate limit, and requests this plan needs (one per 5-minute window, as the spec
cuts the day) over the rate limit. Checks the artifact's ids against the server's:
nothing lost, nothing doubled. Targets: within 1.5x of the bound, RSS < 400 MB.

    python benchmarks/download_day.py [--latency 0.05] [--rate-limit 20] [--cap 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from swxsoc_reach.paths import artifact_name
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL, start_udl_server_process
from swxsoc_reach.udl.chunks import plan_windows

DAY = dt.date(2026, 1, 1)


def artifact_ids(path: Path, output_format: str) -> list[str]:
    """The ids in the artifact, read by a reader other than the writer's."""
    if output_format == "json":
        import json

        with open(path, "rb") as fh:
            return [record["id"] for record in json.load(fh)]
    import pyarrow.csv

    table = pyarrow.csv.read_csv(path, convert_options=pyarrow.csv.ConvertOptions(
        include_columns=["id"], column_types={"id": "string"}))
    return table.column("id").to_pylist()


def watch_rss(process: subprocess.Popen[bytes], peaks: dict[str, int]) -> None:
    """Poll the client's process tree (it decodes in worker processes) until it ends."""
    root = psutil.Process(process.pid)
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            sizes = [p.memory_info().rss for p in tree]
        except psutil.Error:
            continue  # a process ended while being read
        peaks["sum"] = max(peaks.get("sum", 0), sum(sizes))
        peaks["single"] = max(peaks.get("single", 0), max(sizes))
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate-limit", type=float, default=20.0)
    parser.add_argument("--cap", type=int, default=10_000)
    parser.add_argument("--output-format", choices=("csv", "json"), default="csv")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[],
                        help="further download flags, e.g. --extra --max-rate 40")
    args = parser.parse_args()

    began = time.perf_counter()
    server = start_udl_server_process(
        "--auth", TEST_CREDENTIAL, "--latency", str(args.latency), "--rate-limit",
        str(args.rate_limit), "--cap", str(args.cap), "--warm", DAY.isoformat(), timeout_s=900)
    print(f"server ready (day rendered) in {time.perf_counter() - began:.0f} s")
    try:
        with tempfile.TemporaryDirectory(dir=Path.cwd(), prefix=".bench-download-") as tmp:
            out = Path(tmp)
            command = [sys.executable, "-m", "swxsoc_reach", "download", "--start-date",
                       DAY.isoformat(), "--end-date", DAY.isoformat(), "--output-dir",
                       str(out), "--udl-url", server.url, "--output-format",
                       args.output_format, "-v", *args.extra]
            env = {**os.environ, "BASICAUTH": TEST_CREDENTIAL}
            peaks: dict[str, int] = {}
            began = time.perf_counter()
            done = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            watcher = threading.Thread(target=watch_rss, args=(done, peaks))
            watcher.start()
            _, stderr = done.communicate()
            wall = time.perf_counter() - began
            watcher.join()
            if done.returncode != 0:
                sys.exit(f"download failed ({done.returncode}):\n{stderr.decode()}")
            counters = server.stats()["counters"]
            row = TelemetryStore(out / "download_telemetry.csv").read()[-1]
            path = out / artifact_name(DAY, "ALL", args.output_format)
            got = artifact_ids(path, args.output_format)
            size_mb = path.stat().st_size / 2**20
        expected = server.day_ids(DAY)
    finally:
        server.stop()

    records = len(got)
    lost = len(set(expected) - set(got))
    doubled = records - len(set(got))
    pages = math.ceil(len(expected) / args.cap)
    windows = len(plan_windows(DAY, "ALL"))
    window_pages = windows * math.ceil(len(expected) / windows / args.cap)
    page_bound = pages / args.rate_limit
    plan_bound = window_pages / args.rate_limit
    print(f"records                      : {records:,} (server {len(expected):,}); "
          f"lost {lost}, doubled {doubled}")
    print(f"artifact                     : {size_mb:,.0f} MiB {args.output_format}")
    print(f"wall (whole process)         : {wall:.1f} s; in-process download "
          f"{float(row.download_seconds):.1f} s")
    print(f"requests                     : {counters.get('requests', 0)} "
          f"(429: {counters.get('status_429', 0)})")
    print(f"records/s                    : {records / wall:,.0f}")
    print(f"client peak RSS              : {peaks['sum'] / 2**20:.0f} MiB, all its processes "
          f"together (target < 400); largest one {peaks['single'] / 2**20:.0f} MiB")
    print(f"bound: pages / rate          : {pages} / {args.rate_limit:g} = {page_bound:.1f} s; "
          f"wall is {wall / page_bound:.2f}x (target <= 1.5x)")
    print(f"bound: windows / rate        : {window_pages} / {args.rate_limit:g} = "
          f"{plan_bound:.1f} s; wall is {wall / plan_bound:.2f}x")
    if lost or doubled or records != len(expected):
        sys.exit("FAILED: the artifact does not hold the server's records exactly once")


if __name__ == "__main__":
    main()
