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
from swxsoc_reach.telemetry.daylock import LOCK_DIR
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


def wait_mid_day(child: subprocess.Popen, server: UdlServerProcess, telemetry: Path,
                 day_number: int) -> None:
    """Return once day ``day_number`` is pending and three of its requests were answered."""
    deadline = time.monotonic() + 120

    def wait_for(condition) -> None:
        while not condition():
            assert child.poll() is None, "download ended before the kill point"
            assert time.monotonic() < deadline, "download never reached the kill point"
            time.sleep(0.02)  # polling a condition, under a deadline

    wait_for(lambda: pending_days(telemetry) >= day_number)
    started = requests(server)
    wait_for(lambda: requests(server) >= started + 3)


@pytest.mark.parametrize("kill_in_day", [1, 2])
def test_download_kill9_mid_day_then_rerun_completes_every_day(slow_udl_server, tmp_path,
                                                              kill_in_day) -> None:
    out = tmp_path / "raw"
    telemetry = out / "download_telemetry.csv"
    env = {**os.environ, "BASICAUTH": TEST_CREDENTIAL}
    child = subprocess.Popen(command(slow_udl_server, out), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_mid_day(child, slow_udl_server, telemetry, kill_in_day)
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
        [artifact_name(day, SENSOR, "csv") for day in DAYS] + ["download_telemetry.csv", LOCK_DIR])
    assert all(r.status is not Status.FAILED for r in TelemetryStore(telemetry).read())


def decoders_started(child: subprocess.Popen) -> None:
    """Return as soon as the download has spawned its page decoders (still importing)."""
    deadline = time.monotonic() + 60
    while not psutil.Process(child.pid).children(recursive=True):
        assert child.poll() is None and time.monotonic() < deadline, "no decoder started"
        time.sleep(0.001)  # polling a condition, under a deadline


@pytest.mark.parametrize("moment", ["decoders starting", "mid-day"])
def test_download_ctrl_c_prints_only_the_resume_hint(slow_udl_server, tmp_path,
                                                      moment) -> None:
    """Ctrl-C reaches the whole foreground process group, page decoders included: one
    line, exit 130, no worker's KeyboardInterrupt traceback; the rerun completes."""
    out = tmp_path / "raw"
    env = {**os.environ, "BASICAUTH": TEST_CREDENTIAL}
    child = subprocess.Popen(command(slow_udl_server, out), env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    if moment == "mid-day":
        wait_mid_day(child, slow_udl_server, out / "download_telemetry.csv", 1)
    decoders_started(child)
    os.killpg(child.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130
    assert err.strip() == "swxsoc_reach: interrupted; rerun the same command to resume"
    rerun = subprocess.run(command(slow_udl_server, out), env=env, capture_output=True,
                           text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr


DECODERS = """
import time
from swxsoc_reach.udl.day import open_decoders
try:
    open_decoders(4)
    time.sleep(60)  # never reached: the test sends Ctrl-C while the decoders start
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_while_page_decoders_start_leaves_no_worker_traceback() -> None:
    """The narrowest window: Ctrl-C as the first helper process appears, while the
    decoders are being launched (a worker cut off there printed EOFError, one still
    importing a KeyboardInterrupt traceback)."""
    for _ in range(8):
        child = subprocess.Popen([sys.executable, "-c", DECODERS], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)
        decoders_started(child)
        os.killpg(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=60)
        assert out == "interrupted\n"
        assert err == ""
