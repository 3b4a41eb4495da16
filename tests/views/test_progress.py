"""Progress bars through the real CLI: drawn on a pseudo-terminal (days with an ETA, the
chunks of a download day with records, rate and 429s), absent when stderr is piped or
under --quiet, and log lines never run through a bar."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from swxsoc_reach.synthetic import SyntheticOptions
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL, ServerConfig, UdlServer

SENSOR = "REACH-135"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR) \S.*$")
ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
DEADLINE_S = 120


@dataclass(frozen=True)
class Run:
    """A finished CLI run: its exit code, stdout, and stderr as the terminal received it."""

    code: int
    out: str
    err: str

    def frames(self, label: str) -> list[str]:
        """Every state a bar called ``label`` was drawn in (tqdm redraws after ``\\r``)."""
        text = ESCAPE.sub("", self.err)  # cursor moves between nested bars
        return [part.strip() for part in re.split(r"[\r\n]", text)
                if part.strip().startswith(label)]


def run_cli(args: list[str], *, terminal: bool) -> Run:
    """``python -m swxsoc_reach ARGS`` with stderr on a pseudo-terminal (120x40) or a pipe."""
    command = [sys.executable, "-m", "swxsoc_reach", *args]
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, timeout=DEADLINE_S,
                              check=False)
        return Run(done.returncode, done.stdout, done.stderr)
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=slave)
    os.close(slave)
    received = bytearray()
    deadline = time.monotonic() + DEADLINE_S
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                block = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end of the terminal
                break
            if not block:
                break
            received += block
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
        out = process.stdout.read().decode() if process.stdout else ""
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
    return Run(code, out, received.decode(errors="replace"))


@pytest.fixture
def udl(udl_server: UdlServer) -> UdlServer:
    """The local UDL server serving small REACH-135 days (90 % gaps keep runs quick)."""
    udl_server.configure(ServerConfig(data=SyntheticOptions(sensor_id=SENSOR, gap_fraction=0.9),
                                      auth=TEST_CREDENTIAL))
    return udl_server


def download_args(udl: UdlServer, out: Path, end: str = "2026-01-02", *extra: str) -> list[str]:
    return ["download", "--start-date", "2026-01-01", "--end-date", end, "--sensor-id", SENSOR,
            "--output-dir", str(out), "--udl-url", udl.url, *extra]


def records_of(telemetry: Path, day: str) -> int:
    state = TelemetryStore(telemetry).state()
    row = state.get(day, SENSOR, "QUICKLOOK")
    assert row is not None and row.status is Status.DOWNLOADED
    return int(row.records_downloaded)


def test_progress_download_on_a_terminal_shows_days_and_chunks(udl: UdlServer,
                                                               tmp_path: Path) -> None:
    run = run_cli(download_args(udl, tmp_path / "raw", "2026-01-02", "-v"), terminal=True)
    assert run.code == 0, run.err
    days = run.frames("download:")
    assert days[-1].startswith("download: 100%") and "| 2/2 [" in days[-1]
    assert "DOWNLOADED 2" in days[-1]
    assert any(re.search(r"\| 1/2 \[\d\d:\d\d<\d\d:\d\d", frame) for frame in days)  # an ETA
    for day in ("2026-01-01", "2026-01-02"):
        chunks = run.frames(f"{day} chunks:")
        assert "| 4/4 [" in chunks[-1]  # REACH-135: four 6-hour windows
        records = records_of(tmp_path / "raw" / "download_telemetry.csv", day)
        assert re.search(rf"{records:,} records, \d+\.\d req/s, 0 x 429\]$", chunks[-1])
    # the -v log lines print above the bars: each one whole on its own line
    logged = [line for line in re.split(r"[\r\n]", run.err) if " INFO " in line]
    assert len(logged) >= 2 and all(LOG_LINE.match(line.strip()) for line in logged)


def test_progress_chunk_bar_counts_the_days_429s(udl: UdlServer, tmp_path: Path) -> None:
    udl.configure(rate_limit=1.0, burst=1.0)  # four windows at 5 req/s: some are refused
    run = run_cli(download_args(udl, tmp_path / "raw", "2026-01-01"), terminal=True)
    assert run.code == 0, run.err
    refused = udl.stats()["counters"].get("status_429", 0)
    assert refused > 0
    assert run.frames("2026-01-01 chunks:")[-1].endswith(f", {refused} x 429]")


def test_progress_process_on_a_terminal_shows_days(input_dirs) -> None:
    raw, out = input_dirs([dt.date(2026, 1, d) for d in (1, 2, 3)], SENSOR, hours=0.2)
    run = run_cli(["process", "--start-date", "2026-01-01", "--end-date", "2026-01-03",
                   "--sensor-id", SENSOR, "--input-dir", str(raw), "--output-dir", str(out)],
                  terminal=True)
    assert run.code == 0, run.err
    frames = run.frames("process:")
    assert "| 3/3 [" in frames[-1] and "PROCESSED 3" in frames[-1]
    assert "process: 3 days planned: 3 PROCESSED, 0 skipped" in run.out


def test_progress_no_bars_when_stderr_is_piped(udl: UdlServer, tmp_path: Path) -> None:
    run = run_cli(download_args(udl, tmp_path / "raw", "2026-01-02", "-v"), terminal=False)
    assert run.code == 0, run.err
    assert "\r" not in run.err and "%|" not in run.err and "chunks:" not in run.err
    lines = run.err.splitlines()
    assert lines and all(LOG_LINE.match(line) for line in lines)


def test_progress_no_bars_on_a_terminal_under_quiet(udl: UdlServer, tmp_path: Path) -> None:
    run = run_cli(download_args(udl, tmp_path / "raw", "2026-01-02", "--quiet"), terminal=True)
    assert run.code == 0, run.err
    assert run.err == "" and run.out == ""


def test_progress_day_bar_shows_the_range_eta_from_measured_days(udl: UdlServer,
                                                                 tmp_path: Path) -> None:
    from swxsoc_reach.views.eta import duration

    raw = tmp_path / "raw"
    assert run_cli(download_args(udl, raw, "2026-01-01", "-q"), terminal=False).code == 0
    row = TelemetryStore(raw / "download_telemetry.csv").state().get_download(
        "2026-01-01", SENSOR, "QUICKLOOK")
    measured = float(row.download_seconds)
    run = run_cli(["download", "--start-date", "2026-01-02", "--end-date", "2026-01-04",
                   "--sensor-id", SENSOR, "--output-dir", str(raw), "--udl-url", udl.url],
                  terminal=True)
    assert run.code == 0, run.err
    frames = run.frames("download:")
    # before the first day ends: three days at the telemetry's measured seconds per day
    first = next(f for f in frames if "range ETA" in f)  # (tqdm draws one frame before)
    assert "| 0/3 [" in first and f"range ETA {duration(3 * measured)}" in first
    # it moves while a day's chunks land, and ends at zero
    etas = {re.search(r"range ETA ([^,\]]+)", f).group(1) for f in frames if "range ETA" in f}
    assert len(etas) > 2
    assert "range ETA 0.0 s" in frames[-1] and "| 3/3 [" in frames[-1]
