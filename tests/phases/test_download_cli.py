"""``download`` end to end through the real CLI against the local UDL server over HTTP
(historical-download.md): complete days, faults survived, failures confined to their day,
every resume rule, --limit-days, --dry-run, credentials and exit codes."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import orjson
import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.paths import artifact_name
from swxsoc_reach.synthetic import SyntheticOptions
from swxsoc_reach.telemetry.daylock import LOCK_DIR
from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import TelemetryStore

SENSOR = "REACH-135"
DAYS = [dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3)]
FAST = ("--initial-rate", "50", "--max-rate", "200")


def run(server, out: Path, *extra: str, start: dt.date = DAYS[0], end: dt.date = DAYS[0],
        sensor: str = SENSOR, rate: tuple[str, ...] = FAST) -> int:
    return main(["download", "--start-date", start.isoformat(), "--end-date", end.isoformat(),
                 "--sensor-id", sensor, "--output-dir", str(out), "--udl-url", server.url,
                 *rate, *extra])


def artifact(out: Path, day: dt.date, sensor: str = SENSOR, fmt: str = "csv") -> Path:
    return out / artifact_name(day, sensor, fmt)


def artifact_ids(path: Path) -> list[str]:
    if path.suffix == ".json":
        return [r["id"] for r in orjson.loads(path.read_bytes())]
    with open(path, newline="") as fh:
        return [row["id"] for row in csv.DictReader(fh)]


def rows(out: Path) -> list[Row]:
    return TelemetryStore(out / "download_telemetry.csv").read()


def statuses(out: Path, day: dt.date) -> list[Status]:
    return [r.status for r in rows(out) if r.chunk_date_utc == day.isoformat()]


def requests(server) -> int:
    return server.stats()["counters"].get("requests", 0)


def leftovers(out: Path) -> list[str]:
    """Temporary files or spool directories left beside the artifacts (the day locks stay)."""
    return [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != LOCK_DIR]


@pytest.mark.parametrize("fractional", [False, True])
def test_download_single_sensor_day_arrives_complete(udl_server, tmp_path, fractional) -> None:
    udl_server.configure(data=SyntheticOptions(sensor_id=SENSOR, fractional_seconds=fractional))
    assert run(udl_server, tmp_path) == 0
    path = artifact(tmp_path, DAYS[0])
    ids = artifact_ids(path)
    assert ids == udl_server.day_ids(DAYS[0], SENSOR)  # each once, in time order
    with open(path, newline="") as fh:
        times = [row["obTime"] for row in csv.DictReader(fh)]
    assert all(t.startswith("2026-01-01T") for t in times)
    # the records just after the 06:00 window boundary (the sensor's ms offset, if any)
    boundary = "2026-01-01T06:00:00." + times[0][20:]
    assert times.count(boundary) == 2  # one per dosimeter
    assert statuses(tmp_path, DAYS[0]) == [Status.DOWNLOAD_PENDING, Status.DOWNLOADED]
    done = rows(tmp_path)[-1]
    assert done.records_downloaded == done.expected_records == "34560"
    assert done.availability_pct == "100.0000"
    assert done.csv_path == str(path.resolve()) and Path(done.csv_path).is_absolute()
    assert float(done.csv_size_mb) == pytest.approx(path.stat().st_size / 2**20, abs=0.001)
    assert float(done.download_seconds) > 0
    assert (done.window_start_utc, done.window_end_utc) == (
        "2026-01-01T00:00:00.000000Z", "2026-01-02T00:00:00.000000Z")
    assert done.sensor_id == SENSOR and done.output_format == "csv"
    assert rows(tmp_path)[0].csv_path == ""  # csv_path only on DOWNLOADED
    assert leftovers(tmp_path) == []


def test_download_all_sensors_day_arrives_complete(udl_server, tmp_path) -> None:
    """Windows sized from the ALL density, widened as answers come back sparse; the server
    holds one sensor so the day stays small."""
    udl_server.configure(data=SyntheticOptions(sensor_id=SENSOR, fractional_seconds=True))
    assert run(udl_server, tmp_path, sensor="ALL") == 0
    ids = artifact_ids(artifact(tmp_path, DAYS[0], "ALL"))
    assert ids == udl_server.day_ids(DAYS[0], "ALL")
    assert requests(udl_server) < 288  # the older tool's fixed 5-minute windows
    done = rows(tmp_path)[-1]
    assert (done.records_downloaded, done.expected_records, done.availability_pct) == (
        "34560", "1105920", "3.1250")  # four decimals, as the older tool


def test_download_json_artifact_is_one_array(udl_server, tmp_path) -> None:
    assert run(udl_server, tmp_path, "--output-format", "json") == 0
    path = artifact(tmp_path, DAYS[0], fmt="json")
    assert artifact_ids(path) == udl_server.day_ids(DAYS[0], SENSOR)
    assert rows(tmp_path)[-1].csv_path == str(path.resolve())


def test_download_provisional_descriptor_is_asked_for(udl_server, tmp_path) -> None:
    assert run(udl_server, tmp_path, "--descriptor", "PROVISIONAL") == 0
    with open(artifact(tmp_path, DAYS[0]), newline="") as fh:
        assert {row["descriptor"] for row in csv.DictReader(fh)} == {"PROVISIONAL"}
    assert {e["descriptor"] for e in udl_server.stats()["log"]} == {"PROVISIONAL"}


def test_download_adapts_to_a_rate_limit_below_its_initial_rate(udl_server, tmp_path) -> None:
    udl_server.configure(rate_limit=3.0, burst=1.0, cap=3000)
    assert run(udl_server, tmp_path, rate=("--initial-rate", "5", "--min-rate", "1")) == 0
    assert artifact_ids(artifact(tmp_path, DAYS[0])) == udl_server.day_ids(DAYS[0], SENSOR)
    assert udl_server.stats()["counters"]["status_429"] > 0


def test_download_survives_500s_drops_cut_bodies_and_a_small_cap(udl_server, tmp_path) -> None:
    """Seed 4 puts all three faults among the first five requests; answers hold at most
    3,000 records, so every window is completed by paging; nothing is lost or doubled."""
    udl_server.configure(cap=3000, fault_seed=4, error_rate=0.1, drop_rate=0.1,
                         truncate_rate=0.1)
    assert run(udl_server, tmp_path) == 0
    assert artifact_ids(artifact(tmp_path, DAYS[0])) == udl_server.day_ids(DAYS[0], SENSOR)
    counters = udl_server.stats()["counters"]
    assert counters["fault_error"] and counters["fault_drop"] and counters["fault_truncate"]
    assert statuses(tmp_path, DAYS[0]) == [Status.DOWNLOAD_PENDING, Status.DOWNLOADED]


def test_download_persistent_failure_fails_that_day_only(udl_server, tmp_path, capsys) -> None:
    udl_server.configure(fail_days=((DAYS[1], 500),))
    assert run(udl_server, tmp_path, end=DAYS[2]) == 1
    assert statuses(tmp_path, DAYS[1]) == [Status.DOWNLOAD_PENDING, Status.FAILED]
    failed = rows(tmp_path)[3]
    assert failed.error_type == "UdlError" and "after 5 retries: HTTP 500" in failed.error_message
    assert failed.expected_records == "34560" and failed.csv_path == ""
    assert not artifact(tmp_path, DAYS[1]).exists()
    for day in (DAYS[0], DAYS[2]):
        assert statuses(tmp_path, day)[-1] is Status.DOWNLOADED
        assert artifact_ids(artifact(tmp_path, day)) == udl_server.day_ids(day, SENSOR)
    assert leftovers(tmp_path) == []
    captured = capsys.readouterr()
    assert "2026-01-02 download: FAILED: UdlError" in captured.err
    assert "2 DOWNLOADED, 1 FAILED" in captured.out


def test_download_answer_that_is_not_json_fails_the_day_with_the_reason(udl_server,
                                                                       tmp_path) -> None:
    udl_server.configure(garbage_days=frozenset({DAYS[0]}))
    assert run(udl_server, tmp_path) == 1
    last = rows(tmp_path)[-1]
    assert last.status is Status.FAILED and "not JSON" in last.error_message


def test_download_day_without_records_is_skipped_no_data(udl_server, tmp_path) -> None:
    udl_server.configure(empty_days=frozenset({DAYS[0]}))
    assert run(udl_server, tmp_path) == 0
    last = rows(tmp_path)[-1]
    assert last.status is Status.SKIPPED_NO_DATA and last.records_downloaded == "0"
    assert "no QUICKLOOK record" in last.error_message
    assert not artifact(tmp_path, DAYS[0]).exists() and leftovers(tmp_path) == []
    udl_server.reset_stats()
    assert run(udl_server, tmp_path) == 0  # terminal: not asked again
    assert requests(udl_server) == 0


def _append(out: Path, day: dt.date, status: Status, started: str, **fields: str) -> None:
    TelemetryStore(out / "download_telemetry.csv").append(Row(
        run_id="earlier", chunk_date_utc=day.isoformat(), status=status, sensor_id=SENSOR,
        descriptor="QUICKLOOK", output_format="csv", started_at_utc=started, **fields))


# historical-download.md "Resume rules": (rows before, artifact on disk, flags) -> downloaded?
RESUME_TABLE = [
    pytest.param([], False, (), True, id="no-row"),
    pytest.param([Status.DOWNLOADED], True, (), False, id="downloaded-with-artifact"),
    pytest.param([Status.DOWNLOADED], False, (), True, id="downloaded-artifact-gone"),
    pytest.param([Status.SKIPPED_NO_DATA], False, (), False, id="skipped-no-data"),
    pytest.param([Status.DOWNLOAD_PENDING, Status.FAILED], False, (), False, id="failed"),
    pytest.param([Status.DOWNLOAD_PENDING, Status.FAILED], False, ("--retry-failed",), True,
                 id="failed-retry"),
    pytest.param([Status.DOWNLOAD_PENDING], False, (), True, id="pending-interrupted"),
    pytest.param([Status.DOWNLOADED, Status.PROCESSED], True, (), False,
                 id="phase2-with-artifact"),
    pytest.param([Status.DOWNLOADED, Status.PROCESS_PENDING, Status.FAILED], True, (), False,
                 id="phase2-failed-with-artifact"),
    pytest.param([Status.DOWNLOADED, Status.UPLOADED], False, (), True,
                 id="phase2-artifact-gone"),
    pytest.param([Status.DOWNLOAD_PENDING, Status.FAILED, Status.SKIPPED_NO_INPUT], False, (),
                 False, id="phase2-no-input-after-failed"),
]


# the days the rules leave FAILED: the run exits 1 although it attempted nothing
STAYS_FAILED = ("failed", "phase2-no-input-after-failed")


@pytest.mark.parametrize(("before", "on_disk", "flags", "downloads"), RESUME_TABLE)
def test_download_resume_rules(udl_server, tmp_path, request, before, on_disk, flags,
                               downloads) -> None:
    path = artifact(tmp_path, DAYS[0])
    for i, status in enumerate(before):
        extra = {"csv_path": str(path.resolve())} if status not in (
            Status.FAILED, Status.DOWNLOAD_PENDING) else {}
        _append(tmp_path, DAYS[0], status, f"2026-02-01T00:00:0{i}.000000Z", **extra)
    if on_disk:
        path.write_text("id,obTime\nkept,2026-01-01T00:00:00.000Z\n")
    stays_failed = request.node.callspec.id in STAYS_FAILED
    assert run(udl_server, tmp_path, *flags) == (1 if stays_failed else 0)
    assert (requests(udl_server) > 0) is downloads
    after = statuses(tmp_path, DAYS[0])[len(before):]
    if downloads:
        assert after == [Status.DOWNLOAD_PENDING, Status.DOWNLOADED]
        assert artifact_ids(path) == udl_server.day_ids(DAYS[0], SENSOR)
    else:
        assert after == []
        assert path.exists() is on_disk


def test_download_limit_days_counts_from_the_first_incomplete_day(udl_server, tmp_path) -> None:
    assert run(udl_server, tmp_path) == 0  # day 1 complete
    assert run(udl_server, tmp_path, "--limit-days", "1", end=DAYS[2]) == 0
    assert statuses(tmp_path, DAYS[1])[-1] is Status.DOWNLOADED
    assert statuses(tmp_path, DAYS[2]) == []


def test_download_dry_run_touches_nothing(udl_server, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("BASICAUTH")  # no credentials needed
    out = tmp_path / "raw"
    assert run(udl_server, out, "--dry-run", end=DAYS[2]) == 0
    assert requests(udl_server) == 0
    assert not out.exists()
    plan = capsys.readouterr().out
    assert "2026-01-01 download: download" in plan and "2026-01-03 download: download" in plan


def test_download_dry_run_plans_the_days_relative_dates_name(udl_server, tmp_path, monkeypatch,
                                                              capsys) -> None:
    monkeypatch.setenv("SWXSOC_REACH_TODAY", "2026-01-04")  # the testing hook fixes "today"
    assert main(["download", "--dry-run", "--start-date", "today-2", "--end-date", "yesterday",
                 "--sensor-id", SENSOR, "--output-dir", str(tmp_path)]) == 0
    planned = [line for line in capsys.readouterr().out.splitlines() if "download: " in line]
    assert planned == ["2026-01-02 download: download", "2026-01-03 download: download"]
    assert requests(udl_server) == 0


def test_download_without_credentials_exits_2_naming_both_variables(udl_server, tmp_path,
                                                                    monkeypatch,
                                                                    capsys) -> None:
    monkeypatch.delenv("BASICAUTH")
    assert run(udl_server, tmp_path) == 2
    err = capsys.readouterr().err
    assert "BASICAUTH" in err and "SECRET_ARN_UDL" in err
    assert requests(udl_server) == 0 and not (tmp_path / "download_telemetry.csv").exists()


def test_download_reads_credentials_from_secrets_manager(udl_server, s3_server, tmp_path,
                                                         monkeypatch) -> None:
    from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL

    arn = s3_server.client("secretsmanager").create_secret(
        Name="udl/reach", SecretString=json.dumps({"basicauth": TEST_CREDENTIAL}))["ARN"]
    monkeypatch.delenv("BASICAUTH")
    monkeypatch.setenv("SECRET_ARN_UDL", arn)
    assert run(udl_server, tmp_path, "--aws-region", "us-east-1") == 0
    assert udl_server.stats()["counters"].get("status_401", 0) == 0
    assert artifact_ids(artifact(tmp_path, DAYS[0])) == udl_server.day_ids(DAYS[0], SENSOR)


@pytest.mark.parametrize(("flags", "message"), [
    (("--initial-rate", "2"), "--initial-rate"),
    (("--multiplicative-decrease", "1.5"), "--multiplicative-decrease"),
    (("--udl-url", "ftp://example"), "UDL base URL"),
    (("--sensor-id", "REACH-999"), "unknown sensor id"),
])
def test_download_bad_flag_values_exit_2(udl_server, tmp_path, capsys, flags, message) -> None:
    assert run(udl_server, tmp_path, *flags, rate=()) == 2
    assert message in capsys.readouterr().err
    assert requests(udl_server) == 0


def test_download_wrong_credentials_fail_each_day_with_the_servers_message(udl_server,
                                                                          tmp_path,
                                                                          monkeypatch) -> None:
    monkeypatch.setenv("BASICAUTH", "Basic d3Jvbmc6d3Jvbmc=")
    assert run(udl_server, tmp_path, end=DAYS[1]) == 1
    failed = [r for r in rows(tmp_path) if r.status is Status.FAILED]
    assert len(failed) == 2 and all("HTTP 401" in r.error_message for r in failed)
    asked = [(e["obTime"], e["firstResult"]) for e in udl_server.stats()["log"]]
    assert len(asked) == len(set(asked))  # refused at once: nothing was retried


@pytest.mark.parametrize("where", ["flag", "environment"])
def test_download_plain_http_to_a_remote_host_exits_2_before_any_connection(
        tmp_path, monkeypatch, capsys, where) -> None:
    """Issue 20.6: the credential never travels in clear text. The URL is refused before
    credentials are resolved (none are set: that check would name BASICAUTH) and before
    any name lookup or connection."""
    import socket

    opened: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        opened.append(args)
        raise OSError("test: no network expected")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv("BASICAUTH", raising=False)
    monkeypatch.delenv("SECRET_ARN_UDL", raising=False)
    url = "http://udl.example.invalid"
    flags = ["--udl-url", url] if where == "flag" else []
    if where == "environment":
        monkeypatch.setenv("UDL_BASE_URL", url)
    assert main(["download", "--start-date", "2026-01-01", "--end-date", "2026-01-01",
                 "--output-dir", str(tmp_path / "raw"), *flags]) == 2
    err = capsys.readouterr().err
    assert f"UDL base URL {url!r} is plain http" in err and "clear text" in err
    assert "--allow-insecure-udl-url" in err and "BASICAUTH" not in err
    assert opened == [] and not (tmp_path / "raw").exists()
