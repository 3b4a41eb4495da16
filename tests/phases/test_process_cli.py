"""``process`` end to end through the real CLI on real files: every restart rule,
the runbook scenarios, --limit-days, --dry-run, exit codes and the telemetry file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.synthetic import SyntheticOptions, write_artifact
from swxsoc_reach.telemetry.schema import COLUMNS, Row, Status
from swxsoc_reach.telemetry.store import TelemetryStore

SENSOR = "REACH-135"
DAYS = [dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)]


@pytest.fixture
def dirs(input_dirs) -> tuple[Path, Path]:
    """An input dir holding three short days, and an empty output dir."""
    return input_dirs(DAYS, SENSOR)


def run(raw: Path, out: Path, *extra: str, start: dt.date = DAYS[0],
        end: dt.date = DAYS[-1]) -> int:
    return main(["process", "--start-date", start.isoformat(), "--end-date", end.isoformat(),
                 "--sensor-id", SENSOR, "--input-dir", str(raw), "--output-dir", str(out),
                 *extra])


def rows(raw: Path) -> list[Row]:
    return TelemetryStore(raw / "download_telemetry.csv").read()


def statuses(raw: Path, day: dt.date) -> list[Status]:
    return [r.status for r in rows(raw) if r.chunk_date_utc == day.isoformat()]


def cdf(out: Path, day: dt.date) -> Path:
    return day_cdf_path(out, day, SENSOR)


def test_process_writes_one_cdf_per_day_and_records_it(dirs, capsys) -> None:
    raw, out = dirs
    assert run(raw, out) == 0
    for day in DAYS:
        assert cdf(out, day).is_file()
        assert statuses(raw, day) == [Status.PROCESS_PENDING, Status.PROCESSED]
    done = next(r for r in rows(raw) if r.status is Status.PROCESSED)
    assert Path(done.cdf_path) == cdf(out, DAYS[0]).resolve()
    assert float(done.process_seconds) > 0 and float(done.cdf_size_mb) > 0
    assert done.csv_path.endswith("REACH-135_20260101T000000_20260102T000000.csv")
    assert done.run_id and done.started_at_utc <= done.finished_at_utc
    header = (raw / "download_telemetry.csv").read_text().splitlines()[0]
    assert header.split(",") == list(COLUMNS)
    assert "process: 3 days planned: 3 PROCESSED, 0 skipped" in capsys.readouterr().out


def test_process_rerun_of_complete_range_does_nothing(dirs, capsys) -> None:
    raw, out = dirs
    assert run(raw, out) == 0
    before = (raw / "download_telemetry.csv").read_bytes()
    mtimes = [cdf(out, d).stat().st_mtime_ns for d in DAYS]
    assert run(raw, out) == 0
    assert (raw / "download_telemetry.csv").read_bytes() == before
    assert [cdf(out, d).stat().st_mtime_ns for d in DAYS] == mtimes
    assert "3 skipped" in capsys.readouterr().out


def test_process_reprocesses_only_a_deleted_cdf(dirs) -> None:
    """Runbook: CDF accidentally deleted -> rerun without --retry-failed."""
    raw, out = dirs
    assert run(raw, out) == 0
    cdf(out, DAYS[1]).unlink()
    before = (raw / "download_telemetry.csv").read_bytes()
    assert run(raw, out) == 0
    assert cdf(out, DAYS[1]).is_file()
    assert (raw / "download_telemetry.csv").read_bytes().startswith(before)  # never rewritten
    assert statuses(raw, DAYS[1])[-2:] == [Status.PROCESS_PENDING, Status.PROCESSED]
    assert len(statuses(raw, DAYS[0])) == 2 and len(statuses(raw, DAYS[2])) == 2


def _append_latest(raw: Path, day: dt.date, status: Status, **fields: str) -> None:
    TelemetryStore(raw / "download_telemetry.csv").append(Row(
        run_id="earlier", chunk_date_utc=day.isoformat(), status=status, sensor_id=SENSOR,
        descriptor="QUICKLOOK", started_at_utc="2026-01-01T00:00:00.000000Z", **fields))


def test_process_reruns_an_interrupted_day(dirs) -> None:
    raw, out = dirs
    _append_latest(raw, DAYS[0], Status.PROCESS_PENDING)
    assert run(raw, out, end=DAYS[0]) == 0
    assert statuses(raw, DAYS[0]) == [Status.PROCESS_PENDING, Status.PROCESS_PENDING,
                                      Status.PROCESSED]


@pytest.mark.parametrize("phase1", [Status.DOWNLOADED, Status.DOWNLOAD_PENDING])
def test_process_treats_phase1_status_as_no_process_row(dirs, phase1) -> None:
    raw, out = dirs
    _append_latest(raw, DAYS[0], phase1)
    assert run(raw, out, end=DAYS[0]) == 0
    assert statuses(raw, DAYS[0])[-1] is Status.PROCESSED


def _break(path: Path) -> None:
    path.write_text(path.read_text()[:5000].rsplit("\n", 3)[0][:-7])  # cut mid-record


def test_process_bad_input_fails_only_its_day_then_retry(dirs, capsys) -> None:
    """Runbook: process failed mid-day -> fix the cause, rerun with --retry-failed."""
    raw, out = dirs
    source = sorted(raw.glob("REACH-135_20260102*"))[0]
    good = source.read_bytes()
    source.write_text("id,obTime\n1,not-a-time\n")
    assert run(raw, out) == 1
    err = capsys.readouterr().err
    assert "2026-01-02 process: FAILED: InputDataError" in err
    assert source.name in err
    assert statuses(raw, DAYS[1]) == [Status.PROCESS_PENDING, Status.FAILED]
    last = [r for r in rows(raw) if r.chunk_date_utc == "2026-01-02"][-1]
    assert last.error_type == "InputDataError" and source.name in last.error_message
    assert not cdf(out, DAYS[1]).exists()
    assert not list(out.rglob("*20260102*"))  # no half file under any name
    assert cdf(out, DAYS[0]).is_file() and cdf(out, DAYS[2]).is_file()
    # without --retry-failed the FAILED day is left alone, and the run still says so
    source.write_bytes(good)
    capsys.readouterr()
    assert run(raw, out) == 1
    assert statuses(raw, DAYS[1])[-1] is Status.FAILED
    assert ("3 skipped; 1 day FAILED (1 in an earlier run): fix the cause, then rerun with "
            "--retry-failed") in capsys.readouterr().out
    assert run(raw, out, "--retry-failed") == 0
    assert statuses(raw, DAYS[1])[-1] is Status.PROCESSED
    assert cdf(out, DAYS[1]).is_file()


def test_process_truncated_input_fails_its_day(dirs) -> None:
    raw, out = dirs
    _break(sorted(raw.glob("REACH-135_20260101*"))[0])
    assert run(raw, out, end=DAYS[0]) == 1
    assert statuses(raw, DAYS[0]) == [Status.PROCESS_PENDING, Status.FAILED]
    assert not cdf(out, DAYS[0]).exists()


def test_process_records_missing_input_then_processes_it_when_it_appears(dirs) -> None:
    raw, out = dirs
    day = dt.date(2026, 1, 4)
    assert run(raw, out, start=day, end=day) == 0
    (skipped,) = [r for r in rows(raw) if r.chunk_date_utc == day.isoformat()]
    assert skipped.status is Status.SKIPPED_NO_INPUT
    assert "REACH-135_20260104T000000_20260105T000000.csv" in skipped.error_message
    before = (raw / "download_telemetry.csv").read_bytes()
    for _ in range(2):  # still absent: recorded once, no new row per run (issue 9.3)
        assert run(raw, out, start=day, end=day) == 0
        assert (raw / "download_telemetry.csv").read_bytes() == before
    write_artifact(raw, day, SyntheticOptions(sensor_id=SENSOR), hours=0.5)
    assert run(raw, out, start=day, end=day) == 0
    assert statuses(raw, day) == [Status.SKIPPED_NO_INPUT, Status.PROCESS_PENDING,
                                  Status.PROCESSED]


def test_process_leaves_a_day_udl_has_no_data_for_as_it_is(dirs, capsys) -> None:
    """SKIPPED_NO_DATA is terminal for process too: no SKIPPED_NO_INPUT row hides it."""
    raw, out = dirs
    day = dt.date(2026, 1, 4)
    _append_latest(raw, day, Status.SKIPPED_NO_DATA)
    before = (raw / "download_telemetry.csv").read_bytes()
    assert run(raw, out, start=day, end=day) == 0
    assert (raw / "download_telemetry.csv").read_bytes() == before
    assert run(raw, out, "--dry-run", start=day, end=day) == 0
    assert "2026-01-04 process: skip (no data in UDL)" in capsys.readouterr().out


def test_process_limit_days_counts_from_first_incomplete_day(dirs) -> None:
    raw, out = dirs
    assert run(raw, out, "--limit-days", "1", end=DAYS[0]) == 0
    assert run(raw, out, "--limit-days", "1") == 0
    assert cdf(out, DAYS[1]).is_file() and not cdf(out, DAYS[2]).exists()
    assert statuses(raw, DAYS[2]) == []


def test_process_dry_run_plans_and_writes_nothing(dirs, capsys) -> None:
    raw, out = dirs
    assert run(raw, out, end=DAYS[0]) == 0
    cdf(out, DAYS[1]).parent.mkdir(parents=True, exist_ok=True)
    before = (raw / "download_telemetry.csv").read_bytes()
    capsys.readouterr()
    assert run(raw, out, "--dry-run", end=dt.date(2026, 1, 4)) == 0
    printed = capsys.readouterr().out
    assert "2026-01-01 process: skip (complete)" in printed
    assert "2026-01-02 process: process" in printed
    assert "2026-01-04 process: no input" in printed
    assert (raw / "download_telemetry.csv").read_bytes() == before
    assert not cdf(out, DAYS[1]).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start-date", "2026-01-05", "--end-date", "2026-01-01"],
         "end date 2026-01-01 is before start date 2026-01-05"),
        (["--start-date", "2026-1-5", "--end-date", "2026-01-01"],
         "start date '2026-1-5' is not a date: give YYYY-MM-DD, today, yesterday or today-N"),
        (["--start-date", "2026-02-30", "--end-date", "2026-03-01"], "start date '2026-02-30'"),
        (["--start-date", "2026-01-01", "--end-date", "2026-01-01", "--sensor-id", "REACH-999"],
         "unknown sensor id 'REACH-999'"),
        (["--start-date", "2026-01-01", "--end-date", "2026-01-01", "--limit-days", "0"],
         "argument --limit-days: '0' must be at least 1"),
        (["--start-date", "2026-01-01", "--end-date", "2026-01-01", "--descriptor", "TEST"],
         "invalid choice: 'TEST'"),
        (["--start-date", "2026-01-01", "--end-date", "2026-01-01", "--upload-to-s3"],
         "--upload-to-s3 needs --s3-bucket BUCKET"),
        (["--start-date", "2026-01-01", "--end-date", "2026-01-01", "--bogus"],
         "unrecognized arguments: --bogus"),
    ],
)
def test_process_usage_errors_exit_2_with_a_clear_message(dirs, capsys, args, message) -> None:
    raw, out = dirs
    code = main(["process", "--input-dir", str(raw), "--output-dir", str(out), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("swxsoc_reach: error: ") and message in err
    assert "Traceback" not in err
    assert not (raw / "download_telemetry.csv").exists()


def test_process_missing_input_dir_is_a_usage_error(tmp_path, capsys) -> None:
    code = main(["process", "--start-date", "2026-01-01", "--end-date", "2026-01-01",
                 "--input-dir", str(tmp_path / "nope"), "--output-dir", str(tmp_path / "o")])
    assert code == 2
    assert "input directory" in capsys.readouterr().err


def test_process_telemetry_file_flag_overrides_default(dirs, tmp_path) -> None:
    raw, out = dirs
    telemetry = tmp_path / "elsewhere" / "t.csv"
    assert run(raw, out, "--telemetry-file", str(telemetry), end=DAYS[0]) == 0
    assert not (raw / "download_telemetry.csv").exists()
    assert [r.status for r in TelemetryStore(telemetry).read()] == [Status.PROCESS_PENDING,
                                                                    Status.PROCESSED]


def test_process_reads_json_artifacts(tmp_path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_artifact(raw, DAYS[0], SyntheticOptions(sensor_id=SENSOR), hours=0.2,
                   output_format="json")
    assert run(raw, out, "--output-format", "json", end=DAYS[0]) == 0
    assert cdf(out, DAYS[0]).is_file()


@pytest.mark.parametrize("telemetry", ["dir", "/dev/full"])
def test_process_refuses_a_telemetry_path_that_is_not_a_file(dirs, tmp_path, capsys,
                                                            telemetry) -> None:
    raw, out = dirs
    path = tmp_path if telemetry == "dir" else Path(telemetry)
    assert run(raw, out, "--telemetry-file", str(path)) == 2
    assert f"telemetry file {path} is not a regular file" in capsys.readouterr().err
    assert not out.exists()


def test_process_a_day_with_quality_words_and_another_frame(tmp_path, capsys) -> None:
    """Issue 20.5 acceptance: a day whose artifact holds each of UDL's obQuality words, an
    unknown word and a record in another senReferenceFrame is PROCESSED (on a1bb38a one
    word failed the day), with the mapping and the counts in the summary and the log."""
    import cdflib
    import orjson

    from swxsoc_reach.cdf.summary import summary_path
    from swxsoc_reach.days import day_window
    from swxsoc_reach.paths import artifact_name
    from swxsoc_reach.synthetic import iter_records, write_csv

    raw, out = tmp_path / "raw", tmp_path / "out"
    options = SyntheticOptions(sensor_id=SENSOR, extra_keys=True)  # a senReferenceFrame column
    start = day_window(DAYS[0])[0]
    records = list(iter_records(DAYS[0], options, start=start,
                                end=start + dt.timedelta(minutes=10)))
    words = ["GOOD", "BAD", "UNCERTAIN", "UNKNOWN", "SPLENDID"]  # records 0-4
    for k, word in enumerate(words):
        records[k]["seoList"] = [{**records[k]["seoList"][0], "obQuality": word}]
    records[6]["senReferenceFrame"] = records[7]["senReferenceFrame"] = "ECR/ECEF"  # time 3
    raw.mkdir()
    write_csv(raw / artifact_name(DAYS[0], SENSOR, "csv"), records, options)
    assert run(raw, out, "-v", end=DAYS[0]) == 0
    assert statuses(raw, DAYS[0]) == [Status.PROCESS_PENDING, Status.PROCESSED]
    err = capsys.readouterr().err
    assert "obQuality words mapped to codes: GOOD x1 -> 0, UNCERTAIN x1 -> 65533, " \
           "UNKNOWN x1 -> 65534, BAD x1 -> 65535" in err
    assert "1 records with an unrecognised obQuality ('SPLENDID' x1) written as fill" in err
    assert "senPos of 2 records left out of sensor_position_x/_y/_z (GEI): " \
           "senReferenceFrame 'ECR/ECEF' x2, not J2000" in err
    summary = orjson.loads(summary_path(cdf(out, DAYS[0])).read_bytes())
    assert summary["quality_words"] == {
        "codes": {"GOOD": 0, "UNCERTAIN": 65533, "UNKNOWN": 65534, "BAD": 65535},
        "records": {"GOOD": 1, "UNCERTAIN": 1, "UNKNOWN": 1, "BAD": 1},
        "unrecognised": 1, "unrecognised_values": {"SPLENDID": 1}}
    assert summary["reference_frames"] == {"positions_left_out": 2, "frames": {"ECR/ECEF": 2}}
    product = cdflib.CDF(str(cdf(out, DAYS[0])))
    flavors = [str(f) for f in product.varget("dosimeter_flavors").ravel()]
    quality = product.varget("dose_rate_quality")[:, 0, :]  # (T, F) of the one sensor
    held = [quality[k // 2, flavors.index(records[k]["seoList"][0]["obDescription"])]
            for k in range(6)]
    assert held == [0.0, 65535.0, 65533.0, 65534.0, -1e31, float(
        records[5]["seoList"][0]["obQuality"])]
    assert product.varget("obQuality")[:3, 0].tolist() == [65535.0, 65534.0, held[5]]
    assert product.varget("sensor_position_x")[3, 0] == -1e31
    assert product.varget("sensor_position_x")[2, 0] == records[4]["senPos"][0]
