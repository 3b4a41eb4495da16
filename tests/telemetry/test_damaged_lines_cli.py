"""Damaged telemetry lines through the real CLI (issue 17.7): each command that reads the
file (several times over) names each damaged line once, by its line number."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore

SENSOR = "REACH-135"
DAYS = [dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)]
RANGE = ["--start-date", DAYS[0].isoformat(), "--end-date", DAYS[-1].isoformat(),
         "--sensor-id", SENSOR]
DAMAGED = re.compile(r"download_telemetry\.csv:(\d+): skipped damaged line")


def damaged_lines(err: str) -> list[int]:
    """The line numbers the stderr of one command reports, one entry per report."""
    return [int(m[1]) for line in err.splitlines() if (m := DAMAGED.search(line))]


@pytest.fixture
def damaged(input_dirs, capsys) -> tuple[Path, Path, int]:
    """Three days processed, then a garbage line put in the middle of the telemetry and
    its last line (the last day's PROCESSED row) cut, as a crash or a full disk leaves it."""
    raw, out = input_dirs(DAYS, SENSOR)
    assert main(["process", *RANGE, "--input-dir", str(raw), "--output-dir", str(out)]) == 0
    telemetry = raw / "download_telemetry.csv"
    lines = telemetry.read_bytes().splitlines(keepends=True)
    assert len(lines) == 7  # header, then PROCESS_PENDING and PROCESSED per day
    lines.insert(3, b"\x00garbage, not a row\n")
    lines[-1] = lines[-1][:40]
    telemetry.write_bytes(b"".join(lines))
    capsys.readouterr()
    return raw, out, len(lines)


def test_each_command_reports_each_damaged_line_once(damaged, capsys, monkeypatch) -> None:
    raw, out, last = damaged
    telemetry = raw / "download_telemetry.csv"
    state = TelemetryStore(telemetry).state()  # the cut day falls back to its previous row
    assert state.get(DAYS[-1].isoformat(), SENSOR, "QUICKLOOK").status is Status.PROCESS_PENDING

    # process reads the file for its plan, again around each day it works on and at its end
    assert main(["process", *RANGE, "--input-dir", str(raw), "--output-dir", str(out),
                 "-v"]) == 0
    assert damaged_lines(capsys.readouterr().err) == [4, last]
    assert main(["status", "--telemetry-file", str(telemetry), *RANGE]) == 0
    assert damaged_lines(capsys.readouterr().err) == [4, last]
    monkeypatch.delenv("BASICAUTH", raising=False)  # a dry run needs no credentials
    assert main(["download", *RANGE, "--output-dir", str(raw), "--udl-url",
                 "http://127.0.0.1:9", "--dry-run"]) == 0
    assert damaged_lines(capsys.readouterr().err) == [4, last]
