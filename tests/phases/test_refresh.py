"""``download --refresh`` and the next revision (archive-sync.md "Refresh and revisions"),
through the real CLI against the local UDL server and moto: late records, data for a no-data
day and reprocessed samples are fetched again for exactly those days, processed as
``X.Y.(Z+1)`` (or the first version), uploaded under new keys; what was published stays
byte for byte; an object deleted or replaced in the bucket is uploaded again."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import cdflib
import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.upload.keys import s3_key

SENSOR = "REACH-135"
DAYS = (dt.date(2026, 6, 1), dt.date(2026, 6, 2), dt.date(2026, 6, 3))
LATE, EMPTY, STEADY = DAYS
BUCKET = "refresh-bucket"
FULL_DAY = 34_560


def _span(*extra: str) -> list[str]:
    return ["--start-date", DAYS[0].isoformat(), "--end-date", DAYS[-1].isoformat(),
            "--sensor-id", SENSOR, *extra]


def _download(server, root: Path, *extra: str) -> int:
    return main(["download", "--output-dir", str(root / "raw"), "--udl-url", server.url,
                 "--initial-rate", "50", "--max-rate", "200", "-q", *_span(*extra)])


def _process(root: Path, *extra: str) -> int:
    return main(["process", "--input-dir", str(root / "raw"), "--output-dir",
                 str(root / "cdf"), "--upload-to-s3", "--s3-bucket", BUCKET, "-q",
                 *_span(*extra)])


def _audit(server, root: Path, *extra: str) -> int:
    return main(["audit", "--telemetry-file", str(root / "raw" / "download_telemetry.csv"),
                 "--udl-url", server.url, "--initial-rate", "50", "--max-rate", "200",
                 "--s3-bucket", BUCKET, *_span(*extra)])


def _objects(s3) -> dict[str, str]:
    """Every key in the bucket and the SHA-256 of its bytes."""
    return {o["Key"]: hashlib.sha256(s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read())
            .hexdigest() for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _fetched_days(server) -> set[str]:
    """The days UDL was asked for records (not counts) since the last reset."""
    return {re.search(r"\d{4}-\d{2}-\d{2}", e["obTime"]).group(0)
            for e in server.stats()["log"] if not e["path"].endswith("/count")}


def _key(day: dt.date, version: str) -> str:
    return s3_key(day_cdf_path(Path(), day, SENSOR, version).name)


@pytest.fixture
def campaign(udl_server, s3_server, tmp_path: Path) -> Path:
    """Three days uploaded at 1.0.0 while UDL held back a quarter of the first and all of
    the second (a no-data day)."""
    s3_server.client().create_bucket(Bucket=BUCKET)
    udl_server.hold(LATE, 0.25)
    udl_server.configure(empty_days=frozenset({EMPTY}))
    assert _download(udl_server, tmp_path) == 0
    assert _process(tmp_path) == 0
    return tmp_path


def test_refresh_fetches_exactly_the_days_udl_holds_differently_as_new_revisions(
        udl_server, s3_server, campaign, capsys) -> None:
    s3 = s3_server.client()
    published = _objects(s3)
    assert set(published) == {_key(LATE, "1.0.0"), _key(STEADY, "1.0.0")}
    udl_server.release(LATE)
    udl_server.configure(empty_days=frozenset())
    assert _audit(udl_server, campaign, "--check") == 1  # both found, with their counts

    udl_server.reset_stats()
    assert _download(udl_server, campaign, "--refresh") == 0
    assert _fetched_days(udl_server) == {LATE.isoformat(), EMPTY.isoformat()}
    assert not [e for e in udl_server.stats()["log"] if e["path"].endswith("/count")]  # audited
    assert _process(campaign) == 0
    objects = _objects(s3)
    assert {k: v for k, v in objects.items() if k in published} == published  # untouched
    assert set(objects) - set(published) == {_key(LATE, "1.0.1"), _key(EMPTY, "1.0.0")}
    revision = day_cdf_path(campaign / "cdf", LATE, SENSOR, "1.0.1")
    attributes = cdflib.CDF(str(revision)).globalattsget()
    assert attributes["Data_version"] == ["1.0.1"]
    assert day_cdf_path(campaign / "cdf", LATE, SENSOR, "1.0.0").is_file()  # kept
    capsys.readouterr()
    assert _audit(udl_server, campaign, "--check") == 0
    assert "3 in step" in capsys.readouterr().out

    # a settled archive: nothing to refresh, nothing to process, no page asked for
    udl_server.reset_stats()
    assert _download(udl_server, campaign, "--refresh") == 0
    assert _process(campaign) == 0
    assert _fetched_days(udl_server) == set()
    assert _objects(s3) == objects


def test_refresh_of_reprocessed_samples_counted_on_the_spot(udl_server, s3_server, campaign,
                                                            capsys) -> None:
    """No audit first: ``--refresh`` counts each day itself, one request a day."""
    udl_server.reprocess(STEADY, 0.1)
    udl_server.reset_stats()
    assert _download(udl_server, campaign, "--refresh") == 0
    counts = [e for e in udl_server.stats()["log"] if e["path"].endswith("/count")]
    assert len(counts) == 3  # one a day, the no-data day's included (it may have data now)
    assert _fetched_days(udl_server) == {STEADY.isoformat()}
    assert _process(campaign) == 0
    assert _key(STEADY, "1.0.1") in _objects(s3_server.client())
    rows = TelemetryStore(campaign / "raw" / "download_telemetry.csv").state()
    assert rows.get(STEADY.isoformat(), SENSOR, "QUICKLOOK").status is Status.UPLOADED


def test_process_uploads_again_an_object_the_audit_found_missing_or_different(
        udl_server, s3_server, campaign, capsys) -> None:
    s3 = s3_server.client()
    published = _objects(s3)
    s3.delete_object(Bucket=BUCKET, Key=_key(STEADY, "1.0.0"))
    s3.put_object(Bucket=BUCKET, Key=_key(LATE, "1.0.0"), Body=b"other bytes")
    capsys.readouterr()
    assert _audit(udl_server, campaign, "--format", "json") == 0
    found = {d["day"]: [f["code"] for f in d["findings"]]
             for d in json.loads(capsys.readouterr().out)}
    assert found[STEADY.isoformat()] == ["s3_missing"]
    assert found[LATE.isoformat()] == ["s3_different"]
    assert _process(campaign) == 0
    assert _objects(s3) == published  # the same keys and the same bytes again
    assert _audit(udl_server, campaign, "--check") == 0
