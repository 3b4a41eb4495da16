"""Benchmark: ``status`` over a decade of ALL days that read their product summaries (issue 12.1).

Builds 3,650 days of telemetry (a whole download / process / upload attempt each,
six rows a day, CDF paths recorded) and, beside each recorded CDF, the product
summary a real ``process_file`` wrote for a small ALL day (32 sensors, 2 flavors;
copied under each day's name), then times, best of a few runs:

- baseline: reading the telemetry alone (``TelemetryStore.state()``),
- ``status``: the report (``build_report``: telemetry + a summary per day + the disk
  checks), then its table; and ``status --coverage`` (the sensor x day grid as text).

Target: status at most 2x the baseline. Prints CPU times, days/s, the ratios and
the peak memory (ru_maxrss).

    python benchmarks/status_decade.py [--days 3650]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

from swxsoc_reach.cdf import process_file
from swxsoc_reach.days import day_window, iso_utc
from swxsoc_reach.paths import day_cdf_path, summary_path
from swxsoc_reach.synthetic import SyntheticOptions, write_artifact
from swxsoc_reach.telemetry.schema import COLUMNS, Row, Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.views.coverage import coverage_grid, format_coverage
from swxsoc_reach.views.status import StatusQuery
from swxsoc_reach.views.statusbuild import build_report
from swxsoc_reach.views.statusformat import format_table

CYCLE = (Status.DOWNLOAD_PENDING, Status.DOWNLOADED, Status.PROCESS_PENDING, Status.PROCESSED,
         Status.UPLOAD_PENDING, Status.UPLOADED)
FIRST = dt.date(2016, 1, 1)


def sample_summary(base: Path) -> str:
    """The summary text of one real small ALL day (every sensor, a few minutes each)."""
    raw = write_artifact(base / "sample", FIRST, SyntheticOptions(), hours=0.05)
    (cdf,) = process_file(raw, base / "sample-out", day=FIRST)
    return summary_path(cdf).read_text()


def build_decade(base: Path, days: int) -> Path:
    """Telemetry of ``days`` whole attempts, an (empty) CDF and a summary per day."""
    text = sample_summary(base)
    telemetry = base / "download_telemetry.csv"
    with open(telemetry, "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for n in range(days):
            day = FIRST + dt.timedelta(days=n)
            cdf = day_cdf_path(base / "out", day, "ALL")
            cdf.parent.mkdir(parents=True, exist_ok=True)
            cdf.touch()
            summary = summary_path(cdf)
            summary.parent.mkdir(parents=True, exist_ok=True)
            summary.write_text(text.replace(FIRST.isoformat(), day.isoformat()))
            start, end = day_window(day)
            for k, status in enumerate(CYCLE):
                when = iso_utc(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
                               + dt.timedelta(seconds=6 * n + k))
                phase2 = status in (Status.PROCESSED, Status.UPLOAD_PENDING, Status.UPLOADED)
                writer.writerow(Row(
                    run_id="0f8e2a4c-5b8f-4c4e-9a51-6f1c2d3e4b5a",
                    chunk_date_utc=day.isoformat(), window_start_utc=iso_utc(start),
                    window_end_utc=iso_utc(end), status=status,
                    records_downloaded="1105920" if status is Status.DOWNLOADED else "",
                    expected_records="1105920", availability_pct="100.00",
                    download_seconds="41.2" if status is Status.DOWNLOADED else "",
                    csv_path=f"{base}/raw/REACH-ALL_{day:%Y%m%d}T000000.csv",
                    sensor_id="ALL", descriptor="QUICKLOOK", output_format="csv",
                    started_at_utc=when, finished_at_utc=when,
                    process_seconds="9.5" if status is Status.PROCESSED else "",
                    cdf_path=str(cdf) if phase2 else "",
                    upload_seconds="1.1" if status is Status.UPLOADED else "",
                    s3_bucket="b" if status is Status.UPLOADED else "",
                    s3_key="k" if status is Status.UPLOADED else "",
                ).values())
    return telemetry


def best_of(repeat: int, fn) -> float:
    """Best CPU seconds of ``repeat`` runs (CPU, not wall: the machine is shared)."""
    best = float("inf")
    for _ in range(repeat):
        began = time.process_time()
        fn()
        best = min(best, time.process_time() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3650)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        telemetry = build_decade(Path(tmp), args.days)
        query = StatusQuery(telemetry)
        report = build_report(query)
        assert len(report.days) == len(report.products) == args.days
        baseline = best_of(args.repeat, TelemetryStore(telemetry).state)
        status = best_of(args.repeat, lambda: format_table(build_report(query)))
        coverage = best_of(args.repeat, lambda: format_coverage(
            coverage_grid(build_report(query))))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"days: {args.days:,} ({args.days * len(CYCLE):,} telemetry rows, a summary per day)")
    print(f"baseline  state():           {baseline:.3f} s ({args.days / baseline:,.0f} days/s)")
    print(f"status    table:             {status:.3f} s ({args.days / status:,.0f} days/s)"
          f"  ratio {status / baseline:.2f}x (target <= 2.00x)")
    print(f"status    --coverage:        {coverage:.3f} s ({args.days / coverage:,.0f} days/s)"
          f"  ratio {coverage / baseline:.2f}x (target <= 2.00x)")
    print(f"peak memory: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
