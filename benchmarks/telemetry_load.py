"""Benchmark: load the state of a 100,000-row telemetry file (issue "Phase 2", item 3).

Prints the time to fold the file into the latest row per day (what every run and
every workflow plan does), the time to read the full history, and both as ratios
to a same-run baseline: one bare ``csv.reader`` pass over the same file.
Target: state in well under a second.

    python benchmarks/telemetry_load.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

from swxsoc_reach.days import day_window, iso_utc
from swxsoc_reach.telemetry.schema import COLUMNS, Row, Status
from swxsoc_reach.telemetry.store import TelemetryStore

CYCLE = (Status.DOWNLOAD_PENDING, Status.DOWNLOADED, Status.PROCESS_PENDING, Status.PROCESSED,
         Status.UPLOAD_PENDING, Status.UPLOADED)


def write_file(path: Path, rows: int) -> int:
    """Write ``rows`` realistic rows (whole attempts over consecutive days) in one go."""
    first = dt.date(2016, 1, 1)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(rows):
            day = first + dt.timedelta(days=i // len(CYCLE))
            start, end = day_window(day)
            when = iso_utc(dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=i))
            writer.writerow(Row(
                run_id="0f8e2a4c-5b8f-4c4e-9a51-6f1c2d3e4b5a", chunk_date_utc=day.isoformat(),
                window_start_utc=iso_utc(start), window_end_utc=iso_utc(end),
                status=CYCLE[i % len(CYCLE)], records_downloaded="1105920",
                expected_records="1105920", availability_pct="100.00", download_seconds="41.2",
                csv_size_mb="553.1", csv_path=f"/data/raw/REACH-ALL_{day:%Y%m%d}T000000.csv",
                sensor_id="ALL", descriptor="QUICKLOOK", output_format="csv",
                started_at_utc=when, finished_at_utc=when,
            ).values())
    return len({first + dt.timedelta(days=i // len(CYCLE)) for i in range(rows)})


def best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "download_telemetry.csv"
        days = write_file(path, args.rows)
        store = TelemetryStore(path)
        assert len(store.state().latest) == days

        def baseline() -> None:
            with open(path, newline="") as fh:
                for _ in csv.reader(fh):
                    pass

        base = best_of(args.repeat, baseline)
        state = best_of(args.repeat, store.state)
        history = best_of(args.repeat, store.read)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mib = args.rows * 330 / 2**20
    print(f"telemetry rows           : {args.rows:,} ({days:,} days, ~{size_mib:.0f} MiB)")
    print(f"baseline csv.reader pass : {base:.3f} s")
    print(f"state (latest per day)   : {state:.3f} s  ({args.rows / state:,.0f} rows/s, "
          f"{state / base:.2f}x baseline)")
    print(f"full history as Rows     : {history:.3f} s  ({history / base:.2f}x baseline)")
    print(f"peak RSS                 : {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
