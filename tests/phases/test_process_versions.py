"""A new product version over the same telemetry (l1c-cdf.md "Compression, provenance,
versions"): ``process --data-version 1.1.0`` after a 1.0.0 run reprocesses and re-uploads
every day under the new name and key, resumably (kill -9, same command), leaves the 1.0.0
files alone, and reruns as a no-op."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cdflib
import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.s3_server import MotoServer
from swxsoc_reach.upload.keys import s3_key

SENSOR = "REACH-135"
BUCKET = "dev-swxsoc-pipeline-incoming"
DAYS = [dt.date(2026, 4, 1) + dt.timedelta(days=k) for k in range(3)]


def command(raw: Path, out: Path, *extra: str) -> list[str]:
    return ["process", "--start-date", DAYS[0].isoformat(), "--end-date", DAYS[-1].isoformat(),
            "--sensor-id", SENSOR, "--input-dir", str(raw), "--output-dir", str(out),
            "--upload-to-s3", "--s3-bucket", BUCKET, *extra]


def row_count(telemetry: Path) -> int:
    return max(0, len(telemetry.read_bytes().splitlines()) - 1)


def test_process_new_data_version_reprocesses_and_reuploads_every_day_resumably(
    input_dirs, s3_server: MotoServer, capsys
) -> None:
    raw, out = input_dirs(DAYS, SENSOR, hours=0.25)
    telemetry = raw / "download_telemetry.csv"
    s3_server.client().create_bucket(Bucket=BUCKET)
    assert main(command(raw, out)) == 0  # the default version, 1.0.0
    old = {day: day_cdf_path(out, day, SENSOR, "1.0.0") for day in DAYS}
    old_files = {day: (path.read_bytes(), path.stat().st_mtime_ns) for day, path in old.items()}

    # 1.1.0, killed mid-range: once the first day is done and the second begun
    rows_before = row_count(telemetry)
    child = subprocess.Popen([sys.executable, "-m", "swxsoc_reach",
                              *command(raw, out, "--data-version", "1.1.0")],
                             env=s3_server.environ(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while row_count(telemetry) < rows_before + 5 and child.poll() is None:
        assert time.monotonic() < deadline, "the 1.1.0 run never reached the kill point"
        time.sleep(0.005)  # polling a condition
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert row_count(telemetry) >= rows_before + 5
    assert main(command(raw, out, "--data-version", "1.1.0")) == 0  # the same command

    client = s3_server.client()
    state = TelemetryStore(telemetry).state()
    for day in DAYS:
        new = day_cdf_path(out, day, SENSOR, "1.1.0")
        assert new.name == f"reach_135_l1c_prelim_{day:%Y%m%d}T000000_v1.1.0.cdf"
        latest = state.get(day.isoformat(), SENSOR, "QUICKLOOK")
        assert latest is not None and latest.status is Status.UPLOADED
        assert Path(latest.cdf_path) == new.resolve()
        assert latest.s3_key == s3_key(new.name) == f"l1c/prelim/{day:%Y/%m/%d}/{new.name}"
        stored = client.get_object(Bucket=BUCKET, Key=latest.s3_key)["Body"].read()
        assert stored == new.read_bytes()
        attrs = cdflib.CDF(str(new)).globalattsget()
        assert attrs["Data_version"] == ["1.1.0"]
        assert attrs["Logical_file_id"] == [new.name.removesuffix(".cdf")]
        # the 1.0.0 file and object stay where they are, untouched
        assert (old[day].read_bytes(), old[day].stat().st_mtime_ns) == old_files[day]
        assert client.get_object(Bucket=BUCKET, Key=s3_key(old[day].name))["Body"].read() == (
            old_files[day][0])
    assert client.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 2 * len(DAYS)

    # the same version again: nothing to do, not a row written
    written = telemetry.read_bytes()
    capsys.readouterr()
    assert main(command(raw, out, "--data-version", "1.1.0")) == 0
    assert telemetry.read_bytes() == written
    assert f"{len(DAYS)} skipped" in capsys.readouterr().out

    # status tells which version each day has
    assert main(["status", "--telemetry-file", str(telemetry), "--format", "json"]) == 0
    reported = json.loads(capsys.readouterr().out)["days"]
    assert [(d["day"], d["data_version"]) for d in reported] == [
        (day.isoformat(), "1.1.0") for day in DAYS]


@pytest.mark.parametrize("version", ["1.1", "v1.1.0", "1.1.0-rc1", ""])
def test_process_rejects_malformed_data_version_before_any_day(input_dirs, version,
                                                               capsys) -> None:
    raw, out = input_dirs(DAYS[:1], SENSOR, hours=0.1)
    assert main(["process", "--start-date", DAYS[0].isoformat(), "--end-date",
                 DAYS[0].isoformat(), "--sensor-id", SENSOR, "--input-dir", str(raw),
                 "--output-dir", str(out), "--data-version", version]) == 2
    assert (f"swxsoc_reach: error: data version {version!r} is not of the form X.Y.Z"
            in capsys.readouterr().err)
    assert not (raw / "download_telemetry.csv").exists() and not out.exists()
