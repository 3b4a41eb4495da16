"""Benchmark: one full all-sensor day (1,105,920 records) through ``download``, three ways.

Starts the local UDL server as a subprocess (50 ms latency, 20 requests/s, at most
10,000 records per answer), renders the day before the clock starts, then times
``python -m swxsoc_reach download`` in its own process, side by side in one run:

- ``fixed-5min``: the older tool's 288 five-minute windows (``--window-minutes 5``),
  the same-run baseline;
- ``paged``: windows sized to a full page (the default);
- ``paged+zstd``: the same with ``--artifact-compression zstd``.

For each: wall seconds, UDL requests, 429s, records/s, the client's peak RSS (all its
processes) and the artifact's size; then ``process`` of the plain and the zstd
artifact (wall and ratio), and the server's peak RSS over the whole run (rendering and
serving the day). Each artifact's ids are checked against the server's: nothing lost,
nothing doubled. Targets (issue 11): paged wall <= 1.5x the page bound (pages / rate),
<= 125 requests, client RSS <= 400 MiB; zstd artifact <= 20 % of the CSV, zstd wall
within 10 % of paged, processing zstd within 1.25x of plain; server RSS < 1 GiB.
``paged-nodigest`` and ``paged+zstd-nodigest`` are the same downloads with the artifact's
SHA-256 not taken (issue 17: the digest chain costs at most 3 % of a day's download);
they run after the settings they compare with, interleaved.

    python benchmarks/download_day.py [--latency 0.05] [--rate-limit 20] [--cap 10000]
        [--only paged,paged-nodigest,paged+zstd,paged+zstd-nodigest] [--no-process]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL, start_udl_server_process

DAY = dt.date(2026, 1, 1)
MIB = 2**20
SETTINGS = {
    "fixed-5min": ["--window-minutes", "5"],
    "paged": [],
    "paged+zstd": ["--artifact-compression", "zstd"],
    "paged-nodigest": [],
    "paged+zstd-nodigest": ["--artifact-compression", "zstd"],
}
# A sitecustomize for the -nodigest settings: the download as shipped but for the digest,
# with no switch for it in the product.
NO_DIGEST = """
from swxsoc_reach.udl import artifact
_made = artifact.DaySpool.__init__
def _without_digest(self, *args, digest=True, **kwargs):
    _made(self, *args, digest=False, **kwargs)
artifact.DaySpool.__init__ = _without_digest
"""


@dataclass
class Peak:
    """The peak RSS of a process tree, polled on a thread until stopped."""

    pid: int
    total: int = 0  # all processes together
    single: int = 0  # the largest one
    cpu: float = 0.0  # CPU seconds of the tree, once it ended (``timed``)
    _stop: threading.Event | None = None

    def __enter__(self) -> Peak:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        assert self._stop is not None
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            try:
                sizes = [p.memory_info().rss for p in (root, *root.children(recursive=True))]
            except psutil.Error:
                sizes = []  # a process ended while being read
            if sizes:
                self.total = max(self.total, sum(sizes))
                self.single = max(self.single, max(sizes))
            self._stop.wait(0.05)


def artifact_ids(path: Path) -> list[str]:
    """The ids in the artifact, read by a reader other than the writer's."""
    if ".json" in path.suffixes:
        import json

        import pyarrow as pa

        if path.suffix == ".zst":
            with pa.CompressedInputStream(pa.OSFile(str(path)), "zstd") as stream:
                return [record["id"] for record in json.loads(stream.read())]
        return [record["id"] for record in json.loads(path.read_bytes())]
    import pyarrow.csv

    table = pyarrow.csv.read_csv(path, convert_options=pyarrow.csv.ConvertOptions(
        include_columns=["id"], column_types={"id": "string"}))  # .zst: by its name
    return table.column("id").to_pylist()


