"""The telemetry file: whole rows, never rewritten, tolerant reading, latest-row state."""

from __future__ import annotations

import csv
import logging
import subprocess
import sys
from pathlib import Path

from swxsoc_reach.telemetry.schema import COLUMNS, Row, Stage, Status
from swxsoc_reach.telemetry.store import RunRows, TelemetryStore


def _row(day: str, status: Status, started: str, **fields: str) -> Row:
    return Row(run_id="r", chunk_date_utc=day, status=status, started_at_utc=started,
               sensor_id="ALL", descriptor="QUICKLOOK", **fields)


def test_store_writes_header_once_in_spec_column_order(tmp_path: Path) -> None:
    store = TelemetryStore(tmp_path / "sub" / "t.csv")
    store.append(_row("2026-01-01", Status.PROCESS_PENDING, "a"))
    store.append(_row("2026-01-01", Status.PROCESSED, "a"))
    lines = store.path.read_text().splitlines()
    assert lines[0].split(",") == list(COLUMNS)
    assert len(COLUMNS) == 24
    assert len(lines) == 3


def test_store_never_rewrites_earlier_rows(tmp_path: Path) -> None:
    store = TelemetryStore(tmp_path / "t.csv")
    store.append(_row("2026-01-01", Status.PROCESS_PENDING, "a"))
    before = store.path.read_bytes()
    store.append(_row("2026-01-01", Status.FAILED, "a", error_message="bad\nthing, \"quoted\""))
    after = store.path.read_bytes()
    assert after.startswith(before)
    rows = store.read()
    assert rows[-1].error_message == 'bad thing, "quoted"'  # one row stays one line


def test_store_skips_damaged_lines_with_a_warning(tmp_path: Path, caplog) -> None:
    store = TelemetryStore(tmp_path / "t.csv")
    store.append(_row("2026-01-01", Status.PROCESSED, "a"))
    with open(store.path, "a") as fh:
        fh.write("garbage,line\n")
        fh.write(",".join(["x", "2026-13-45"] + [""] * 2 + ["PROCESSED"] + [""] * 19) + "\n")
        fh.write(",".join(["x", "2026-01-02"] + [""] * 2 + ["NOT_A_STATUS"] + [""] * 19) + "\n")
        fh.write('"unterminated,quote\n')
    with caplog.at_level(logging.WARNING):
        rows = store.read()
        state = store.state()
    assert [r.chunk_date_utc for r in rows] == ["2026-01-01"]
    assert set(state.latest) == {("2026-01-01", "ALL", "QUICKLOOK")}
    for reason in ("damaged", "unknown status", "bad date"):
        assert reason in caplog.text


def test_store_appends_after_a_torn_last_line(tmp_path: Path) -> None:
    store = TelemetryStore(tmp_path / "t.csv")
    store.append(_row("2026-01-01", Status.PROCESS_PENDING, "a"))
    with open(store.path, "a") as fh:
        fh.write("r,2026-01-01,,,PROC")  # a writer killed mid-line by hand-editing
    store.append(_row("2026-01-01", Status.PROCESSED, "a"))
    assert [r.status for r in store.read()] == [Status.PROCESS_PENDING, Status.PROCESSED]


def test_state_latest_row_orders_by_started_then_file_order(tmp_path: Path) -> None:
    store = TelemetryStore(tmp_path / "t.csv")
    store.append(_row("2026-01-01", Status.PROCESSED, "2026-01-02T00:00:00.000000Z"))
    store.append(_row("2026-01-01", Status.PROCESS_PENDING, "2026-01-01T00:00:00.000000Z"))
    store.append(_row("2026-01-02", Status.PROCESS_PENDING, "2026-01-03T00:00:00.000000Z"))
    store.append(_row("2026-01-02", Status.PROCESSED, "2026-01-03T00:00:00.000000Z"))
    state = store.state()
    assert state.get("2026-01-01", "ALL", "QUICKLOOK").status is Status.PROCESSED
    assert state.get("2026-01-02", "ALL", "QUICKLOOK").status is Status.PROCESSED
    assert state.get("2026-01-03", "ALL", "QUICKLOOK") is None


def test_state_keys_days_by_sensor_and_descriptor(tmp_path: Path) -> None:
    store = TelemetryStore(tmp_path / "t.csv")
    store.append(_row("2026-01-01", Status.PROCESSED, "a"))
    store.append(_row("2026-01-01", Status.FAILED, "b").evolve(sensor_id="REACH-135"))
    state = store.state()
    assert state.get("2026-01-01", "ALL", "QUICKLOOK").status is Status.PROCESSED
    assert state.get("2026-01-01", "REACH-135", "QUICKLOOK").status is Status.FAILED
    assert state.get("2026-01-01", "ALL", "PROVISIONAL") is None


