"""Benchmark: the README's first command, ``python -m swxsoc_reach demo``, end to end.

Target (issue 13): under a minute on the 2-core development machine. Measured in a
fresh copy of the clone's workflow files:

1. the first run (sandbox start, Snakemake over config/demo.yaml's days: download,
   process + quicklook, upload; then status and report): wall time, CPU seconds of
   the whole process tree, peak RSS of its largest process;
2. the second run (nothing to do);

against a same-run baseline: the CLI over the same days against the same sandbox
parts (``download``, then ``process --quicklook --upload-to-s3``, one process each),
which is the chain without the workflow's one-job-per-day-and-stage cost. The load
average is printed beside the figures (the machine is shared).

    python benchmarks/demo.py
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from swxsoc_reach.testing.clone import copy_workflow_files
from swxsoc_reach.views import demo
from swxsoc_reach.views.sandbox import SandboxOptions, running_sandbox

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 60.0


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None
          ) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds of the finished process tree, and its largest RSS (MiB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, after.ru_maxrss // 1024  # ru_maxrss: KiB on Linux, the peak so far


def cli_baseline(clone: Path, out: Path) -> tuple[float, float]:
    """The same days through the CLI (one process per stage) against the sandbox's parts."""
    config = demo.load_config(clone)
    sel = config.selection
    days = ["--start-date", sel.start.isoformat(), "--end-date", sel.end.isoformat(),
            "--sensor-id", sel.sensor_id, "-q"]
    wall = cpu = 0.0
    with running_sandbox(SandboxOptions(bucket=str(config.s3_bucket))) as sandbox:
        env = sandbox.environ()
        for command in (["download", "--output-dir", str(out)],
                        ["process", "--input-dir", str(out), "--output-dir", str(out),
                         "--quicklook", "--upload-to-s3", "--s3-bucket", str(config.s3_bucket)]):
            seconds, used, _ = timed([sys.executable, "-m", "swxsoc_reach", *command, *days],
                                     clone, env)
            wall, cpu = wall + seconds, cpu + used
    return wall, cpu


def main() -> int:
    command = [sys.executable, "-m", "swxsoc_reach", "demo"]
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        clone = copy_workflow_files(REPO, Path(tmp))
        load = os.getloadavg()
        base_wall, base_cpu = cli_baseline(clone, Path(tmp) / "cli")
        first_wall, first_cpu, peak_mib = timed(command, clone)
        second_wall, second_cpu, _ = timed(command, clone)
        load_after = os.getloadavg()
    days = demo.load_config(REPO).selection
    span = (days.end - days.start).days + 1
    print(f"load average before / after: {load[0]:.2f} / {load_after[0]:.2f} (2 cores)")
    print(f"CLI baseline, {span} days (download, process --quicklook --upload-to-s3): "
          f"{base_wall:.1f} s wall, {base_cpu:.1f} s CPU")
    print(f"demo, first run: {first_wall:.1f} s wall (target <= {TARGET_S:.0f} s), "
          f"{first_cpu:.1f} s CPU, largest process {peak_mib} MiB; "
          f"{first_wall / base_wall:.2f}x the CLI's wall, {first_cpu / base_cpu:.2f}x its CPU")
    print(f"demo, second run (nothing to do): {second_wall:.1f} s wall, {second_cpu:.1f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
