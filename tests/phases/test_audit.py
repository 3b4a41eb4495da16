"""``audit`` through the real CLI against the local UDL server and moto (archive-sync.md "A day
in step", "Findings"): late records, data for a day that had none, local files and bucket
objects changed or gone; one count per day; UDL unreachable is one error, never "in step"."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.telemetry.audits import AuditStore
from swxsoc_reach.telemetry.store import TelemetryStore

SENSOR = "REACH-135"
DAYS = (dt.date(2026, 4, 1), dt.date(2026, 4, 2), dt.date(2026, 4, 3))
LATE, EMPTY, STEADY = DAYS
BUCKET = "audit-bucket"
FULL_DAY = 34_560


def _span(*extra: str) -> list[str]:
    return ["--start-date", DAYS[0].isoformat(), "--end-date", DAYS[-1].isoformat(),
            "--sensor-id", SENSOR, *extra]


@pytest.fixture
def campaign(udl_server, s3_server, tmp_path: Path) -> Path:
    """Three days uploaded while UDL held back a quarter of the first and all of the second."""
    s3_server.client().create_bucket(Bucket=BUCKET)
    udl_server.hold(LATE, 0.25)
    udl_server.configure(empty_days=frozenset({EMPTY}))
    raw, out = tmp_path / "raw", tmp_path / "cdf"
    assert main(["download", "--output-dir", str(raw), "--udl-url", udl_server.url,
                 "--initial-rate", "50", "--max-rate", "200", "-q", *_span()]) == 0
    assert main(["process", "--input-dir", str(raw), "--output-dir", str(out), "-q",
                 "--upload-to-s3", "--s3-bucket", BUCKET, *_span()]) == 0
    return tmp_path


def _audit(server, tmp_path: Path, *extra: str) -> int:
    return main(["audit", "--telemetry-file", str(tmp_path / "raw" / "download_telemetry.csv"),
                 "--udl-url", server.url, "--initial-rate", "50", "--max-rate", "200",
                 *_span(*extra)])


def _findings(out: str) -> dict[str, list[str]]:
    return {d["day"]: [f["code"] for f in d["findings"]] for d in json.loads(out)}


def test_audit_finds_late_records_and_new_data_with_one_count_per_day(
        udl_server, campaign, capsys) -> None:
    capsys.readouterr()
    assert _audit(udl_server, campaign, "--check") == 0  # as downloaded: in step
    assert "audit: 3 days: 3 in step, 0 not" in capsys.readouterr().out

    udl_server.release(LATE)
    udl_server.configure(empty_days=frozenset())
    udl_server.reset_stats()
    assert _audit(udl_server, campaign, "--check", "--format", "json") == 1
    found = json.loads(capsys.readouterr().out)
    assert {d["day"]: (d["udl_records"], d["findings"][0]["code"] if d["findings"] else None)
            for d in found} == {LATE.isoformat(): (FULL_DAY, "udl_changed"),
                                EMPTY.isoformat(): (FULL_DAY, "udl_new_data"),
                                STEADY.isoformat(): (FULL_DAY, None)}
    late = next(d for d in found if d["day"] == LATE.isoformat())
    assert 0.7 * FULL_DAY < late["downloaded_records"] < 0.8 * FULL_DAY
    assert f"UDL holds {FULL_DAY} records, the artifact {late['downloaded_records']}" in (
        late["findings"][0]["message"])
    counts = [e for e in udl_server.stats()["log"] if e["path"].endswith("/count")]
    assert len(counts) == len(udl_server.stats()["log"]) == 3  # one count per day, no more
    recorded = AuditStore(campaign / "raw" / "download_telemetry.csv").latest()
    assert [a.udl_drift for a in sorted(recorded.values(), key=lambda a: a.day)] == [
        True, True, False]


def test_audit_checks_local_files_and_the_bucket(udl_server, s3_server, campaign,
                                                 capsys) -> None:
    out = campaign / "cdf"
    rows = TelemetryStore(campaign / "raw" / "download_telemetry.csv").state()
    key = rows.get(STEADY.isoformat(), SENSOR, "QUICKLOOK").s3_key
    s3 = s3_server.client()
    s3.delete_object(Bucket=BUCKET, Key=key)
    late_key = rows.get(LATE.isoformat(), SENSOR, "QUICKLOOK").s3_key
    s3.put_object(Bucket=BUCKET, Key=late_key, Body=b"other bytes")
    day_cdf_path(out, LATE, SENSOR).unlink()
    with open(day_cdf_path(out, STEADY, SENSOR), "r+b") as fh:
        fh.seek(-10, 2)
        fh.write(b"\x00" * 10)
    capsys.readouterr()
    assert _audit(udl_server, campaign, "--s3-bucket", BUCKET, "--format", "json",
                  "--check") == 1
    found = _findings(capsys.readouterr().out)
    assert found == {LATE.isoformat(): ["cdf_missing", "s3_different"],
                     EMPTY.isoformat(): [],
                     STEADY.isoformat(): ["cdf_changed", "s3_missing"]}


def test_audit_of_an_unreachable_udl_is_one_error_and_no_day_in_step(
        udl_server, campaign, capsys) -> None:
    capsys.readouterr()
    code = main(["audit", "--telemetry-file", str(campaign / "raw" / "download_telemetry.csv"),
                 "--udl-url", "http://127.0.0.1:9", "--max-retries", "1", *_span("--check")])
    captured = capsys.readouterr()
    assert code == 1
    assert "in step" not in captured.out
    (line,) = [x for x in captured.err.splitlines() if x.strip()]
    assert line.startswith("swxsoc_reach: error: ") and "127.0.0.1:9" in line
    assert not (campaign / "raw" / "download_telemetry.audit.jsonl").exists()


def test_status_shows_a_day_changed_in_udl_as_its_own_state_until_it_is_refreshed(
        udl_server, campaign, capsys) -> None:
    telemetry = str(campaign / "raw" / "download_telemetry.csv")
    udl_server.release(LATE)
    assert _audit(udl_server, campaign) == 0  # without --check: the report only
    capsys.readouterr()
    assert main(["status", "--telemetry-file", telemetry, "--format", "json", "--check"]) == 1
    days = {d["day"]: d for d in json.loads(capsys.readouterr().out)["days"]}
    late = days[LATE.isoformat()]
    assert (late["state"], late["udl_records"]) == ("changed in UDL", FULL_DAY)
    assert late["findings"].startswith(f"udl_changed: UDL holds {FULL_DAY} records, the "
                                       f"artifact {late['records']}")
    assert days[STEADY.isoformat()]["state"] == "complete"
    assert main(["status", "--telemetry-file", telemetry]) == 0
    assert "out of step at their latest audit (1; download --refresh" in capsys.readouterr().out

    assert main(["download", "--output-dir", str(campaign / "raw"), "--udl-url",
                 udl_server.url, "--refresh", "-q", *_span()]) == 0
    assert main(["process", "--input-dir", str(campaign / "raw"), "--output-dir",
                 str(campaign / "cdf"), "--upload-to-s3", "--s3-bucket", BUCKET, "-q",
                 *_span()]) == 0
    capsys.readouterr()
    assert main(["status", "--telemetry-file", telemetry, "--check", "--format", "json"]) == 0
    late = {d["day"]: d for d in json.loads(capsys.readouterr().out)["days"]}[LATE.isoformat()]
    assert (late["state"], late["data_version"], late["findings"]) == ("complete", "1.0.1", "")
