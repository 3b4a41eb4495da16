"""Benchmark: a campaign of full all-sensor days through the Snakemake workflow (issue 11.4).

Several full ``ALL`` days (default 3) go download -> process -> upload through
``snakemake`` (the repository's Snakefile, config and default profile, copied to a
scratch directory) against the bundled UDL server (50 ms latency, 20 requests/s,
10,000-record page; the days rendered before any clock starts) and a local moto S3,
once per profile, side by side in the same run:

- ``today``: the older tool's settings, fixed 5-minute windows (288 requests a day),
  plain CSV artifacts, ``--jobs 1``;
- ``campaign``: windows sized to a page, zstd artifacts, ``--jobs 1``;
- ``campaign-j2``: the same with ``--jobs 2``: a day's download overlaps the previous
  day's processing (downloads still one at a time: ``resources: udl=1``);
- ``sensor``: one sensor (REACH-135) with the campaign settings and ``--jobs 2``.

For each: wall time, per day (from telemetry and Snakemake's per-job benchmark files)
and in total; UDL requests and 429s; bytes on disk (artifacts, CDFs); bytes uploaded;
the peak RSS of the whole process tree (snakemake and every job). Then each profile
extrapolated to 3,650 days: the run's wall plus, for every further day, the steady
interval between days finishing (first to last; start-up and the pipeline's fill and
drain are paid once), and disk / day; total wall / days is printed beside it.
Targets (issue 11): campaign settings <= 12 h and <= 400 GB for 3,650 ALL days.

    python benchmarks/campaign.py [--days 3] [--only today,campaign,campaign-j2,sensor]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from download_day import MIB, Peak  # benchmarks/ is on sys.path when run as a script

from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.s3_server import running_moto_server
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL, start_udl_server_process

REPO = Path(__file__).resolve().parents[1]
FIRST_DAY = dt.date(2026, 1, 1)
DECADE = 3_650
GB = 1e9


@dataclass(frozen=True)
class Profile:
    """One way to run the campaign: workflow config overrides and snakemake flags."""

    config: dict[str, str]
    jobs: int
    sensor_id: str = "ALL"


PROFILES = {
    "today": Profile({"window_minutes": "5", "artifact_compression": "none"}, jobs=1),
    "campaign": Profile({"artifact_compression": "zstd"}, jobs=1),
    "campaign-j2": Profile({"artifact_compression": "zstd"}, jobs=2),
    "sensor": Profile({"artifact_compression": "zstd"}, jobs=2, sensor_id="REACH-135"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--only", default=",".join(PROFILES))
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate-limit", type=float, default=20.0)
    parser.add_argument("--cap", type=int, default=10_000)
    parser.add_argument("--server-sensor", default="ALL",
                        help="serve only this sensor (a quick smoke run of the script)")
    args = parser.parse_args()
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(args.days)]
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    began = time.perf_counter()
    warm = [arg for day in days for arg in ("--warm", day.isoformat())]
    udl = start_udl_server_process(
        "--auth", TEST_CREDENTIAL, "--latency", str(args.latency), "--rate-limit",
        str(args.rate_limit), "--cap", str(args.cap), "--sensor-id", args.server_sensor,
        *warm, timeout_s=3600)
    print(f"UDL server ready ({len(days)} days rendered) in {time.perf_counter() - began:.0f} s")
    results = {}
    try:
        with Peak(udl.process.pid) as udl_peak, running_moto_server() as s3, \
                tempfile.TemporaryDirectory(dir=Path.cwd(), prefix=".bench-campaign-") as tmp:
            for name in args.only.split(","):
                results[name] = run_profile(name, PROFILES[name], days, udl, s3, Path(tmp))
                print_profile(name, results[name], len(days))
    finally:
        udl.stop()
    print_summary(results, len(days), udl_peak)


def run_profile(name: str, profile: Profile, days: list[dt.date], udl, s3,
                scratch: Path) -> dict:
    """Copy the workflow, run it for ``days`` with ``profile``; every figure of the run."""
    root = scratch / name
    root.mkdir(parents=True)
    for item in ("Snakefile", "config", "workflow", "profiles"):
        source = REPO / item
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / item)
    bucket = f"bench-{name}"
    s3.client().create_bucket(Bucket=bucket)
    data = root / "data"
    config = {"start_date": days[0].isoformat(), "end_date": days[-1].isoformat(),
              "sensor_id": profile.sensor_id, "data_dir": str(data), "download": "True",
              "udl_url": udl.url, "upload_to_s3": "True", "s3_bucket": bucket,
              "telemetry_file": "download_telemetry.csv", **profile.config}
    command = [sys.executable, "-m", "snakemake", "--jobs", str(profile.jobs), "--config",
               *(f"{key}={value}" for key, value in config.items())]
    env = {**s3.environ(), "BASICAUTH": TEST_CREDENTIAL}
    before = udl.stats()["counters"]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    child = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    with Peak(child.pid) as peak:
        output, _ = child.communicate()
    wall = time.perf_counter() - began
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime
           - cpu_before.ru_stime)
    if child.returncode != 0:
        sys.exit(f"{name}: snakemake failed ({child.returncode}):\n{output.decode()[-4000:]}")
    after = udl.stats()["counters"]
    rows = TelemetryStore(data / "download_telemetry.csv").read()
    per_day = {day: day_figures(data, rows, day) for day in days}
    objects = s3.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        "wall": wall, "cpu": cpu, "rss": peak.total, "per_day": per_day,
        "requests": after.get("requests", 0) - before.get("requests", 0),
        "429": after.get("status_429", 0) - before.get("status_429", 0),
        "uploaded": sum(o["Size"] for o in objects), "objects": len(objects),
        "jobs": profile.jobs,
    }


def day_figures(data: Path, rows: list, day: dt.date) -> dict[str, float]:
    """One day's stage seconds (telemetry), job seconds (Snakemake) and bytes on disk."""
    mine = [r for r in rows if r.chunk_date_utc == day.isoformat()]
    last = {r.status.value: r for r in mine}
    downloaded = last["DOWNLOADED"]
    figures = {
        "download_s": float(downloaded.download_seconds),
        "process_s": float(last["PROCESSED"].process_seconds),
        "upload_s": float(last["UPLOADED"].upload_seconds),
        "artifact_bytes": Path(downloaded.csv_path).stat().st_size,
        "cdf_bytes": Path(last["PROCESSED"].cdf_path).stat().st_size,
        "records": int(downloaded.records_downloaded),
        "done_at": dt.datetime.fromisoformat(last["UPLOADED"].finished_at_utc).timestamp(),
    }
    jobs = 0.0
    for tsv in (data / "logs" / "benchmarks").rglob(f"*{day:%Y-%m-%d}*.tsv"):
        jobs += job_seconds(tsv)
    for tsv in (data / "logs" / "benchmarks").rglob(f"*{day:%Y%m%d}T*.tsv"):
        jobs += job_seconds(tsv)
    figures["job_s"] = jobs
    return figures


