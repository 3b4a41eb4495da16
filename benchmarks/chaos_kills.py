"""Benchmark: many more kill points than the chaos tests (issue 9, "Acceptance").

The chaos campaigns of tests/test_chaos.py (``download`` + ``process --upload-to-s3``)
and tests/workflow/test_workflow_kill.py (the workflow, ``--jobs 2``), with as many
campaigns and kills per campaign as asked, against the bundled UDL server (thread)
and a local moto S3. Every campaign ends with the same checks as the tests (every day
complete, the same CDF contents as an uninterrupted run, one S3 object per day holding
the local CDF, one outcome row per stage and day, no torn row, no temporary file).
Prints the kill points run, where they landed, what was found, wall time, kills per
minute and the machine's load (the CPU is shared: compare figures of one run only).

    python benchmarks/chaos_kills.py [--campaigns 10] [--kills 8] [--seed 1] [--workflow]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the chaos helpers the tests use

from chaos import (  # noqa: E402
    ROWS_PER_DAY,
    SENSOR,
    KillLog,
    assert_same_objects,
    assert_settled,
    cli_command,
    day_cdfs,
    run_campaign,
    small_days,
)
from results import assert_same_cdf  # noqa: E402

from swxsoc_reach.paths import day_cdf_path  # noqa: E402
from swxsoc_reach.testing.clone import copy_workflow_files  # noqa: E402
from swxsoc_reach.testing.s3_server import running_moto_server  # noqa: E402
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL, UdlServer  # noqa: E402

DAYS = [dt.date(2026, 8, 1) + dt.timedelta(days=i) for i in range(3)]

def workflow_command(root: Path, udl_url: str, bucket: str) -> tuple[list[str], Path, Path]:
    """A copy of the workflow under ``root``: its command, telemetry and data dir."""
    copy_workflow_files(REPO, root)
    config = [f"start_date={DAYS[0]}", f"end_date={DAYS[-1]}", f"sensor_id={SENSOR}",
              "data_dir=data", "input_dir=raw", "download=True", f"udl_url={udl_url}",
              "upload_to_s3=True", f"s3_bucket={bucket}"]
    command = [sys.executable, "-m", "snakemake", "--jobs", "2", "--config", *config]
    return command, root / "data" / "raw" / "download_telemetry.csv", root / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=10)
    parser.add_argument("--kills", type=int, default=8, help="kills per campaign")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workflow", action="store_true", help="the workflow, not the CLI")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="chaos-"))
    rng, log, found = random.Random(args.seed), KillLog(), []
    began = time.perf_counter()
    with UdlServer(small_days()) as udl, running_moto_server() as moto:
        env = moto.environ(BASICAUTH=TEST_CREDENTIAL)
        s3 = moto.client()
        clean = scratch / "clean"
        reference = run_campaign(cli_command(clean, DAYS, udl.url, None), scratch, env,
                                 clean / "raw" / "download_telemetry.csv", rng, 0, 0, KillLog())
        assert reference.returncode == 0, reference.stderr
        for number in range(args.campaigns):
            root, bucket = scratch / f"c{number}", f"chaos-{number}"
            root.mkdir()
            s3.create_bucket(Bucket=bucket)
            if args.workflow:
                command, telemetry, data = workflow_command(root, udl.url, bucket)
                out = data
            else:
                command = cli_command(root, DAYS, udl.url, bucket)
                telemetry, data, out = root / "raw" / "download_telemetry.csv", root, root / "cdf"
            final = run_campaign(command, root, env, telemetry, rng, args.kills,
                                 ROWS_PER_DAY * len(DAYS), log, 1.0 if args.workflow else 0.4)
            try:
                assert final.returncode == 0, final.stderr[-2000:]
                assert_settled(telemetry, [d.isoformat() for d in DAYS], [data])
                for day in DAYS:
                    assert_same_cdf(day_cdf_path(out, day, SENSOR),
                                    day_cdf_path(clean / "cdf", day, SENSOR))
                assert_same_objects(s3, bucket, day_cdfs(out, DAYS))
            except AssertionError as exc:
                found.append(f"campaign {number}: {exc}")
    seconds = time.perf_counter() - began
    shutil.rmtree(scratch, ignore_errors=True)
    what = "workflow (--jobs 2)" if args.workflow else "download + process --upload-to-s3"
    print(f"{what}: {args.campaigns} campaigns of {len(DAYS)} days, seed {args.seed}")
    print(f"kill points: {log.describe()}")
    print(f"found: {len(found)} campaigns not as an uninterrupted run")
    for line in found:
        print(f"  {line}")
    print(f"wall {seconds:.1f} s, {60 * log.kills / seconds:.1f} kills/min, "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
