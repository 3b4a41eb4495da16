"""Trouble outside the day loop is one clear line and the documented exit code, never a
traceback: a plot or PNG path that cannot be written, a date that names no day; and
``-q`` leaves out what its help says (issue 9.9)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import apt_install

from swxsoc_reach.paths import day_cdf_path, quicklook_path

SENSOR = "REACH-135"
DAY = dt.date(2026, 5, 1)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process: what an operator's terminal shows."""
    return subprocess.run([sys.executable, "-m", "swxsoc_reach", *args], capture_output=True,
                          text=True, timeout=300)


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, *parts: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("swxsoc_reach: error: ")
    for part in parts:
        assert part in lines[0]


@pytest.fixture
def cdf(input_dirs) -> Path:
    """One short day processed for real: its CDF and the telemetry beside the artifact."""
    raw, out = input_dirs([DAY], SENSOR)
    done = cli("process", "--start-date", DAY.isoformat(), "--end-date", DAY.isoformat(),
               "--sensor-id", SENSOR, "--input-dir", str(raw), "--output-dir", str(out))
    assert done.returncode == 0, done.stderr
    return day_cdf_path(out, DAY, SENSOR)


@pytest.fixture
def immutable_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory even root cannot write into (``chattr +i``; permission bits do not stop
    root), made writable again afterwards."""
    if shutil.which("chattr") is None:
        apt_install("e2fsprogs")
    directory = tmp_path / "locked"
    directory.mkdir()
    subprocess.run(["chattr", "+i", str(directory)], check=True)
    yield directory
    subprocess.run(["chattr", "-i", str(directory)], check=True)


def test_status_plot_under_a_regular_file_is_a_usage_error(cdf, tmp_path) -> None:
    telemetry = tmp_path / "raw" / "download_telemetry.csv"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    result = cli("status", "--telemetry-file", str(telemetry), "--plot", str(blocker / "s.png"))
    assert_one_line(result, 2, f"--plot {blocker / 's.png'}", "is not a directory")


def test_quicklook_into_a_read_only_directory_is_one_line(cdf, immutable_dir) -> None:
    result = cli("quicklook", str(cdf), "-o", str(immutable_dir / "day.png"))
    assert_one_line(result, 2, f"--output {immutable_dir / 'day.png'}", "not writable")
    assert not any(immutable_dir.iterdir())


def test_quicklook_to_a_read_only_default_place_is_one_line(cdf, tmp_path) -> None:
    place = quicklook_path(cdf).parent  # the about tree's day directory (its summary is there)
    subprocess.run(["chattr", "+i", str(place)], check=True)
    try:
        result = cli("quicklook", str(cdf))
    finally:
        subprocess.run(["chattr", "-i", str(place)], check=True)
    assert_one_line(result, 1, "Operation not permitted", str(place))


def _range_flags(command: str, tmp_path: Path) -> list[str]:
    """What else ``command`` requires beside the dates."""
    return {"download": ["--output-dir", str(tmp_path)],
            "process": ["--input-dir", str(tmp_path), "--output-dir", str(tmp_path)],
            "audit": ["--telemetry-file", str(tmp_path / "telemetry.csv")]}[command]


@pytest.mark.parametrize("command", ["download", "process", "audit"])
@pytest.mark.parametrize("day", ["2025-02-30", "2025-13-01"])
def test_a_date_that_names_no_day_is_told_as_such(tmp_path, command, day) -> None:
    where = _range_flags(command, tmp_path)
    result = cli(command, "--start-date", day, "--end-date", "2025-12-31", *where)
    assert_one_line(result, 2, f"start date '{day}' is not a real date")
    assert "form" not in result.stderr


@pytest.mark.parametrize("command", ["download", "process", "audit"])
def test_an_end_before_the_start_is_a_usage_error(tmp_path, command) -> None:
    result = cli(command, "--start-date", "2025-09-03", "--end-date", "2025-09-01",
                 *_range_flags(command, tmp_path))
    assert_one_line(result, 2, "end date 2025-09-01 is before start date 2025-09-03")


def test_quiet_process_prints_nothing_when_all_is_well(input_dirs) -> None:
    raw, out = input_dirs([DAY], SENSOR)
    result = cli("process", "--start-date", DAY.isoformat(), "--end-date", DAY.isoformat(),
                 "--sensor-id", SENSOR, "--input-dir", str(raw), "--output-dir", str(out), "-q")
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")


def test_quiet_does_what_its_help_says_for_quicklook_and_status(cdf, tmp_path) -> None:
    png = tmp_path / "day.png"
    drawn = cli("quicklook", str(cdf), "-o", str(png), "-q")
    assert (drawn.returncode, drawn.stdout, drawn.stderr) == (0, "", "")
    assert png.is_file()
    plot = tmp_path / "status.png"
    report = cli("status", "--telemetry-file", str(tmp_path / "raw" / "download_telemetry.csv"),
                 "--plot", str(plot), "-q")
    assert report.returncode == 0, report.stderr
    assert "plot:" not in report.stderr and plot.is_file()
    for command, says in (("quicklook", "print each PNG's path"), ("status", '"plot: FILE"'),
                          ("process", "no progress bars and no summary line")):
        assert says in " ".join(cli(command, "--help").stdout.split())
