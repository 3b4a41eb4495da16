"""The telemetry file: whole rows, never rewritten, tolerant reading, latest-row state."""

from __future__ import annotations

import csv
import logging
import shutil
import subprocess
import sys
from pathlib import Path

from swxsoc_reach.telemetry.schema import COLUMNS, Row, Stage, Status
from swxsoc_reach.telemetry.store import RunRows, TelemetryStore, forget_reported_lines


def _row(day: str, status: Status, started: str, **fields: str) -> Row:
    return Row(run_id="r", chunk_date_utc=day, status=status, started_at_utc=started,
               sensor_id="ALL", descriptor="QUICKLOOK", **fields)


def test_store_writes_header_once_in_spec_column_order(tmp_path: Path) -> None:
    store = TelemetryStore(tmp_path / "sub" / "t.csv")
    store.append(_row("2026-01-01", Status.PROCESS_PENDING, "a"))
    store.append(_row("2026-01-01", Status.PROCESSED, "a"))
    lines = store.path.read_text().splitlines()
    assert lines[0].split(",") == list(COLUMNS)
    assert COLUMNS[-2:] == ("artifact_sha256", "cdf_sha256")  # after Phase 2's s3_key
    assert len(COLUMNS) == 26
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
        fh.write(",".join(["x", "2026-13-45"] + [""] * 2 + ["PROCESSED"] + [""] * 21) + "\n")
        fh.write(",".join(["x", "2026-01-02"] + [""] * 2 + ["NOT_A_STATUS"] + [""] * 21) + "\n")
        fh.write('"unterminated,quote\n')
    with caplog.at_level(logging.WARNING):
        rows = store.read()
        state = store.state()
    assert [r.chunk_date_utc for r in rows] == ["2026-01-01"]
    assert set(state.latest) == {("2026-01-01", "ALL", "QUICKLOOK")}
    for reason in ("damaged", "unknown status", "bad date"):
        assert reason in caplog.text


def test_store_a_line_cut_inside_a_quoted_cell_swallows_no_later_row(tmp_path: Path,
                                                                      caplog) -> None:
    """A crash cuts a FAILED row inside its quoted message; rows appended after it (the
    append starts a new line) are each read, and only the cut line is reported, by number."""
    store = TelemetryStore(tmp_path / "t.csv")
    store.append(_row("2026-01-01", Status.PROCESS_PENDING, "a"))
    store.append(_row("2026-01-01", Status.FAILED, "b", error_message="bad, thing"))
    data = store.path.read_bytes()
    store.path.write_bytes(data[:data.rindex(b"bad, thing") + 4])  # ...,"bad,
    for day in ("2026-01-02", "2026-01-03"):
        store.append(_row(day, Status.PROCESSED, "c"))
    store.append(_row("2026-01-04", Status.FAILED, "c", error_message='x, "y"'))
    with caplog.at_level(logging.WARNING):
        rows = store.read()
    assert [(r.chunk_date_utc, r.status) for r in rows] == [
        ("2026-01-01", Status.PROCESS_PENDING), ("2026-01-02", Status.PROCESSED),
        ("2026-01-03", Status.PROCESSED), ("2026-01-04", Status.FAILED)]
    assert rows[-1].error_message == 'x, "y"'
    assert [r.getMessage().split(": ")[0] for r in caplog.records] == [f"{store.path}:3"]
    assert "damaged line (broken quoting)" in caplog.text
    assert store.state().get("2026-01-01", "ALL", "QUICKLOOK").status is Status.PROCESS_PENDING


def test_store_reports_each_damaged_line_once_per_command(tmp_path: Path, caplog) -> None:
    store = TelemetryStore(tmp_path / "t.csv")
    store.append(_row("2026-01-01", Status.PROCESSED, "a"))
    with open(store.path, "a") as fh:
        fh.write("garbage,line\n")
    store.append(_row("2026-01-02", Status.PROCESSED, "a"))
    with open(store.path, "a") as fh:
        fh.write("r,2026-01-03,,,PROC")  # the last line, cut
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            store.read()
            store.state()
            TelemetryStore(tmp_path / "." / "t.csv").state()  # the same file, spelt otherwise
    assert [r.getMessage().split(": ")[0] for r in caplog.records] == [
        f"{store.path}:3", f"{store.path}:5"]
    caplog.clear()
    forget_reported_lines()  # the next command reports them again
    with caplog.at_level(logging.WARNING):
        store.state()
    assert len(caplog.records) == 2


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
from swxsoc_reach.telemetry.store import TelemetryStore
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


