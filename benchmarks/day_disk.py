"""Benchmark: the peak extra disk a day's ``download`` and ``process`` take (issue 19.3).

Starts the local UDL server as a subprocess serving every sensor (its own temporary
directory, so the day it renders is counted apart), then, for ``ALL`` and one sensor,
plain and zstd: ``python -m swxsoc_reach download`` of one full day and ``process
--quicklook`` of its artifact, each in its own process with its own empty temporary
directory (``TMPDIR``). A thread samples, every millisecond or two, the bytes allocated
(``st_blocks``) under the stage's output directory and under that temporary directory;
the peak extra is the largest sample less the first. Printed per stage and format: the
peak extra of each directory, the final file, peak / final, and what the pre-check
(``phases/diskneed.py``) asks for that day with the ratio need / peak (target: 1.0-1.5,
the check never asks less than the day takes nor more than 1.5 times it). Last, the
size of the day the server rendered into its temporary directory: what the sandbox and
the demo hold there per ``ALL`` day.

    python benchmarks/day_disk.py [--sensor REACH-135] [--only ALL,REACH-135]
        [--compressions none,zstd] [--output-format csv]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from swxsoc_reach.phases.diskneed import download_need, process_need
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL, start_udl_server_process

DAY = dt.date(2026, 1, 1)
MIB = 2**20


def allocated(root: Path) -> int:
    """Bytes allocated to every file under ``root`` (what counts against free space)."""
    total = 0
    stack = [root]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except FileNotFoundError:
            continue  # a private directory removed while walking
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except FileNotFoundError:
                continue  # a spool or temporary removed while walking
    return total


@dataclass
class DiskPeak:
    """The peak extra bytes under some directories, sampled on a thread until stopped."""

    roots: dict[str, Path]
    start: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)
    samples: int = 0

    def __enter__(self) -> DiskPeak:
        self.start = {name: allocated(root) for name, root in self.roots.items()}
        self.peak = dict(self.start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while True:
            stopping = self._stop.is_set()  # one last sample after the stage ended
            for name, root in self.roots.items():
                self.peak[name] = max(self.peak[name], allocated(root))
            self.samples += 1
            if stopping:
                return
            self._stop.wait(0.001)

    def extra(self, name: str) -> int:
        return self.peak[name] - self.start[name]


def run_stage(command: list[str], env: dict[str, str], roots: dict[str, Path]) -> DiskPeak:
    """Run ``command`` while sampling ``roots``; exits when it fails."""
    with DiskPeak(roots) as peak:
        result = subprocess.run(command, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.exit(f"{command[3]} failed ({result.returncode}):\n{result.stderr.decode()}")
    return peak


def measure(server_url: str, work: Path, sensor: str, output_format: str,
            compression: str) -> list[str]:
    """Download and process one day of ``sensor``; the report lines of both stages."""
    case = work / f"{sensor}-{output_format}-{compression}"
    raw, cdf, tmp = case / "raw", case / "cdf", case / "tmp"
    for path in (raw, cdf, tmp):
        path.mkdir(parents=True)
    env = {**os.environ, "BASICAUTH": TEST_CREDENTIAL, "TMPDIR": str(tmp)}
    day = DAY.isoformat()
    telemetry = case / "telemetry.csv"  # outside both measured directories
    common = ["--start-date", day, "--end-date", day, "--sensor-id", sensor,
              "--output-format", output_format, "--telemetry-file", str(telemetry), "-q"]
    down = run_stage([sys.executable, "-m", "swxsoc_reach", "download", *common,
                      "--output-dir", str(raw), "--udl-url", server_url,
                      "--artifact-compression", compression, "--initial-rate", "20",
                      "--max-rate", "50"], env, {"out": raw, "tmp": tmp})
    row = TelemetryStore(telemetry).read()[-1]
    artifact = Path(row.csv_path)
    records = int(row.records_downloaded)
    proc = run_stage([sys.executable, "-m", "swxsoc_reach", "process", *common,
                      "--input-dir", str(raw), "--output-dir", str(cdf), "--quicklook"],
                     env, {"out": cdf, "tmp": tmp})
    product = Path(TelemetryStore(telemetry).read()[-1].cdf_path)
    lines = []
    for stage, peak, final, need in (
            ("download", down, artifact.stat().st_size,
             download_need(sensor, output_format, compression)),
            ("process", proc, product.stat().st_size, process_need(records))):
        extra = peak.extra("out")
        lines.append(
            f"{sensor:<10} {output_format:<4} {compression:<5} {stage:<9} {records:>9,} "
            f"{final / MIB:>8.2f} {extra / MIB:>9.2f} {extra / final:>6.2f} "
            f"{peak.extra('tmp') / MIB:>8.2f} {need / MIB:>8.2f} {need / extra:>6.2f} "
            f"{peak.samples:>7}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensor", default="REACH-135", help="the one-sensor case")
    parser.add_argument("--only", help="comma-separated sensors (default: ALL and --sensor)")
    parser.add_argument("--compressions", default="none,zstd")
    parser.add_argument("--output-format", choices=("csv", "json"), default="csv")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else ["ALL", args.sensor]
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(dir=Path.cwd(), prefix=".bench-disk-") as tmp:
        work = Path(tmp)
        server_tmp = work / "server-tmp"
        server_tmp.mkdir()
        before = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = str(server_tmp)  # the server's rendered days go here
        began = time.perf_counter()
        try:
            server = start_udl_server_process("--auth", TEST_CREDENTIAL, "--warm",
                                              DAY.isoformat(), timeout_s=900)
        finally:
            if before is None:
                del os.environ["TMPDIR"]
            else:
                os.environ["TMPDIR"] = before
        print(f"server ready (ALL day rendered) in {time.perf_counter() - began:.0f} s; "
              f"its temporary directory holds {allocated(server_tmp) / MIB:.1f} MiB")
        print(f"\n{'sensor':<10} {'fmt':<4} {'comp':<5} {'stage':<9} {'records':>9} {'final':>8} "
              f"{'peak out':>9} {'/final':>6} {'peak tmp':>8} {'need':>8} {'/peak':>6} "
              f"{'samples':>7}   (MiB)")
        try:
            for sensor in chosen:
                for compression in args.compressions.split(","):
                    for line in measure(server.url, work, sensor, args.output_format,
                                        compression):
                        print(line, flush=True)
        finally:
            server.stop()
    print("peak out / tmp: extra bytes allocated in the output / temporary directory at the "
          "stage's peak; need: what the pre-check asks (target need/peak 1.0-1.5)")


if __name__ == "__main__":
    main()
