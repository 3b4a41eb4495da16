"""``download`` then ``process`` over the same directory share one telemetry file, and
reruns of either, in either order, redo nothing (historical-download.md "Resume rules":
a day whose latest row is a Phase 2 status keeps its artifact and is not downloaded)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from swxsoc_reach.cli import main
from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore

SENSOR = "REACH-135"
DAYS = ("2026-01-01", "2026-01-02")


def download(server, raw: Path) -> int:
    return main(["download", "--start-date", DAYS[0], "--end-date", DAYS[1], "--sensor-id",
                 SENSOR, "--output-dir", str(raw), "--udl-url", server.url,
                 "--initial-rate", "50", "--max-rate", "200"])


def process(raw: Path, cdf: Path) -> int:
    return main(["process", "--start-date", DAYS[0], "--end-date", DAYS[1], "--sensor-id",
                 SENSOR, "--input-dir", str(raw), "--output-dir", str(cdf)])


def latest(raw: Path) -> list[Status]:
    state = TelemetryStore(raw / "download_telemetry.csv").state()
    return [state.get(day, SENSOR, "QUICKLOOK").status for day in DAYS]


def test_download_then_process_then_reruns_of_both_redo_nothing(udl_server, tmp_path) -> None:
    raw, cdf = tmp_path / "raw", tmp_path / "cdf"
    assert download(udl_server, raw) == 0
    assert process(raw, cdf) == 0
    assert latest(raw) == [Status.PROCESSED, Status.PROCESSED]
    for day in DAYS:
        assert day_cdf_path(cdf, dt.date.fromisoformat(day), SENSOR).is_file()
    telemetry = (raw / "download_telemetry.csv").read_bytes()
    udl_server.reset_stats()
    assert download(udl_server, raw) == 0
    assert process(raw, cdf) == 0
    assert download(udl_server, raw) == 0
    assert udl_server.stats()["counters"].get("requests", 0) == 0
    assert (raw / "download_telemetry.csv").read_bytes() == telemetry


def test_process_before_download_then_both_complete(udl_server, tmp_path) -> None:
    raw, cdf = tmp_path / "raw", tmp_path / "cdf"
    raw.mkdir()
    assert process(raw, cdf) == 0
    assert latest(raw) == [Status.SKIPPED_NO_INPUT, Status.SKIPPED_NO_INPUT]
    assert download(udl_server, raw) == 0
    assert latest(raw) == [Status.DOWNLOADED, Status.DOWNLOADED]
    assert process(raw, cdf) == 0
    assert latest(raw) == [Status.PROCESSED, Status.PROCESSED]
    udl_server.reset_stats()
    assert download(udl_server, raw) == 0
    assert udl_server.stats()["counters"].get("requests", 0) == 0