def job_seconds(tsv: Path) -> float:
    """The ``s`` column of a Snakemake benchmark file (one job's wall seconds)."""
    with open(tsv, newline="") as fh:
        return float(next(csv.DictReader(fh, delimiter="\t"))["s"])


def print_profile(name: str, result: dict, n_days: int) -> None:
    print(f"\n== {name} (--jobs {result['jobs']}): {result['wall']:.1f} s for {n_days} days "
          f"({result['cpu']:.0f} CPU s, the whole tree), "
          f"{result['requests']} UDL requests ({result['429']} x 429), peak RSS of the tree "
          f"{result['rss'] / MIB:.0f} MiB, uploaded {result['uploaded'] / MIB:.1f} MiB "
          f"in {result['objects']} objects; load {os.getloadavg()[0]:.2f}")
    print(f"{'day':<11} {'records':>9} {'download s':>10} {'process s':>9} {'upload s':>8} "
          f"{'jobs s':>7} {'artifact MiB':>12} {'CDF MiB':>8}")
    for day, f in result["per_day"].items():
        print(f"{day!s:<11} {f['records']:>9,} {f['download_s']:>10.2f} {f['process_s']:>9.2f} "
              f"{f['upload_s']:>8.2f} {f['job_s']:>7.1f} {f['artifact_bytes'] / MIB:>12.1f} "
              f"{f['cdf_bytes'] / MIB:>8.1f}")


def print_summary(results: dict, n_days: int, udl_peak: Peak) -> None:
    print(f"\nextrapolated to {DECADE:,} days (s/day: total wall / {n_days} days, start-up and "
          "the unoverlapped first download and last process included; steady: the interval "
          "between days finishing, first to last; decade h: the run's wall with the steady "
          "interval for every further day; disk = artifacts + CDFs):")
    print(f"{'profile':<12} {'s/day':>7} {'steady':>7} {'decade h':>9} {'CPU s/day':>9} "
          f"{'req/day':>8} {'disk GB/day':>11} {'decade GB':>10} {'upload GB':>10}")
    for name, r in results.items():
        per_day = r["wall"] / n_days
        done = sorted(f["done_at"] for f in r["per_day"].values())
        steady = (done[-1] - done[0]) / (n_days - 1) if n_days > 1 else per_day
        decade_s = r["wall"] + (DECADE - n_days) * steady
        disk = sum(f["artifact_bytes"] + f["cdf_bytes"] for f in r["per_day"].values()) / n_days
        print(f"{name:<12} {per_day:>7.1f} {steady:>7.1f} {decade_s / 3600:>9.1f} "
              f"{r['cpu'] / n_days:>9.1f} {r['requests'] / n_days:>8.0f} {disk / GB:>11.3f} "
              f"{disk * DECADE / GB:>10.0f} "
              f"{r['uploaded'] / n_days * DECADE / GB:>10.0f}")
    if "campaign" in results and "campaign-j2" in results:
        one, two = results["campaign"]["wall"], results["campaign-j2"]["wall"]
        print(f"overlap (--jobs 2 vs 1, campaign settings): {two / one:.2f}x the wall")
    print(f"UDL server peak RSS over the run: {udl_peak.total / MIB:.0f} MiB (target < 1024); "
          f"load now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
