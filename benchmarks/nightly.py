"""Benchmark: a nightly workflow run over an unchanged archive (issue 18 target: at most 10 UDL
requests and at most 10 s beyond Snakemake's own start, with ``recheck_days: 10``).

A copy of the workflow, a campaign of ``--days`` one-sensor days downloaded and processed
by a first run (``download: true``, ``recheck_days: 10``, the local UDL server at 50 ms
latency and 20 requests/s), then, timed: the same run again (nothing changed: the plan has
no day job, the recheck job audits the last 10 days), against the same-run baseline of
Snakemake's own start (``-n`` on the same config: parse, plan, no job). Prints both walls,
their difference and the UDL requests of the timed run.

    python benchmarks/nightly.py [--days 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from swxsoc_reach.testing.clone import copy_workflow_files
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL, start_udl_server_process

REPO = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 3, 1)


def snakemake(root: Path, env: dict[str, str], config: dict[str, object], *extra: str) -> float:
    """One ``snakemake`` run in ``root``; its wall seconds (exits on failure)."""
    overrides = [f"{key}={value}" for key, value in config.items()]
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "snakemake", "--configfile",
                           "config/range.yaml", "--config", *overrides, *extra], cwd=root,
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"snakemake failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = start_udl_server_process("--auth", TEST_CREDENTIAL, "--latency", "0.05",
                                      "--rate-limit", "20")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-nightly-") as tmp:
            root = copy_workflow_files(REPO, Path(tmp) / "repo")
            env = {**os.environ, "BASICAUTH": TEST_CREDENTIAL,
                   "SWXSOC_REACH_TODAY": TODAY.isoformat()}
            start = TODAY - dt.timedelta(days=args.days)
            config = {"start_date": start.isoformat(), "end_date": "yesterday",
                      "download": True, "udl_url": server.url, "input_dir": "raw",
                      "recheck_days": 10, "sensor_id": "REACH-135"}
            first = snakemake(root, env, config)
            print(f"first night ({args.days} days downloaded and processed): {first:.1f} s")
            nights, plans, requests = [], [], []
            for _ in range(args.runs):  # interleaved: the baseline and the night alike
                plans.append(snakemake(root, env, config, "-n"))
                before = server.stats()["counters"].get("requests", 0)
                nights.append(snakemake(root, env, config))
                requests.append(server.stats()["counters"].get("requests", 0) - before)
    finally:
        server.stop()
    night, plan = statistics.median(nights), statistics.median(plans)
    print(f"unchanged night: {night:.2f} s; Snakemake's own start (-n, same config): "
          f"{plan:.2f} s; beyond it: {night - plan:.2f} s (target <= 10 s); UDL requests "
          f"per night: {requests} (target <= 10)")


if __name__ == "__main__":
    main()