def test_state_tracks_stage_of_failed_rows_and_latest_processed(tmp_path: Path) -> None:
    store = TelemetryStore(tmp_path / "t.csv")
    store.append(_row("2026-01-01", Status.DOWNLOAD_PENDING, "a"))
    store.append(_row("2026-01-01", Status.FAILED, "a"))
    store.append(_row("2026-01-02", Status.DOWNLOADED, "a"))
    store.append(_row("2026-01-02", Status.PROCESS_PENDING, "b"))
    store.append(_row("2026-01-02", Status.FAILED, "b"))
    rows = store.read()
    assert [r.stage for r in rows][:5] == [Stage.DOWNLOAD, Stage.DOWNLOAD, Stage.DOWNLOAD,
                                           Stage.PROCESS, Stage.PROCESS]
    store.append(_row("2026-01-02", Status.PROCESSED, "c", process_seconds="1.5"))
    store.append(_row("2026-01-02", Status.UPLOAD_PENDING, "d"))
    state = store.state()
    assert state.latest_processed[("2026-01-02", "ALL", "QUICKLOOK")].process_seconds == "1.5"
    assert ("2026-01-01", "ALL", "QUICKLOOK") not in state.latest_processed
    assert state.get_download("2026-01-01", "ALL", "QUICKLOOK").status is Status.FAILED
    assert state.get_download("2026-01-02", "ALL", "QUICKLOOK").status is Status.DOWNLOADED
    assert state.get("2026-01-02", "ALL", "QUICKLOOK").stage is Stage.PROCESS


_WRITER = """
import sys
from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import RunRows, TelemetryStore
store = TelemetryStore(sys.argv[1])
tag = sys.argv[2]
for i in range(5000):
    store.append(Row(run_id=tag, chunk_date_utc="2026-01-01", status=Status.PROCESSED,
                     started_at_utc=str(i), error_message="x" * (i % 700)))
"""


def test_store_two_processes_appending_leave_only_whole_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), tag])
               for tag in ("a", "b")]
    assert [w.wait(timeout=300) for w in writers] == [0, 0]
    with open(path, newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines[0] == list(COLUMNS)
    body = lines[1:]
    assert len(body) == 10_000
    assert all(len(cells) == len(COLUMNS) for cells in body)
    for tag in ("a", "b"):
        mine = [cells for cells in body if cells[0] == tag]
        assert [int(c[16]) for c in mine] == list(range(5000))  # in order, none lost
        assert all(c[15] == "x" * (int(c[16]) % 700) for c in mine)


def test_store_reads_a_phase1_only_file_with_phase2_rows_appended(tmp_path: Path,
                                                                   caplog) -> None:
    """An older file has only the 18 Phase 1 columns; Phase 2 appends full rows to it."""
    path = tmp_path / "t.csv"
    old = _row("2026-01-01", Status.DOWNLOADED, "a", csv_path="/raw/x.csv").values()[:18]
    path.write_text(",".join(COLUMNS[:18]) + "\n" + ",".join(old) + "\n")
    store = TelemetryStore(path)
    store.append(_row("2026-01-02", Status.PROCESSED, "b", cdf_path="/cdf/y.cdf"))
    with caplog.at_level(logging.WARNING):
        rows = store.read()
        state = store.state()
    assert caplog.text == ""
    assert [(r.status, r.csv_path, r.cdf_path) for r in rows] == [
        (Status.DOWNLOADED, "/raw/x.csv", ""), (Status.PROCESSED, "", "/cdf/y.cdf")]
    assert state.get("2026-01-02", "ALL", "QUICKLOOK").cdf_path == "/cdf/y.cdf"


def test_store_reads_columns_by_name_when_the_header_is_reordered(tmp_path: Path,
                                                                   caplog) -> None:
    path = tmp_path / "t.csv"
    order = list(reversed(COLUMNS))
    row = _row("2026-01-01", Status.PROCESSED, "a", cdf_path="/cdf/y.cdf")
    cells = dict(zip(COLUMNS, row.values(), strict=True))
    path.write_text(",".join(order) + "\n" + ",".join(cells[c] for c in order) + "\n")
    with caplog.at_level(logging.WARNING):
        (read,) = TelemetryStore(path).read()
    assert "reading columns by name" in caplog.text
    assert read == row.evolve(stage=Stage.PROCESS)


def test_run_rows_reads_one_runs_appended_rows_with_their_stage(tmp_path: Path) -> None:
    """Issue 19.2: a workflow's jobs read their run's streak from the telemetry, each read
    taking only what was appended since, a FAILED row keeping its pending row's stage."""
    store = TelemetryStore(tmp_path / "t.csv")
    runs = RunRows(store.path, "run-1")
    assert runs.new_rows() == []  # no file yet
    store.append(_row("2026-01-01", Status.DOWNLOAD_PENDING, "a")._replace(run_id="run-1"))
    store.append(_row("2026-01-01", Status.DOWNLOAD_PENDING, "a"))  # another run's
    assert [r.status for r in runs.new_rows()] == [Status.DOWNLOAD_PENDING]
    store.append(_row("2026-01-01", Status.FAILED, "a")._replace(run_id="run-1"))
    with open(store.path, "a") as fh:  # a line still being written waits for its end
        fh.write("run-1,2026-01-02")
    (failed,) = runs.new_rows()
    assert (failed.status, failed.stage) == (Status.FAILED, Stage.DOWNLOAD)
    assert runs.new_rows() == []
