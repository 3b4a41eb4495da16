"""Benchmark: ``audit`` of a decade of ``ALL`` days against UDL's counts and the bucket.

archive-sync.md, issue 18 targets: 3,650 days audited, the telemetry and the files made
synthetically (each day downloaded with exactly UDL's count, processed, uploaded; its
CDF a small stand-in file whose bytes are in the bucket), UDL's ``/count`` from the
bundled server at 50 ms latency and 20 requests/s, S3 HEAD from moto. Before the clock:
the server and moto start, the telemetry and the files are written, the objects put.
Then ``python -m swxsoc_reach audit --s3-bucket ... --check`` runs in its own process.
Prints the wall time against the request bound (days / rate: 182.5 s for 3,650 days;
target at most 1.2x, 219 s), the requests the server answered, the 429s, and the audit
process's peak RSS (target at most 300 MiB); every day must come out in step.

    python benchmarks/audit.py [--days 3650] [--latency 0.05] [--rate-limit 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from swxsoc_reach.days import iso_utc, utc_now
from swxsoc_reach.mission import expected_records
from swxsoc_reach.paths import artifact_name, day_cdf_path
from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.s3_server import running_moto_server
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL, start_udl_server_process
from swxsoc_reach.upload.keys import s3_key

FIRST = dt.date(2016, 1, 1)
BUCKET = "audit-bench"
MIB = 2**20


def make_campaign(root: Path, days: list[dt.date], s3) -> Path:
    """Rows of a complete, uploaded campaign, a small CDF per day, its object in the bucket."""
    telemetry = root / "raw" / "download_telemetry.csv"
    store = TelemetryStore(telemetry)
    records = str(expected_records("ALL"))
    for day in days:
        cdf = day_cdf_path(root / "cdf", day, "ALL")
        cdf.parent.mkdir(parents=True, exist_ok=True)
        body = f"stand-in CDF of {day}\n".encode()
        cdf.write_bytes(body)
        digest = hashlib.sha256(body).hexdigest()
        key = s3_key(cdf.name)
        s3.put_object(Bucket=BUCKET, Key=key, Body=body, ChecksumAlgorithm="SHA256")
        started = iso_utc(utc_now())
        common = {"chunk_date_utc": day.isoformat(), "sensor_id": "ALL",
                  "descriptor": "QUICKLOOK", "started_at_utc": started}
        store.append(Row(status=Status.DOWNLOADED, records_downloaded=records,
                         csv_path=str(root / "raw" / artifact_name(day, "ALL", "csv")),
                         artifact_sha256="0" * 64, **common))
        store.append(Row(status=Status.UPLOADED, cdf_path=str(cdf), s3_bucket=BUCKET,
                         s3_key=key, cdf_sha256=digest, artifact_sha256="0" * 64,
                         cdf_size_mb=f"{len(body) / MIB:.3f}", **common))
    return telemetry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3650)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate-limit", type=float, default=20.0)
    args = parser.parse_args()
    days = [FIRST + dt.timedelta(days=n) for n in range(args.days)]
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    server = start_udl_server_process("--auth", TEST_CREDENTIAL, "--latency", str(args.latency),
                                      "--rate-limit", str(args.rate_limit))
    try:
        done, wall, peak, requests, throttled = run(server, days, args.rate_limit)
    finally:
        server.stop()
    bound = len(days) / args.rate_limit
    print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip())
    print(f"audit of {len(days):,} ALL days: {wall:.1f} s = {wall / bound:.2f}x the request "
          f"bound {bound:.1f} s (target <= 1.2x); {requests:,} UDL requests ({throttled} "
          f"answered 429); peak RSS {peak / MIB:.0f} MiB (target <= 300); exit "
          f"{done.returncode} (0: every day in step)")


def run(server, days: list[dt.date], rate: float
        ) -> tuple[subprocess.CompletedProcess[str], float, int, int, int]:
    """Make the campaign, then time the audit; its output, wall, peak RSS, requests, 429s."""
    with running_moto_server() as moto, tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        s3 = moto.client()
        s3.create_bucket(Bucket=BUCKET)
        began = time.perf_counter()
        telemetry = make_campaign(Path(tmp), days, s3)
        print(f"campaign of {len(days):,} days made in {time.perf_counter() - began:.0f} s")
        before = server.stats()["counters"]
        command = [sys.executable, "-m", "swxsoc_reach", "audit", "--telemetry-file",
                   str(telemetry), "--start-date", days[0].isoformat(), "--end-date",
                   days[-1].isoformat(), "--udl-url", server.url, "--s3-bucket", BUCKET,
                   "--max-rate", str(rate), "--check", "-q"]
        env = {**os.environ, **moto.env(), "BASICAUTH": TEST_CREDENTIAL}
        began = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - began
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        after = server.stats()["counters"]
    return (done, wall, peak, after.get("requests", 0) - before.get("requests", 0),
            after.get("status_429", 0) - before.get("status_429", 0))


if __name__ == "__main__":
    main()
