"""``kill -9`` of a running ``process`` at arbitrary moments, then a rerun: every day
ends complete and correctly recorded, and no file is ever half-written under its name."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cdflib
import pytest

from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.synthetic import SyntheticOptions, write_artifact
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore

SENSOR = "REACH-135"
DAYS = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(4)]


def _count_rows(path: Path) -> int:
    return max(0, len(path.read_bytes().splitlines()) - 1) if path.exists() else 0


def _command(raw: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "swxsoc_reach", "process", "--start-date",
            DAYS[0].isoformat(), "--end-date", DAYS[-1].isoformat(), "--sensor-id", SENSOR,
            "--input-dir", str(raw), "--output-dir", str(out)]


@pytest.mark.parametrize("kill_after_rows", [1, 2, 3, 6])
def test_process_kill9_then_rerun_completes_every_day(tmp_path: Path, kill_after_rows) -> None:
    raw, out = tmp_path / "raw", tmp_path / "out"
    for day in DAYS:
        write_artifact(raw, day, SyntheticOptions(sensor_id=SENSOR), hours=3)
    telemetry = raw / "download_telemetry.csv"
    child = subprocess.Popen(_command(raw, out), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _count_rows(telemetry) < kill_after_rows and child.poll() is None:
        assert time.monotonic() < deadline, "process never reached the kill point"
        time.sleep(0.005)  # polling a condition, not waiting for luck
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert _count_rows(telemetry) >= kill_after_rows

    # whatever exists under a final CDF name is complete
    for cdf in out.rglob("*.cdf"):
        assert cdflib.CDF(str(cdf)).varinq("dose_rate").Dim_Sizes

    rerun = subprocess.run(_command(raw, out), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    state = TelemetryStore(telemetry).state()
    for day in DAYS:
        latest = state.get(day.isoformat(), SENSOR, "QUICKLOOK")
        assert latest is not None and latest.status is Status.PROCESSED
        cdf = day_cdf_path(out, day, SENSOR)
        assert Path(latest.cdf_path) == cdf.resolve()
        epochs = cdflib.CDF(str(cdf)).varget("Epoch")
        assert len(epochs) == 3 * 720  # 3 hours at 5 s: the whole input came through
    rows = TelemetryStore(telemetry).read()
    assert all(r.status is not Status.FAILED for r in rows)
