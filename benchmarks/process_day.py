"""Benchmark: ``process_file`` on one full all-sensor day (l1c-cdf.md; the speed issue).

Generates the synthetic day once (1,105,920 records + 1 % re-served duplicates,
~550 MB of CSV, ~80 s) and caches it in ``--work-dir``. Then, each in a fresh child
process so the figures are its own: ``process_file`` with the day filter, and the
same-run baseline ``pyarrow.csv.read_csv`` merely reading the same CSV (all columns,
multithreaded). Prints wall seconds, records/s, peak RSS, CDF size and the ratio to
the baseline. Targets: <= 10 s, <= 1 GiB peak RSS, <= 3x the baseline; the older
implementation needed 155-172 s and 2.3 GiB.

    python benchmarks/process_day.py [--work-dir DIR] [--runs 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from swxsoc_reach.paths import artifact_name
from swxsoc_reach.synthetic import SyntheticOptions, write_day

DAY = dt.date(2026, 1, 1)
OPTIONS = SyntheticOptions(duplicate_fraction=0.01)
GIB = 1024**3
MIB = 1024**2
# Each child prints {"seconds": ..., "peak_rss": bytes, ...} as its last line.
PROCESS = """
import datetime as dt, json, resource, sys, time
began = time.perf_counter()
from swxsoc_reach.cdf import process_file
(cdf,) = process_file(sys.argv[1], sys.argv[2], day=dt.date.fromisoformat(sys.argv[3]))
seconds = time.perf_counter() - began
print(json.dumps({"seconds": seconds, "cdf": str(cdf), "cdf_bytes": cdf.stat().st_size,
                  "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""
BASELINE = """
import json, resource, sys, time
began = time.perf_counter()
import pyarrow.csv
table = pyarrow.csv.read_csv(sys.argv[1])
seconds = time.perf_counter() - began
print(json.dumps({"seconds": seconds, "rows": table.num_rows,
                  "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def cached_day(work_dir: Path) -> Path:
    """The day's artifact, generated on first use (the name tells the options apart)."""
    directory = work_dir / f"seed{OPTIONS.seed}-dup{OPTIONS.duplicate_fraction}"
    path = directory / artifact_name(DAY, OPTIONS.sensor_id, "csv")
    if not path.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} (once; ~80 s) ...", flush=True)
        began = time.perf_counter()
        count = write_day(path, DAY, OPTIONS)
        print(f"  {count:,} records in {time.perf_counter() - began:.0f} s", flush=True)
    return path


def child(code: str, *args: str) -> dict:
    """Run ``code`` in a new interpreter; return its JSON figures plus whole-process wall time."""
    began = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, *args], check=True,
                            capture_output=True, text=True)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["process_wall"] = time.perf_counter() - began
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "swxsoc_reach_bench",
                        help="where the generated day is cached (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each measurement")
    args = parser.parse_args()
    source = cached_day(args.work_dir)
    size = source.stat().st_size
    runs, bases = [], []
    for i in range(args.runs):
        bases.append(child(BASELINE, str(source)))
        with tempfile.TemporaryDirectory(dir=args.work_dir) as out:
            runs.append(child(PROCESS, str(source), out, DAY.isoformat()))
            cdf_bytes = runs[-1]["cdf_bytes"]
        print(f"run {i + 1}: process_file {runs[-1]['seconds']:.2f} s, "
              f"read_csv {bases[-1]['seconds']:.2f} s", flush=True)
    records = bases[0]["rows"]  # the baseline has just parsed the whole CSV: no recount
    seconds = statistics.median(r["seconds"] for r in runs)
    wall = statistics.median(r["process_wall"] for r in runs)
    base = statistics.median(b["seconds"] for b in bases)
    peak = max(r["peak_rss"] for r in runs)
    print(f"input                          : {records:,} records, {size / MIB:,.0f} MiB CSV "
          f"({source})")
    print(f"process_file (day filter)      : {seconds:.2f} s (whole process {wall:.2f} s; "
          f"target <= 10 s; older implementation 155-172 s)")
    print(f"throughput                     : {records / seconds:,.0f} records/s")
    print(f"peak RSS of process_file       : {peak / MIB:,.0f} MiB "
          f"(target <= {GIB / MIB:,.0f} MiB; older implementation 2.3 GiB)")
    print(f"CDF size                       : {cdf_bytes / MIB:,.1f} MiB")
    print(f"pyarrow.csv.read_csv (baseline): {base:.2f} s, peak RSS "
          f"{max(b['peak_rss'] for b in bases) / MIB:,.0f} MiB")
    print(f"process_file / baseline        : {seconds / base:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
