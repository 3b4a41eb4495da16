"""Benchmark: the workflow's planning cost over a 10-year range, and its per-day overhead.

1. ``snakemake -n`` over 3,650 days, half of them complete in the telemetry
   (artifacts and CDFs are empty files: planning reads no data). Target <= 15 s.
2. ``snakemake`` when all 3,650 days are complete: no targets, nothing to
   schedule. Target <= 3 s.
3. A few small days run by the workflow (one job per day, ``--jobs 1``): its time
   per day (the run minus a no-op rerun, i.e. without Snakemake's start-up and
   plan) against the bare CLI's per-day time. Target: <= 0.5 s more per day than
   the CLI running one day per process, which is what each job runs. Also shown:
   the CLI over the whole range in one process, which pays the package's import
   cost (pandas, pyarrow, cdflib) once instead of once per day.

Same-run baselines: ``snakemake --version`` (Snakemake's own start-up) and the
bare CLI's time per day.

    python benchmarks/plan_range.py [--days 3650] [--small-days 6]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from swxsoc_reach.days import day_window, iso_utc, iter_days
from swxsoc_reach.paths import artifact_name, day_cdf_path
from swxsoc_reach.synthetic import SyntheticOptions, write_artifact
from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import TelemetryStore

REPO = Path(__file__).resolve().parents[1]
SENSOR = "REACH-135"
FIRST = dt.date(2016, 1, 1)
SMALL_DAY_HOURS = 1.0


def wall(command: list[str], cwd: Path) -> tuple[float, str]:
    began = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return seconds, result.stdout + result.stderr


def snakemake(data: Path, first: dt.date, last: dt.date, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
            "--configfile", str(REPO / "config" / "config.yaml"), "--config",
            f"data_dir={data}", f"start_date={first}", f"end_date={last}",
            f"sensor_id={SENSOR}", *args]


def write_range(data: Path, days: list[dt.date], complete: int) -> None:
    """Artifacts for every day; Phase 1 rows for all, PROCESSED rows + CDFs for the first ones."""
    raw = data / "raw"
    raw.mkdir(parents=True)
    rows = []
    for i, day in enumerate(days):
        (raw / artifact_name(day, SENSOR, "csv")).touch()
        start, end = day_window(day)
        base = Row(chunk_date_utc=day.isoformat(), window_start_utc=iso_utc(start),
                   window_end_utc=iso_utc(end), sensor_id=SENSOR, descriptor="QUICKLOOK",
                   output_format="csv", started_at_utc=iso_utc(start + dt.timedelta(days=1)))
        statuses = [Status.DOWNLOAD_PENDING, Status.DOWNLOADED]
        if i < complete:
            statuses += [Status.PROCESS_PENDING, Status.PROCESSED]
            cdf = day_cdf_path(data, day, SENSOR)
            cdf.parent.mkdir(parents=True, exist_ok=True)
            cdf.touch()
        rows += [base.evolve(status=s) for s in statuses]
    # one append per row is what runs do; the benchmark only needs the same file
    store = TelemetryStore(raw / "download_telemetry.csv")
    store.append(rows[0])
    with open(store.path, "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(row.values() for row in rows[1:])


def count_jobs(output: str, rule: str) -> int:
    match = re.search(rf"^{rule}\s+(\d+)$", output, flags=re.M)
    return int(match.group(1)) if match else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3650)
    parser.add_argument("--small-days", type=int, default=6)
    args = parser.parse_args()
    days = [FIRST + dt.timedelta(days=i) for i in range(args.days)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        startup, _ = wall([sys.executable, "-m", "snakemake", "--version"], root)

        half = root / "half"
        write_range(half, days, complete=args.days // 2)
        plan_s, out = wall(snakemake(half, days[0], days[-1], "-n"), root)
        planned = count_jobs(out, "process_day")

        done = root / "done"
        write_range(done, days, complete=args.days)
        noop_s, out = wall(snakemake(done, days[0], days[-1]), root)
        assert "nothing to do" in out, out

        small = list(iter_days(dt.date(2026, 1, 1), dt.date(2026, 1, args.small_days)))
        for name in ("cli", "wf"):
            for day in small:
                write_artifact(root / name / "raw", day, SyntheticOptions(sensor_id=SENSOR),
                               hours=SMALL_DAY_HOURS)
        cli = [sys.executable, "-m", "swxsoc_reach", "process", "--sensor-id", SENSOR,
               "--input-dir", "raw", "--output-dir", "."]
        range_s, _ = wall([*cli, "--start-date", str(small[0]), "--end-date", str(small[-1]),
                           "--telemetry-file", "range.csv"], root / "cli")
        single_s = sum(wall([*cli, "--start-date", str(day), "--end-date", str(day),
                             "--telemetry-file", "single.csv"], root / "cli")[0]
                       for day in small)
        run_s, _ = wall(snakemake(root / "wf", small[0], small[-1]), root)
        rerun_s, out = wall(snakemake(root / "wf", small[0], small[-1]), root)
        assert "nothing to do" in out, out

    n = len(small)
    wf_day, single_day, range_day = (run_s - rerun_s) / n, single_s / n, range_s / n
    print(f"baseline: snakemake --version          : {startup:6.2f} s")
    print(f"{args.days}-day plan (-n), half complete   : {plan_s:6.2f} s  ({planned} process_day "
          f"jobs; {plan_s / startup:.1f}x start-up; target <= 15 s)")
    print(f"{args.days}-day no-op, all complete      : {noop_s:6.2f} s  ({noop_s / startup:.1f}x "
          f"start-up; target <= 3 s)")
    print(f"{n} small days ({SMALL_DAY_HOURS:g} h of {SENSOR} each):")
    print(f"  bare CLI, one process per day      : {single_day:6.2f} s/day (baseline)")
    print(f"  bare CLI, one process for the range: {range_day:6.2f} s/day")
    print(f"  workflow --jobs 1 (run - no-op)    : {wf_day:6.2f} s/day  ({run_s:.2f} s - "
          f"{rerun_s:.2f} s)")
    print(f"  workflow overhead per day          : {wf_day - single_day:+6.2f} s over one process "
          f"per day (target <= 0.5 s); {wf_day - range_day:+.2f} s over the range process "
          f"({wf_day / range_day:.1f}x)")


if __name__ == "__main__":
    main()
