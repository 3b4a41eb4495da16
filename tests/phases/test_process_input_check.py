"""Issue 9.1: an artifact that no longer holds what its DOWNLOADED row says is never a
complete day. A real download from the local UDL server, then the artifact cut or grown
at a line boundary, then ``process`` through the real CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.paths import artifact_name, day_cdf_path
from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import TelemetryStore

SENSOR = "REACH-135"
DAY = dt.date(2026, 3, 1)


@pytest.fixture
def raw(udl_server, tmp_path: Path) -> Path:
    """One real download of one sensor-day: the artifact and its DOWNLOADED row."""
    raw = tmp_path / "raw"
    assert _download(udl_server, raw) == 0
    return raw


def _download(server, raw: Path) -> int:
    return main(["download", "--start-date", DAY.isoformat(), "--end-date", DAY.isoformat(),
                 "--sensor-id", SENSOR, "--output-dir", str(raw), "--udl-url", server.url,
                 "--initial-rate", "50", "--max-rate", "200", "-q"])


def _artifact(raw: Path) -> Path:
    return raw / artifact_name(DAY, SENSOR, "csv")


def _rows(raw: Path) -> list[Row]:
    return TelemetryStore(raw / "download_telemetry.csv").read()


def _process(raw: Path, out: Path, *extra: str) -> int:
    return main(["process", "--start-date", DAY.isoformat(), "--end-date", DAY.isoformat(),
                 "--sensor-id", SENSOR, "--input-dir", str(raw), "--output-dir", str(out),
                 *extra])


@pytest.mark.parametrize(("change", "read"), [
    pytest.param(lambda lines: lines[:-1], 34559, id="cut-one-record"),
    pytest.param(lambda lines: [*lines, lines[-1]], 34561, id="one-record-more"),
])
def test_process_fails_a_day_whose_records_differ_from_its_download(raw, tmp_path, capsys,
                                                                   change, read) -> None:
    """The record count, counted as read (a repeated record would be dropped later as a
    duplicate). The row's size is blanked (as by a hand edit) so the cheaper size check,
    which a one-line change may slip under (csv_size_mb's rounding), is not what acts."""
    artifact, out = _artifact(raw), tmp_path / "cdf"
    done = _rows(raw)[-1]
    TelemetryStore(raw / "download_telemetry.csv").append(done.evolve(csv_size_mb="",
                                                                        artifact_sha256=""))
    lines = artifact.read_bytes().splitlines(keepends=True)
    artifact.write_bytes(b"".join(change(lines)))
    assert _process(raw, out) == 1
    last = _rows(raw)[-1]
    assert (last.status, last.error_type) == (Status.FAILED, "InputDataError")
    assert f"holds {read} records but its DOWNLOADED row" in last.error_message
    assert "says 34560" in last.error_message
    assert "Delete it and run download for the day again" in last.error_message
    assert not day_cdf_path(out, DAY, SENSOR).exists()
    assert "1 FAILED" in capsys.readouterr().out


def test_process_checks_the_size_first_and_recovers_after_a_new_download(raw, tmp_path,
                                                                        udl_server) -> None:
    """Cut mid-file at a line boundary: refused from its size, before reading; the
    runbook's recovery (delete, download again, process --retry-failed) completes the day."""
    artifact, out = _artifact(raw), tmp_path / "cdf"
    lines = artifact.read_bytes().splitlines(keepends=True)
    artifact.write_bytes(b"".join(lines[: len(lines) // 2]))
    assert _process(raw, out) == 1
    last = _rows(raw)[-1]
    assert last.status is Status.FAILED
    assert "MiB on disk but its DOWNLOADED row" in last.error_message
    assert not day_cdf_path(out, DAY, SENSOR).exists()

    artifact.unlink()
    assert _download(udl_server, raw) == 0
    assert _process(raw, out, "--retry-failed") == 0
    assert _rows(raw)[-1].status is Status.PROCESSED
    assert day_cdf_path(out, DAY, SENSOR).is_file()


def test_process_takes_an_artifact_without_a_download_row_as_it_is(raw, tmp_path) -> None:
    """Copied from elsewhere (no DOWNLOADED row names it): processed as before, short or not."""
    elsewhere = tmp_path / "copied"
    elsewhere.mkdir()
    lines = _artifact(raw).read_bytes().splitlines(keepends=True)
    _artifact(elsewhere).write_bytes(b"".join(lines[: len(lines) // 2]))
    assert _process(elsewhere, tmp_path / "cdf") == 0
    assert _rows(elsewhere)[-1].status is Status.PROCESSED
