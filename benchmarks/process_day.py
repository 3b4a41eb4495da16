"""Benchmark: ``process_file`` on a full all-sensor day and a fill-heavy one, side by side
(l1c-cdf.md; issue 10 "Speed and size").

Two synthetic ``ALL`` days, generated once and cached in ``--work-dir``:

- full: all 32 sensors, 1,105,920 records + 1 % re-served duplicates (~550 MB CSV, ~80 s
  to generate);
- fill-heavy: 8 of the 32 sensors, 30 % of their samples missing, so most cells of
  the fixed 32-sensor axis are fill (~15 s to generate).

For each day, each in a fresh child process so the figures are its own: the same-run
baseline ``pyarrow.csv.read_csv`` merely reading the CSV (all columns, multithreaded),
``process_file`` as shipped (gzip level ``write.GZIP_LEVEL`` on the data variables), and
``process_file`` with compression off (the uncompressed product of the same shape, the
size before this issue). Prints wall and CPU seconds, peak RSS, CDF sizes and the
ratios.
Targets (full day): CDF <= 50 % of the uncompressed size, process <= 3.5 s and <= 1.5x
the baseline, peak RSS <= 1 GiB; the fill-heavy CDF far smaller. ``--levels 1,3,6``
adds a size/time row per gzip level (how the level was chosen). ``--digests`` times the
digest chain (issue 17: the artifact's SHA-256 taken while it is read, as ``process``
does, which the figures above use) against no digest at all and against the summary
hashing the artifact in a second read (before issue 17); target: the chain costs at
most 3 % over none.

    python benchmarks/process_day.py [--work-dir DIR] [--runs 1] [--levels 1,3,6] [--digests]
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from swxsoc_reach.mission import sensors
from swxsoc_reach.paths import artifact_name
from swxsoc_reach.synthetic import SyntheticOptions, iter_records, write_csv, write_day

DAY = dt.date(2026, 1, 1)
GIB = 1024**3
MIB = 1024**2
# Each child prints {"seconds": ..., "peak_rss": bytes, ...} as its last line. argv:
# artifact, output dir, day, gzip level ("" = as shipped), digests: "chain" (taken while
# reading, as process does), "summary" (none while reading: the summary reads the
# artifact again) or "none" (no SHA-256 at all).
PROCESS = """
import datetime as dt, json, resource, sys, time
began = time.perf_counter()
from swxsoc_reach.cdf import process_file
from swxsoc_reach.cdf import summary, write
if sys.argv[4]:
    write.GZIP_LEVEL = int(sys.argv[4])
if sys.argv[5] == "none":
    summary.sha256_file = lambda path: ""
check = (lambda records, sha256: None) if sys.argv[5] == "chain" else None
(cdf,) = process_file(sys.argv[1], sys.argv[2], day=dt.date.fromisoformat(sys.argv[3]),
                      check_read=check)
seconds = time.perf_counter() - began
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": seconds, "cdf": str(cdf), "cdf_bytes": cdf.stat().st_size,
                  "level": write.GZIP_LEVEL, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_rss": usage.ru_maxrss * 1024}))
"""
BASELINE = """
import json, resource, sys, time
began = time.perf_counter()
import pyarrow.csv
table = pyarrow.csv.read_csv(sys.argv[1])
seconds = time.perf_counter() - began
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": seconds, "rows": table.num_rows,
                  "cpu": usage.ru_utime + usage.ru_stime, "peak_rss": usage.ru_maxrss * 1024}))
"""


@dataclass(frozen=True)
class DayKind:
    """One benchmarked day: its options and, for a fill-heavy day, the sensors that report."""

    name: str
    options: SyntheticOptions
    reporting: int | None = None  # None: every sensor of the table

    def generate(self, path: Path) -> int:
        if self.reporting is None:
            return write_day(path, DAY, self.options)
        table = sensors()
        chosen = table[:: len(table) // self.reporting][: self.reporting]
        streams = [iter_records(DAY, SyntheticOptions(
            seed=self.options.seed, sensor_id=s.sensor_id,
            gap_fraction=self.options.gap_fraction)) for s in chosen]
        merged = heapq.merge(*streams, key=lambda record: record["obTime"])
        return write_csv(path, merged, self.options)


DAYS = (
    DayKind("full", SyntheticOptions(duplicate_fraction=0.01)),
    DayKind("fill-heavy", SyntheticOptions(gap_fraction=0.3), reporting=8),
)


def cached_day(work_dir: Path, kind: DayKind) -> Path:
    """The day's artifact, generated on first use (the directory names the options)."""
    opts = kind.options
    directory = work_dir / (f"seed{opts.seed}-dup{opts.duplicate_fraction}"
                            + (f"-gap{opts.gap_fraction}-of{kind.reporting}"
                               if kind.reporting else ""))
    path = directory / artifact_name(DAY, opts.sensor_id, "csv")
    if not path.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} (once) ...", flush=True)
        began = time.perf_counter()
        count = kind.generate(path)
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


