"""Benchmark: whole-process wall time of ``python -m swxsoc_reach process`` on one small day.

Every workflow job is a new process, so start-up cost is paid per day. Prints the
median over several runs of: a bare interpreter (the same-run baseline),
``--help`` (the CLI's own import cost), and ``process`` on one single-sensor
day, each time into a fresh output directory. Target: process <= 1.5 s.

    python benchmarks/cli_small_day.py [--runs 5] [--hours 24]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from swxsoc_reach.synthetic import SyntheticOptions, write_artifact

DAY = dt.date(2026, 1, 1)
SENSOR = "REACH-135"


def wall(command: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hours", type=float, default=24.0, help="length of the day's input")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        source = write_artifact(raw, DAY, SyntheticOptions(sensor_id=SENSOR), hours=args.hours)
        records = source.read_bytes().count(b"\n") - 1
        bare = [wall([sys.executable, "-c", "pass"]) for _ in range(args.runs)]
        helps = [wall([sys.executable, "-m", "swxsoc_reach", "--help"]) for _ in range(args.runs)]
        runs = []
        for i in range(args.runs):
            out = Path(tmp) / f"out{i}"
            runs.append(wall([
                sys.executable, "-m", "swxsoc_reach", "process", "--start-date", DAY.isoformat(),
                "--end-date", DAY.isoformat(), "--sensor-id", SENSOR, "--input-dir", str(raw),
                "--output-dir", str(out), "--telemetry-file", str(out / "t.csv"),
            ]))
    base, help_s, run_s = (statistics.median(x) for x in (bare, helps, runs))
    print(f"input                        : 1 day of {SENSOR}, {records:,} records")
    print(f"bare interpreter (baseline)  : {base:.3f} s")
    print(f"swxsoc_reach --help          : {help_s:.3f} s  ({help_s / base:.1f}x baseline)")
    print(f"process one day, whole proc  : {run_s:.3f} s  ({run_s / base:.1f}x baseline; "
          f"target <= 1.5 s)")


if __name__ == "__main__":
    main()
