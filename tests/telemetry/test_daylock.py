"""Per-day locks through the real CLI: a day another live process holds is skipped with
a message naming it, ``status`` tells it running from interrupted, two ``process`` runs
at once work each day once, and a run removes our own temporary leftovers (only those)."""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import cdflib
import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.telemetry.daylock import lock_path
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore

SENSOR = "REACH-135"
DAYS = [dt.date(2026, 4, 1) + dt.timedelta(days=i) for i in range(4)]
# Holds one day's lock and writes that day's PROCESS_PENDING row, as a worker would;
# says "ready", then holds until its stdin closes.
HOLDER = """
import datetime as dt, sys
from pathlib import Path
from swxsoc_reach.phases.dayloop import DayRecorder, DaySelection
from swxsoc_reach.telemetry.daylock import lock_path, try_lock
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
telemetry, day = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2])
lock = try_lock(lock_path(telemetry, day, "REACH-135", "QUICKLOOK"))
selection = DaySelection(day, day, telemetry, sensor_id="REACH-135")
DayRecorder(TelemetryStore(telemetry), "holder", day, selection).begin(Status.PROCESS_PENDING)
print("ready", flush=True)
sys.stdin.read()
"""


def process_args(raw: Path, out: Path, days: list[dt.date] = DAYS) -> list[str]:
    return ["process", "--start-date", days[0].isoformat(), "--end-date", days[-1].isoformat(),
            "--sensor-id", SENSOR, "--input-dir", str(raw), "--output-dir", str(out)]


def statuses(telemetry: Path, day: dt.date) -> list[Status]:
    return [r.status for r in TelemetryStore(telemetry).read()
            if r.chunk_date_utc == day.isoformat()]


def day_state(telemetry: Path, day: dt.date, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["status", "--telemetry-file", str(telemetry), "--format", "json"]) == 0
    days = json.loads(capsys.readouterr().out)["days"]
    return next(d["state"] for d in days if d["day"] == day.isoformat())


@pytest.fixture
def holder() -> Iterator[Callable[[Path, dt.date], subprocess.Popen[str]]]:
    """Start a process holding a day's lock; it ends when the test (or ``stop``) says."""
    started: list[subprocess.Popen[str]] = []

    def start(telemetry: Path, day: dt.date) -> subprocess.Popen[str]:
        child = subprocess.Popen([sys.executable, "-c", HOLDER, str(telemetry), day.isoformat()],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        started.append(child)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        return child

    yield start
    for child in started:
        child.kill()
        child.communicate()  # also closes its pipes


def test_daylock_day_held_by_a_live_process_is_skipped_naming_it(input_dirs, holder, capsys):
    raw, out = input_dirs(DAYS[:2], SENSOR)
    telemetry = raw / "download_telemetry.csv"
    child = holder(telemetry, DAYS[0])
    assert day_state(telemetry, DAYS[0], capsys) == "running now"

    assert main(process_args(raw, out, DAYS[:2])) == 0
    printed = capsys.readouterr()
    assert (f"{DAYS[0]} process: skipped: another process works on this day "
            f"({child.pid}@{socket.gethostname()} since ") in printed.err
    assert "1 days busy (another process works on them): rerun once it ends" in printed.out
    assert statuses(telemetry, DAYS[0]) == [Status.PROCESS_PENDING]  # the holder's row only
    assert statuses(telemetry, DAYS[1]) == [Status.PROCESS_PENDING, Status.PROCESSED]
    assert not day_cdf_path(out, DAYS[0], SENSOR).exists()

    child.kill()  # as kill -9 would: the OS drops its lock, no unlock step
    child.wait()
    assert day_state(telemetry, DAYS[0], capsys) == "interrupted"
    assert main(process_args(raw, out, DAYS[:2])) == 0
    assert statuses(telemetry, DAYS[0]) == [Status.PROCESS_PENDING, Status.PROCESS_PENDING,
                                            Status.PROCESSED]
    assert day_state(telemetry, DAYS[0], capsys) == "complete"


def test_daylock_two_process_runs_at_once_work_each_day_once(input_dirs) -> None:
    raw, out = input_dirs(DAYS, SENSOR)
    telemetry = raw / "download_telemetry.csv"
    command = [sys.executable, "-m", "swxsoc_reach", *process_args(raw, out)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    for code, _, err in results:
        assert code == 0, err
        assert "Traceback" not in err
    for day in DAYS:  # one attempt per day, by whichever run got there first
        assert statuses(telemetry, day) == [Status.PROCESS_PENDING, Status.PROCESSED], day
        epochs = cdflib.CDF(str(day_cdf_path(out, day, SENSOR))).varget("Epoch")
        assert len(epochs) == 360  # half an hour at 5 s: whole
    assert len({r.run_id for r in TelemetryStore(telemetry).read()}) in (1, 2)


def test_process_removes_only_our_leftover_temporary_files(input_dirs) -> None:
    raw, out = input_dirs(DAYS[:1], SENSOR)
    cdf = day_cdf_path(out, DAYS[0], SENSOR)
    cdf.parent.mkdir(parents=True)
    ours = [f".{cdf.name}.k3_9zq0a.part", f".{cdf.name}.a1b2c3d4.part.cdf"]  # killed writers
    theirs = [f".{cdf.name}.toolongname.part", f"{cdf.name}.a1b2c3d4.part", "notes.part",
              f".{cdf.name}.a1b2c3d4.partial", ".other.cdf.a1b2c3d4.part"]
    for name in ours + theirs:
        (cdf.parent / name).write_bytes(b"x")
    assert main(process_args(raw, out, DAYS[:1])) == 0
    # (the day's summary is in the about tree, not beside its CDF)
    assert sorted(p.name for p in cdf.parent.iterdir() if p.name != cdf.name) == sorted(theirs)
    assert lock_path(raw / "download_telemetry.csv", DAYS[0], SENSOR, "QUICKLOOK").is_file()