def timed(command: list[str], env: dict[str, str]) -> tuple[float, Peak]:
    """Run ``command``; its wall seconds, peak RSS and CPU seconds (all its processes).
    Exits on failure."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    with Peak(child.pid) as peak:
        _, stderr = child.communicate()
    wall = time.perf_counter() - began
    if child.returncode != 0:
        sys.exit(f"{command[3]} failed ({child.returncode}):\n{stderr.decode()}")
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak.cpu = (cpu_after.ru_utime + cpu_after.ru_stime
                - cpu_before.ru_utime - cpu_before.ru_stime)
    return wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate-limit", type=float, default=20.0)
    parser.add_argument("--cap", type=int, default=10_000)
    parser.add_argument("--output-format", choices=("csv", "json"), default="csv")
    parser.add_argument("--only", default=",".join(SETTINGS),
                        help=f"comma-separated settings of {', '.join(SETTINGS)}")
    parser.add_argument("--no-process", action="store_true", help="skip timing `process`")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[],
                        help="further download flags, e.g. --extra --max-rate 40")
    args = parser.parse_args()
    chosen = [name for name in args.only.split(",") if name]
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

    began = time.perf_counter()
    server = start_udl_server_process(
        "--auth", TEST_CREDENTIAL, "--latency", str(args.latency), "--rate-limit",
        str(args.rate_limit), "--cap", str(args.cap), "--warm", DAY.isoformat(), timeout_s=900)
    env = {**os.environ, "BASICAUTH": TEST_CREDENTIAL}
    results: dict[str, dict[str, float]] = {}
    with Peak(server.process.pid) as server_peak:
        print(f"server ready (day rendered) in {time.perf_counter() - began:.0f} s, "
              f"RSS {server_peak.total / MIB:.0f} MiB so far")
        try:
            expected = server.day_ids(DAY)
            with tempfile.TemporaryDirectory(dir=Path.cwd(), prefix=".bench-download-") as tmp:
                (Path(tmp) / "nodigest").mkdir()
                (Path(tmp) / "nodigest" / "sitecustomize.py").write_text(NO_DIGEST)
                undigested = {**env, "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(Path(tmp) / "nodigest"), env.get("PYTHONPATH", "")]))}
                for name in chosen:
                    results[name] = run_one(
                        server, undigested if name.endswith("-nodigest") else env,
                        Path(tmp) / name, SETTINGS[name], args, expected)
                if not args.no_process:
                    for name in [n for n in ("paged", "paged+zstd") if n in results]:
                        out = Path(tmp) / name
                        wall, peak = timed([
                            sys.executable, "-m", "swxsoc_reach", "process", "--start-date",
                            DAY.isoformat(), "--end-date", DAY.isoformat(), "--input-dir",
                            str(out), "--output-dir", str(out / "cdf"), "--output-format",
                            args.output_format, "-q"], env)
                        results[name].update(process_s=wall, process_rss=peak.total,
                                             process_cpu=peak.cpu)
        finally:
            server.stop()
    report(results, args, len(expected), server_peak)


def run_one(server, env: dict[str, str], out: Path, flags: list[str],
            args: argparse.Namespace, expected: list[str]) -> dict[str, float]:
    """One download of the day with ``flags``; its figures. Exits when a record is off."""
    server_before = server.stats()["counters"]
    command = [sys.executable, "-m", "swxsoc_reach", "download", "--start-date",
               DAY.isoformat(), "--end-date", DAY.isoformat(), "--output-dir", str(out),
               "--udl-url", server.url, "--output-format", args.output_format, "-q",
               *flags, *args.extra]
    wall, peak = timed(command, env)
    counters = server.stats()["counters"]
    row = TelemetryStore(out / "download_telemetry.csv").read()[-1]
    path = Path(row.csv_path)
    got = artifact_ids(path)
    lost, doubled = len(set(expected) - set(got)), len(got) - len(set(got))
    if lost or doubled or len(got) != len(expected):
        sys.exit(f"FAILED ({' '.join(flags) or 'default'}): {len(got):,} records, "
                 f"{lost} lost, {doubled} doubled")
    return {
        "wall": wall, "download_s": float(row.download_seconds),
        "requests": counters.get("requests", 0) - server_before.get("requests", 0),
        "429": counters.get("status_429", 0) - server_before.get("status_429", 0),
        "rss": peak.total, "cpu": peak.cpu, "bytes": path.stat().st_size,
        "records": len(got),
    }


def report(results: dict[str, dict[str, float]], args: argparse.Namespace, records: int,
           server_peak: Peak) -> None:
    pages = math.ceil(records / args.cap)
    bound = pages / args.rate_limit
    print(f"\nfull ALL day: {records:,} records; page bound {pages} pages / "
          f"{args.rate_limit:g} req/s = {bound:.2f} s; load now {os.getloadavg()[0]:.2f}")
    print(f"{'setting':<12} {'wall s':>7} {'x bound':>8} {'requests':>9} {'429':>5} "
          f"{'rec/s':>9} {'RSS MiB':>8} {'CPU s':>6} {'MiB':>7}")
    for name, r in results.items():
        print(f"{name:<12} {r['wall']:>7.2f} {r['wall'] / bound:>8.2f} {r['requests']:>9} "
              f"{r['429']:>5} {r['records'] / r['wall']:>9,.0f} {r['rss'] / MIB:>8.0f} "
              f"{r['cpu']:>6.1f} {r['bytes'] / MIB:>7.1f}")
    base, paged, packed, bare, bare_packed = (results.get(n) for n in SETTINGS)
    for digested, undigested, label in ((paged, bare, "plain"), (packed, bare_packed, "zstd")):
        if digested and undigested:
            ratio = digested["wall"] / undigested["wall"]
            print(f"digest chain ({label}): download wall {digested['wall']:.2f} s vs "
                  f"{undigested['wall']:.2f} s without = {ratio:.3f}x"
                  f", CPU {digested['cpu']:.1f} / {undigested['cpu']:.1f} s (target <= 1.03x)")
    if base and paged:
        print(f"paged vs fixed-5min: wall {paged['wall'] / base['wall']:.2f}x, requests "
              f"{paged['requests']}/{base['requests']}")
    if paged and packed:
        print(f"zstd vs plain: artifact {100 * packed['bytes'] / paged['bytes']:.1f} % "
              f"(target <= 20 %), download wall {packed['wall'] / paged['wall']:.2f}x "
              "(target <= 1.10x)")
        if "process_s" in paged and "process_s" in packed:
            print(f"process: plain {paged['process_s']:.2f} s, zstd {packed['process_s']:.2f} s"
                  f" = {packed['process_s'] / paged['process_s']:.2f}x (target <= 1.25x); CPU "
                  f"{paged['process_cpu']:.1f} / {packed['process_cpu']:.1f} s; "
                  f"peak RSS {paged['process_rss'] / MIB:.0f} / "
                  f"{packed['process_rss'] / MIB:.0f} MiB")
    if paged:
        print(f"targets (paged): wall <= {1.5 * bound:.2f} s: {paged['wall']:.2f}; requests "
              f"<= 125: {paged['requests']}; client RSS <= 400 MiB: {paged['rss'] / MIB:.0f}")
    print(f"server peak RSS (render + serving): {server_peak.total / MIB:.0f} MiB "
          "(target < 1024)")


if __name__ == "__main__":
    main()