def process(source: Path, work_dir: Path, level: str = "", digests: str = "chain") -> dict:
    """``process_file`` in a child, at ``level`` (``""``: as shipped), output thrown away."""
    with tempfile.TemporaryDirectory(dir=work_dir) as out:
        return child(PROCESS, str(source), out, DAY.isoformat(), level, digests)


def measure_digests(source: Path, work_dir: Path, runs: int) -> None:
    """The digest chain against no digest and against the summary's second read,
    interleaved run by run so a busy machine weighs on each alike."""
    figures: dict[str, list[dict]] = {"none": [], "summary": [], "chain": []}
    for _ in range(runs):
        for mode, found in figures.items():
            found.append(process(source, work_dir, digests=mode))
    none = statistics.median(r["seconds"] for r in figures["none"])
    for mode, found in figures.items():
        seconds = statistics.median(r["seconds"] for r in found)
        cpu = statistics.median(r["cpu"] for r in found)
        print(f"  digests {mode:<8}: {seconds:.2f} s ({seconds / none:.3f}x none), CPU "
              f"{cpu:.2f} s")
    print("  (target: chain <= 1.03x none)")


def measure(kind: DayKind, work_dir: Path, runs: int, levels: list[str],
            digests: bool = False) -> None:
    source = cached_day(work_dir, kind)
    shipped, off, bases = [], [], []
    for _ in range(runs):
        bases.append(child(BASELINE, str(source)))
        shipped.append(process(source, work_dir))
        off.append(process(source, work_dir, "0"))
    seconds = statistics.median(r["seconds"] for r in shipped)
    base = statistics.median(b["seconds"] for b in bases)
    plain = statistics.median(r["seconds"] for r in off)
    size, plain_size = shipped[0]["cdf_bytes"], off[0]["cdf_bytes"]
    records = bases[0]["rows"]  # the baseline has just parsed the whole CSV: no recount
    print(f"\n== {kind.name} day: {records:,} records, {source.stat().st_size / MIB:,.0f} MiB "
          f"CSV ({source})")
    print(f"process_file, gzip {shipped[0]['level']}        : {seconds:.2f} s (whole process "
          f"{statistics.median(r['process_wall'] for r in shipped):.2f} s; target <= 3.5 s), "
          f"{records / seconds:,.0f} records/s")
    print(f"process_file, uncompressed   : {plain:.2f} s (+{seconds - plain:.2f} s for gzip)")
    cpu = statistics.median(r["cpu"] for r in shipped)
    print(f"CPU seconds (user+sys)       : process_file {cpu:.2f} (uncompressed "
          f"{statistics.median(r['cpu'] for r in off):.2f}), read_csv "
          f"{statistics.median(b['cpu'] for b in bases):.2f}: less sensitive to a busy machine")
    print(f"CDF size                     : {size / MIB:,.1f} MiB vs {plain_size / MIB:,.1f} MiB "
          f"uncompressed = {size / plain_size:.1%} (target <= 50 % for the full day)")
    print(f"peak RSS of process_file     : {max(r['peak_rss'] for r in shipped) / MIB:,.0f} MiB "
          f"(target <= {GIB / MIB:,.0f} MiB)")
    print(f"pyarrow.csv.read_csv baseline: {base:.2f} s, peak RSS "
          f"{max(b['peak_rss'] for b in bases) / MIB:,.0f} MiB")
    print(f"process_file / baseline      : {seconds / base:.2f}x (target <= 1.5x)")
    for level in levels:
        figures = process(source, work_dir, level)
        print(f"  gzip level {level}: {figures['cdf_bytes'] / MIB:,.1f} MiB in "
              f"{figures['seconds']:.2f} s (+{figures['seconds'] - plain:.2f} s)")
    if digests:
        measure_digests(source, work_dir, max(runs, 3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "swxsoc_reach_bench",
                        help="where the generated days are cached (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each measurement")
    parser.add_argument("--levels", default="",
                        help="comma-separated gzip levels to compare, e.g. 1,3,6 (one run each)")
    parser.add_argument("--digests", action="store_true",
                        help="also time the digest chain against no digest (3 runs at least)")
    args = parser.parse_args()
    levels = [x for x in args.levels.split(",") if x]
    for kind in DAYS:
        measure(kind, args.work_dir, args.runs, levels, args.digests)


if __name__ == "__main__":
    main()
