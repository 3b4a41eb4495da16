"""``kill -9`` of a running ``download`` (a real process) mid-day, then a rerun of the same
command: every day ends complete, each record once, no half file under a final name, no
temporary file and no worker process left behind (historical-download.md "Operator
runbook")."""

from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from swxsoc_reach.paths import artifact_name
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.udl_server import (
    TEST_CREDENTIAL,
    UdlServerProcess,
    start_udl_server_process,
)

SENSOR = "REACH-135"
DAYS = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(3)]


@pytest.fixture(scope="module")
def slow_udl_server() -> Iterator[UdlServerProcess]:
    """A server process whose answers are small and slow, so a day takes many requests."""
    server = start_udl_server_process("--sensor-id", SENSOR, "--auth", TEST_CREDENTIAL,
                                      "--cap", "1500", "--latency", "0.1", timeout_s=120)
    try:
        yield server
    finally:
        server.stop()


def command(server: UdlServerProcess, out: Path) -> list[str]:
    return [sys.executable, "-m", "swxsoc_reach", "download", "--start-date",
            DAYS[0].isoformat(), "--end-date", DAYS[-1].isoformat(), "--sensor-id", SENSOR,
            "--output-dir", str(out), "--udl-url", server.url, "--initial-rate", "10"]


def requests(server: UdlServerProcess) -> int:
    return server.stats()["counters"].get("requests", 0)


def pending_days(telemetry: Path) -> int:
    if not telemetry.exists():
        return 0
    return sum(r.status is Status.DOWNLOAD_PENDING for r in TelemetryStore(telemetry).read())


@pytest.mark.parametrize("kill_in_day", [1, 2])
def test_download_kill9_mid_day_then_rerun_completes_every_day(slow_udl_server, tmp_path,
                                                              kill_in_day) -> None:
    out = tmp_path / "raw"
    telemetry = out / "download_telemetry.csv"
    env = {**os.environ, "BASICAUTH": TEST_CREDENTIAL}
    child = subprocess.Popen(command(slow_udl_server, out), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120

    def wait_for(condition) -> None:
        while not condition():
            assert child.poll() is None, "download ended before the kill point"
            assert time.monotonic() < deadline, "download never reached the kill point"
            time.sleep(0.02)  # polling a condition, under a deadline

    # kill once the day is pending and three of its requests have been answered
    wait_for(lambda: pending_days(telemetry) >= kill_in_day)
    started = requests(slow_udl_server)
    wait_for(lambda: requests(slow_udl_server) >= started + 3)
    helpers = psutil.Process(child.pid).children(recursive=True)  # page decoders
    assert helpers
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    _, alive = psutil.wait_procs(helpers, timeout=15)
    assert not alive, "worker processes outlived the killed download"
    state = TelemetryStore(telemetry).state()
    killed = DAYS[kill_in_day - 1]
    assert state.get(killed.isoformat(), SENSOR, "QUICKLOOK").status is Status.DOWNLOAD_PENDING
    assert not (out / artifact_name(killed, SENSOR, "csv")).exists()
    assert any(p.name.startswith(".") for p in out.iterdir())  # the killed day's spool

    rerun = subprocess.run(command(slow_udl_server, out), env=env, capture_output=True,
                           text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    state = TelemetryStore(telemetry).state()
    for day in DAYS:
        assert state.get(day.isoformat(), SENSOR, "QUICKLOOK").status is Status.DOWNLOADED
        with open(out / artifact_name(day, SENSOR, "csv"), newline="") as fh:
            ids = [row["id"] for row in csv.DictReader(fh)]
        assert ids == slow_udl_server.day_ids(day, SENSOR)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [artifact_name(day, SENSOR, "csv") for day in DAYS] + ["download_telemetry.csv"])
    assert all(r.status is not Status.FAILED for r in TelemetryStore(telemetry).read())
