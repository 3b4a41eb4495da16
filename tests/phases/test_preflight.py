"""Issue 9.4: check before work, stop on systemic faults, through the real CLI.

The output directory is checked before any day (exit 2); free space before each day,
on a real small tmpfs (mounted here: the tests run as root; skipped where mounting is
not allowed); a streak of days failing the same systemic way stops the range.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.errors import CdfError, InputDataError, UdlUnavailableError
from swxsoc_reach.mission import expected_records
from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.phases.diskneed import download_need, process_need
from swxsoc_reach.phases.preflight import FaultStreak, cause_of_row, error_type_of
from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.views.quicklook import quicklook_path

SENSOR = "REACH-135"
DAYS = [dt.date(2026, 5, 1) + dt.timedelta(days=n) for n in range(5)]
WRONG = "Basic d3Jvbmc6d3Jvbmc="  # refused with HTTP 401 at once
MIB = 1024 * 1024
PAGE = 4096  # a tmpfs is sized in pages


def process(raw: Path, out: Path, *extra: str, days: int = 3) -> int:
    return main(["process", "--start-date", DAYS[0].isoformat(), "--end-date",
                 DAYS[days - 1].isoformat(), "--sensor-id", SENSOR, "--input-dir", str(raw),
                 "--output-dir", str(out), *extra])


def download(server, out: Path, *extra: str, days: int = 1) -> int:
    return main(["download", "--start-date", DAYS[0].isoformat(), "--end-date",
                 DAYS[days - 1].isoformat(), "--sensor-id", SENSOR, "--output-dir", str(out),
                 "--udl-url", server.url, "--initial-rate", "50", "--max-rate", "200", *extra])


def rows(telemetry: Path) -> list[Row]:
    return TelemetryStore(telemetry).read()


Mount = Callable[..., Path]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Mount]:
    """Factory: a real tmpfs of ``size`` mounted under tmp_path (unmounted afterwards)."""
    mounted: list[Path] = []

    def mount(name: str, size: str, *options: str) -> Path:
        point = tmp_path / name
        point.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join((f"size={size}",
                                 *options)), "tmpfs", str(point)], capture_output=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", str(point)], check=True)


def test_process_output_dir_that_cannot_take_files_is_a_usage_error(input_dirs, tmp_path,
                                                                    tmpfs, capsys) -> None:
    raw, _ = input_dirs(DAYS[:3], SENSOR, hours=0.1)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    read_only = tmpfs("ro", "1m", "ro")
    for out, message in ((blocker, f"output directory {blocker} exists and is not a directory"),
                         (blocker / "cdf", f"output directory {blocker / 'cdf'} is not writable"),
                         (read_only, f"output directory {read_only} is not writable: "
                          "Read-only file system")):
        assert process(raw, out) == 2
        err = capsys.readouterr().err
        assert err.startswith("swxsoc_reach: error: ") and message in err
        assert "Traceback" not in err
    assert not (raw / "download_telemetry.csv").exists()  # no day was touched


def test_process_stops_before_a_day_the_disk_has_no_room_for(input_dirs, tmpfs, capsys) -> None:
    """Day 1 done on a roomy disk; then ballast leaves less than a day needs: day 2 stops
    the range with path, free and needed, and days 2-3 get no row."""
    raw, _ = input_dirs(DAYS[:3], SENSOR, hours=0.5)
    out = tmpfs("cdf", "4m")
    telemetry = raw / "download_telemetry.csv"
    assert process(raw, out, days=1) == 0
    ballast = out / "ballast"
    free = os.statvfs(out).f_bavail * os.statvfs(out).f_frsize
    ballast.write_bytes(b"\0" * (free - 512 * 1024))
    before = rows(telemetry)
    capsys.readouterr()
    assert process(raw, out) == 1
    err = capsys.readouterr().err
    assert f"2026-05-02 process: CDF: not enough free space in {out}: 0.5 MiB free" in err
    assert "MiB needed" in err and "Traceback" not in err
    assert rows(telemetry) == before  # days 2 and 3 untouched
    assert not day_cdf_path(out, DAYS[1], SENSOR).exists()
    ballast.unlink()
    assert process(raw, out) == 0  # room again: the same command finishes the range
    assert day_cdf_path(out, DAYS[2], SENSOR).is_file()


def test_download_stops_when_the_disk_cannot_hold_a_day(udl_server, tmpfs, tmp_path,
                                                       capsys) -> None:
    out = tmpfs("raw", "8m")  # a REACH-135 day needs ~34 MiB of spools and artifact
    telemetry = tmp_path / "telemetry.csv"
    assert download(udl_server, out, "--telemetry-file", str(telemetry), days=2) == 1
    err = capsys.readouterr().err
    assert f"2026-05-01 download: artifact: not enough free space in {out}" in err
    assert not telemetry.exists() and udl_server.stats()["counters"].get("requests", 0) == 0


def test_download_stops_after_three_days_refused_the_same_way(udl_server, tmp_path,
                                                              monkeypatch, capsys) -> None:
    monkeypatch.setenv("BASICAUTH", WRONG)
    assert download(udl_server, tmp_path, days=5) == 1
    telemetry = rows(tmp_path / "download_telemetry.csv")
    failed = [r.chunk_date_utc for r in telemetry if r.status is Status.FAILED]
    assert failed == [d.isoformat() for d in DAYS[:3]]
    assert {r.chunk_date_utc for r in telemetry} == {d.isoformat() for d in DAYS[:3]}
    captured = capsys.readouterr()
    stops = [line for line in captured.err.splitlines() if line.startswith("swxsoc_reach: ")]
    assert len(stops) == 1
    assert ("swxsoc_reach: error: stopped after 3 days in a row failed "
            "the same way (UdlUnavailableError): UDL answered HTTP 401") in stops[0]
    assert "rerun with --retry-failed" in stops[0]
    assert "stopped early, 2 days not reached" in captured.out


def test_process_upload_stops_after_three_days_the_bucket_refuses(input_dirs, s3_server,
                                                                  capsys) -> None:
    raw, out = input_dirs(DAYS[:4], SENSOR, hours=0.1)
    code = process(raw, out, "--upload-to-s3", "--s3-bucket", "no-such-bucket", days=4)
    assert code == 1
    telemetry = rows(raw / "download_telemetry.csv")
    failed = [(r.chunk_date_utc, r.error_type) for r in telemetry if r.status is Status.FAILED]
    assert failed == [(d.isoformat(), "UploadUnavailableError") for d in DAYS[:3]]
    assert DAYS[3].isoformat() not in {r.chunk_date_utc for r in telemetry}
    err = capsys.readouterr().err
    assert "stopped after 3 days in a row failed the same way (UploadUnavailableError)" in err
    assert "bucket no-such-bucket does not exist" in err


def test_a_day_runs_on_a_disk_of_its_measured_need_and_one_page_less_is_refused(
        udl_server, tmpfs, tmp_path, capsys) -> None:
    """Issue 19.3: a full zstd REACH-135 day downloads on a tmpfs of exactly what the check
    asks (``diskneed``: the measured peak and its margin) and processes (with its PNG) on
    another; on a tmpfs one page smaller each stage is refused before any row or request.
    The old check asked 34.8 MiB for that download and 5.2 MiB for that process."""
    records = expected_records(SENSOR)
    need = {"download": download_need(SENSOR, "csv", "zstd"), "process": process_need(records)}
    assert need["download"] < 6 * MIB and need["process"] < 2 * MIB
    telemetry, untouched = tmp_path / "telemetry.csv", tmp_path / "untouched.csv"
    raw = tmpfs("raw", str(need["download"]))
    assert download(udl_server, raw, "--telemetry-file", str(telemetry),
                    "--artifact-compression", "zstd") == 0
    (row,) = [r for r in rows(telemetry) if r.status is Status.DOWNLOADED]
    assert int(row.records_downloaded) == records  # a full day
    shutil.copy(telemetry, untouched)
    before = rows(untouched)
    cdf = tmpfs("cdf", str(need["process"]))
    assert process(raw, cdf, "--telemetry-file", str(telemetry), "--quicklook", days=1) == 0
    assert quicklook_path(day_cdf_path(cdf, DAYS[0], SENSOR)).is_file()

    requests = udl_server.stats()["counters"].get("requests", 0)
    small_raw, small_cdf = (tmpfs(name, str(need[stage] - PAGE)) for name, stage in
                            (("small-raw", "download"), ("small-cdf", "process")))
    capsys.readouterr()
    assert download(udl_server, small_raw, "--telemetry-file", str(tmp_path / "new.csv"),
                    "--artifact-compression", "zstd") == 1
    assert process(raw, small_cdf, "--telemetry-file", str(untouched), "--quicklook",
                   days=1) == 1
    err = capsys.readouterr().err
    assert f"2026-05-01 download: artifact: not enough free space in {small_raw}" in err
    assert f"2026-05-01 process: CDF: not enough free space in {small_cdf}" in err
    assert not (tmp_path / "new.csv").exists()
    assert udl_server.stats()["counters"].get("requests", 0) == requests
    assert rows(untouched) == before  # no PROCESS_PENDING


def test_failed_row_carries_its_systemic_cause_for_a_shared_streak() -> None:
    """Issue 19.2: the row alone says the fault was systemic (a wrapped full disk too), and
    a streak read back from rows says what the streak of the exceptions said."""
    full = OSError(errno.ENOSPC, "No space left on device")
    try:
        raise CdfError("cannot write the CDF") from full
    except CdfError as exc:
        wrapped = exc
    faults = [wrapped, OSError(errno.ENOSPC, "No space left on device"), wrapped]
    assert [error_type_of(exc) for exc in faults] == ["CdfError[ENOSPC]", "OSError[ENOSPC]",
                                                     "CdfError[ENOSPC]"]
    assert error_type_of(UdlUnavailableError("401")) == "UdlUnavailableError"
    assert error_type_of(InputDataError("bad")) == "InputDataError"
    from_exceptions, from_rows = FaultStreak(), FaultStreak()
    for exc in faults:
        expected = from_exceptions.record(exc)
        row = Row(status=Status.FAILED, error_type=error_type_of(exc), error_message=str(exc))
        assert from_rows.record_row(Row(status=Status.PROCESS_PENDING)) is None
        assert from_rows.record_row(row) == expected
    assert "(ENOSPC (No space left on device))" in expected
    assert cause_of_row(Row(status=Status.FAILED, error_type="InputDataError")) is None
    assert cause_of_row(Row(status=Status.FAILED, error_type="UploadUnavailableError")) == (
        "UploadUnavailableError")


def test_download_with_a_run_id_refuses_a_day_once_three_of_its_run_failed(
        udl_server, tmp_path, monkeypatch, capsys) -> None:
    """Issue 19.2: one process per day (a workflow's jobs) sharing a run id: the fourth
    day starts no request and writes no row; another run id (the next run) goes ahead."""
    monkeypatch.setenv("BASICAUTH", WRONG)
    telemetry = tmp_path / "download_telemetry.csv"

    def one_day(day: dt.date, run: str) -> int:
        return main(["download", "--start-date", day.isoformat(), "--end-date", day.isoformat(),
                     "--sensor-id", SENSOR, "--output-dir", str(tmp_path), "--udl-url",
                     udl_server.url, "--run-id", run])

    assert [one_day(day, "run-1") for day in DAYS[:3]] == [1, 1, 1]
    before, requests = telemetry.read_bytes(), udl_server.stats()["counters"]["requests"]
    capsys.readouterr()
    assert one_day(DAYS[3], "run-1") == 1
    assert telemetry.read_bytes() == before
    assert udl_server.stats()["counters"]["requests"] == requests
    assert ("swxsoc_reach: error: stopped after 3 days in a row failed the same way "
            "(UdlUnavailableError)") in capsys.readouterr().err
    assert one_day(DAYS[3], "run-2") == 1  # a new run starts its own streak
    assert rows(telemetry)[-1].chunk_date_utc == DAYS[3].isoformat()
