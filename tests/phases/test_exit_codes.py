"""Issue 9.2: failures stay visible. A rerun that skips days an earlier run left FAILED
exits 1 and says so on its summary line with the flag to use; ``status`` counts the
failed days on its summary line and ``status --check`` answers "is this range
complete?" by exit code. All through the real CLI, against the local UDL server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL

SENSOR = "REACH-135"
DAYS = (dt.date(2026, 4, 1), dt.date(2026, 4, 2))
WRONG = "Basic d3Jvbmc6d3Jvbmc="  # refused with HTTP 401 at once: no retries to wait for


def download(server, raw: Path, *extra: str, end: dt.date = DAYS[-1]) -> int:
    return main(["download", "--start-date", DAYS[0].isoformat(), "--end-date", end.isoformat(),
                 "--sensor-id", SENSOR, "--output-dir", str(raw), "--udl-url", server.url,
                 "--initial-rate", "50", "--max-rate", "200", *extra])


def status(raw: Path, *extra: str) -> int:
    return main(["status", "--telemetry-file", str(raw / "download_telemetry.csv"),
                 "--start-date", DAYS[0].isoformat(), "--end-date", DAYS[-1].isoformat(),
                 *extra])


@pytest.fixture
def failed_day(udl_server, tmp_path, monkeypatch) -> Path:
    """Day 1 downloaded, day 2 FAILED (its credential refused), in ``raw``."""
    raw = tmp_path / "raw"
    assert download(udl_server, raw, end=DAYS[0]) == 0
    monkeypatch.setenv("BASICAUTH", WRONG)
    assert download(udl_server, raw) == 1
    monkeypatch.setenv("BASICAUTH", TEST_CREDENTIAL)
    latest = TelemetryStore(raw / "download_telemetry.csv").state()
    assert latest.get(DAYS[1].isoformat(), SENSOR, "QUICKLOOK").status is Status.FAILED
    return raw


def test_download_rerun_over_a_day_left_failed_exits_1_naming_the_flag(failed_day, udl_server,
                                                                        capsys) -> None:
    capsys.readouterr()
    udl_server.reset_stats()
    assert download(udl_server, failed_day) == 1  # nothing attempted, and still not success
    assert udl_server.stats()["counters"].get("requests", 0) == 0
    summary = capsys.readouterr().out
    assert ("download: 2 days planned: 2 skipped; 1 day FAILED (1 in an earlier run): fix the "
            "cause, then rerun with --retry-failed") in summary
    assert download(udl_server, failed_day, "--retry-failed") == 0


def test_process_rerun_over_a_failed_download_exits_1_and_writes_no_row(failed_day, tmp_path,
                                                                        capsys) -> None:
    """The failed download has no artifact: process leaves it FAILED (no SKIPPED_NO_INPUT row
    hiding it), processes the other day, and exits 1."""
    before = len(TelemetryStore(failed_day / "download_telemetry.csv").read())
    capsys.readouterr()
    code = main(["process", "--start-date", DAYS[0].isoformat(), "--end-date",
                 DAYS[-1].isoformat(), "--sensor-id", SENSOR, "--input-dir", str(failed_day),
                 "--output-dir", str(tmp_path / "cdf")])
    assert code == 1
    rows = TelemetryStore(failed_day / "download_telemetry.csv").read()[before:]
    assert [(r.chunk_date_utc, r.status) for r in rows] == [
        (DAYS[0].isoformat(), Status.PROCESS_PENDING), (DAYS[0].isoformat(), Status.PROCESSED)]
    assert "1 PROCESSED, 1 skipped; 1 day FAILED (1 in an earlier run)" in capsys.readouterr().out


def test_status_counts_failed_days_and_check_answers_by_exit_code(failed_day, udl_server,
                                                                  capsys) -> None:
    capsys.readouterr()
    assert status(failed_day) == 0  # a report, not a verdict, without --check
    assert status(failed_day, "--check") == 1
    first_line = capsys.readouterr().out.split("\n\n")[-1].splitlines()[0]
    assert first_line.endswith("; 1 failed")
    assert download(udl_server, failed_day, "--retry-failed") == 0
    assert status(failed_day, "--check") == 1  # downloaded, not processed: not complete


def test_status_check_is_0_for_a_complete_range_with_a_no_data_day(udl_server, tmp_path,
                                                                   capsys) -> None:
    raw, cdf = tmp_path / "raw", tmp_path / "cdf"
    udl_server.configure(empty_days=frozenset({DAYS[1]}))
    assert download(udl_server, raw) == 0
    assert status(raw, "--check") == 1  # day 1 not processed yet
    assert main(["process", "--start-date", DAYS[0].isoformat(), "--end-date",
                 DAYS[-1].isoformat(), "--sensor-id", SENSOR, "--input-dir", str(raw),
                 "--output-dir", str(cdf)]) == 0
    capsys.readouterr()
    assert status(raw, "--check") == 0
    assert "; 0 failed" in capsys.readouterr().out
    # a day of the range never started is not complete
    assert main(["status", "--telemetry-file", str(raw / "download_telemetry.csv"),
                 "--start-date", DAYS[0].isoformat(), "--end-date", "2026-04-03",
                 "--check"]) == 1