def test_store_reads_every_width_a_version_wrote(tmp_path: Path, caplog) -> None:
    """A file begun by Phase 1 alone (18 columns) that took Phase 2's 24-wide rows then
    takes our 26-wide rows; older rows read with empty digests (issue 17.1)."""
    path = tmp_path / "t.csv"
    phase1 = _row("2026-01-01", Status.DOWNLOADED, "a").values()[:18]
    phase2 = _row("2026-01-01", Status.PROCESSED, "b").values()[:24]
    path.write_text(",".join(COLUMNS[:18]) + "\n" + ",".join(phase1) + "\n"
                    + ",".join(phase2) + "\n")
    store = TelemetryStore(path)
    store.append(_row("2026-01-02", Status.DOWNLOADED, "c", artifact_sha256="ab" * 32))
    store.append(_row("2026-01-02", Status.PROCESSED, "d", cdf_sha256="cd" * 32))
    with caplog.at_level(logging.WARNING):
        rows = store.read()
    assert caplog.text == ""
    assert [(r.status, r.artifact_sha256, r.cdf_sha256) for r in rows] == [
        (Status.DOWNLOADED, "", ""), (Status.PROCESSED, "", ""),
        (Status.DOWNLOADED, "ab" * 32, ""), (Status.PROCESSED, "", "cd" * 32)]


def test_store_records_paths_relative_to_itself_so_a_moved_campaign_resolves(
        tmp_path: Path) -> None:
    """Issue 17.3: paths are written relative to the telemetry file's directory and read
    back absolute, so a data directory copied elsewhere as a whole keeps its state."""
    data = tmp_path / "data"
    artifact = data / "raw" / "x.csv"
    cdf = data / "cdf" / "l1c" / "y.cdf"
    for path in (artifact, cdf):
        path.parent.mkdir(parents=True)
        path.write_text("x")
    store = TelemetryStore(data / "raw" / "t.csv")
    store.append(_row("2026-01-01", Status.PROCESSED, "a", csv_path=str(artifact),
                      cdf_path=str(cdf)))
    with open(store.path, newline="") as fh:
        cells = dict(zip(COLUMNS, list(csv.reader(fh))[1], strict=True))
    assert (cells["csv_path"], cells["cdf_path"]) == ("x.csv", "../cdf/l1c/y.cdf")
    moved = tmp_path / "elsewhere" / "data"
    shutil.copytree(data, moved)
    shutil.rmtree(data)
    (row,) = TelemetryStore(moved / "raw" / "t.csv").read()
    assert (row.csv_path, row.cdf_path) == (str(moved / "raw" / "x.csv"),
                                            str(moved / "cdf" / "l1c" / "y.cdf"))


def test_store_finds_an_older_rows_absolute_paths_by_name_after_a_move(tmp_path: Path) -> None:
    """Rows of older versions hold absolute paths: kept where they exist, re-rooted under
    the moved data directory where they do not (issue 17.3)."""
    old, new = tmp_path / "old" / "data", tmp_path / "new" / "data"
    names = [f"cdf/l1c/prelim/2026/01/0{d}/y{d}.cdf" for d in (1, 2)] + ["raw/x.csv"]
    for name in names:
        (new / name).parent.mkdir(parents=True, exist_ok=True)
        (new / name).write_text("x")
    kept = tmp_path / "kept.csv"
    kept.write_text("x")
    path = new / "raw" / "t.csv"
    rows = [_row(f"2026-01-0{d}", Status.PROCESSED, "a", csv_path=str(old / "raw/x.csv"),
                 cdf_path=str(old / names[d - 1])) for d in (1, 2)]
    rows.append(_row("2026-01-03", Status.DOWNLOADED, "a", csv_path=str(kept)))
    rows.append(_row("2026-01-04", Status.DOWNLOADED, "a", csv_path=str(old / "gone.csv")))
    path.write_text(",".join(COLUMNS[:24]) + "\n"
                    + "".join(",".join(r.values()[:24]) + "\n" for r in rows))
    read = TelemetryStore(path).read()
    assert [(r.csv_path, r.cdf_path) for r in read] == [
        (str(new / "raw/x.csv"), str(new / names[0])),
        (str(new / "raw/x.csv"), str(new / names[1])),
        (str(kept), ""),
        (str(old / "gone.csv"), ""),  # nowhere to be found: left as it was (missing)
    ]


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
