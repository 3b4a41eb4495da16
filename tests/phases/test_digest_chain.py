"""Issue 17.1, the digest chain, through the real CLI against the local UDL server and moto:
an artifact whose bytes changed after its download (a flipped bit in a zstd artifact, one
digit in a plain one: same size, same records) fails its day naming the recovery and
nothing reaches S3; a CDF changed after PROCESSED is not uploaded as it is."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.paths import artifact_name, day_cdf_path
from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import TelemetryStore

SENSOR = "REACH-135"
DAY = dt.date(2026, 3, 2)
BUCKET = "digest-chain"


def _download(server, raw: Path, *extra: str) -> int:
    return main(["download", "--start-date", DAY.isoformat(), "--end-date", DAY.isoformat(),
                 "--sensor-id", SENSOR, "--output-dir", str(raw), "--udl-url", server.url,
                 "--initial-rate", "50", "--max-rate", "200", "-q", *extra])


def _process(raw: Path, out: Path, *extra: str) -> int:
    return main(["process", "--start-date", DAY.isoformat(), "--end-date", DAY.isoformat(),
                 "--sensor-id", SENSOR, "--input-dir", str(raw), "--output-dir", str(out),
                 *extra])


def _upload(raw: Path, out: Path, *extra: str) -> int:
    return _process(raw, out, "--upload-to-s3", "--s3-bucket", BUCKET, *extra)


def _rows(raw: Path) -> list[Row]:
    return TelemetryStore(raw / "download_telemetry.csv").read()


def _objects(s3_server) -> list[str]:
    return [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=BUCKET).get(
        "Contents", [])]


@pytest.fixture
def bucket(s3_server) -> None:
    s3_server.client().create_bucket(Bucket=BUCKET)


def _flip_a_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))


def _change_a_digit(path: Path) -> None:
    """One digit of one dose value (a data line's first ``0.000``-style number): the file
    keeps its size and its record count, so only the digest can tell."""
    text = path.read_bytes()
    at = re.search(rb"\d\.\d{6}", text[len(text) // 2:]).start() + len(text) // 2 + 2
    digit = text[at:at + 1]
    path.write_bytes(text[:at] + (b"9" if digit != b"9" else b"8") + text[at + 1:])


@pytest.mark.parametrize(("compression", "change"), [("zstd", _flip_a_bit),
                                                     ("none", _change_a_digit)])
def test_process_fails_a_day_whose_artifact_changed_since_its_download(
        udl_server, s3_server, bucket, tmp_path, capsys, compression, change) -> None:
    raw, out = tmp_path / "raw", tmp_path / "cdf"
    assert _download(udl_server, raw, "--artifact-compression", compression) == 0
    (downloaded,) = [r for r in _rows(raw) if r.status is Status.DOWNLOADED]
    artifact = raw / artifact_name(DAY, SENSOR, "csv", compression)
    assert downloaded.artifact_sha256 == hashlib.sha256(artifact.read_bytes()).hexdigest()
    size = artifact.stat().st_size
    change(artifact)
    assert artifact.stat().st_size == size
    capsys.readouterr()

    assert _upload(raw, out) == 1
    last = _rows(raw)[-1]
    assert (last.status, last.error_type) == (Status.FAILED, "InputDataError")
    assert "changed since the download" in last.error_message
    assert "run download for the day again" in last.error_message
    err = capsys.readouterr().err
    assert f"{DAY} process: FAILED" in err and "--retry-failed" in err
    assert _objects(s3_server) == []
    assert not day_cdf_path(out, DAY, SENSOR).exists()

    # the recovery the message names: download the day again, then --retry-failed
    artifact.unlink()
    assert _download(udl_server, raw, "--artifact-compression", compression) == 0
    assert _upload(raw, out, "--retry-failed") == 0
    assert _rows(raw)[-1].status is Status.UPLOADED


def test_a_new_version_over_a_changed_artifact_names_the_download_that_recovers_it(
        udl_server, s3_server, bucket, tmp_path) -> None:
    """The day is published at 1.0.0, then its artifact changes and 1.1.0 is asked: the
    message names ``download --data-version 1.1.0`` (a plain ``download`` counts the
    1.0.0 product complete and would leave the artifact gone), and following it ends the
    day UPLOADED at 1.1.0."""
    raw, out = tmp_path / "raw", tmp_path / "cdf"
    assert _download(udl_server, raw) == 0
    assert _upload(raw, out) == 0
    artifact = raw / artifact_name(DAY, SENSOR, "csv")
    _change_a_digit(artifact)

    assert _upload(raw, out, "--data-version", "1.1.0") == 1
    message = _rows(raw)[-1].error_message
    assert "run download for the day again with --data-version 1.1.0" in message, message
    artifact.unlink()
    assert _download(udl_server, raw, "--data-version", "1.1.0") == 0
    assert artifact.is_file()
    assert _upload(raw, out, "--data-version", "1.1.0", "--retry-failed") == 0
    last = _rows(raw)[-1]
    assert last.status is Status.UPLOADED and last.s3_key.endswith("_v1.1.0.cdf")


def test_upload_refuses_a_cdf_changed_since_it_was_processed(udl_server, s3_server, bucket,
                                                             tmp_path, capsys) -> None:
    raw, out = tmp_path / "raw", tmp_path / "cdf"
    assert _download(udl_server, raw) == 0
    assert _process(raw, out) == 0
    processed = _rows(raw)[-1]
    cdf = day_cdf_path(out, DAY, SENSOR)
    assert processed.status is Status.PROCESSED
    assert processed.cdf_sha256 == hashlib.sha256(cdf.read_bytes()).hexdigest()
    assert processed.artifact_sha256 == _rows(raw)[1].artifact_sha256
    data = bytearray(cdf.read_bytes())
    data[-100] ^= 0x01
    cdf.write_bytes(bytes(data))
    capsys.readouterr()

    assert _upload(raw, out) == 1
    last = _rows(raw)[-1]
    assert (last.status, last.error_type) == (Status.FAILED, "CdfChangedError")
    assert "changed on disk since it was made" in last.error_message
    assert _objects(s3_server) == []

    cdf.unlink()  # the recovery the message names
    assert _upload(raw, out, "--retry-failed") == 0
    uploaded = _rows(raw)[-1]
    assert uploaded.status is Status.UPLOADED
    body = s3_server.client().get_object(Bucket=BUCKET, Key=uploaded.s3_key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == uploaded.cdf_sha256 == hashlib.sha256(
        cdf.read_bytes()).hexdigest()


def test_status_tells_the_truth_about_an_uploaded_days_deleted_cdf_and_restore_fetches_it(
        udl_server, s3_server, bucket, tmp_path, capsys) -> None:
    """Issue 17.5: the day is complete (S3 holds it); status says where the product is and
    names the command that gets the local file back; ``restore`` fetches exactly the bytes
    the digest names, and refuses an object replaced in the bucket."""
    raw, out = tmp_path / "raw", tmp_path / "cdf"
    assert _download(udl_server, raw) == 0
    assert _upload(raw, out) == 0
    cdf = day_cdf_path(out, DAY, SENSOR)
    published = cdf.read_bytes()
    cdf.unlink()
    telemetry = str(raw / "download_telemetry.csv")
    capsys.readouterr()

    assert main(["status", "--telemetry-file", telemetry, "--check"]) == 0
    shown = capsys.readouterr().out
    assert f"{cdf.name} (only in S3)" in shown
    assert "uploaded CDFs not on local disk: 1 (complete: S3 holds them" in shown
    assert f"restore --telemetry-file {telemetry}" in shown
    assert "a plain rerun of process re-makes them" not in shown
    assert _process(raw, out, "--upload-to-s3", "--s3-bucket", BUCKET) == 0  # and process
    assert "0 skipped" not in capsys.readouterr().out  # agrees: nothing to do

    key = _rows(raw)[-1].s3_key
    s3 = s3_server.client()
    replaced = published[:-1] + bytes([published[-1] ^ 1])
    s3.put_object(Bucket=BUCKET, Key=key, Body=replaced)
    assert main(["restore", "--telemetry-file", telemetry]) == 1
    assert "does not hold the bytes its PROCESSED row recorded" in capsys.readouterr().err
    assert not cdf.exists() and not list(cdf.parent.glob(f".{cdf.name}*"))

    s3.put_object(Bucket=BUCKET, Key=key, Body=published)
    assert main(["restore", "--telemetry-file", telemetry]) == 0
    assert "restore: 1 CDFs fetched from S3" in capsys.readouterr().out
    assert cdf.read_bytes() == published
    assert main(["status", "--telemetry-file", telemetry]) == 0
    assert "only in S3" not in capsys.readouterr().out
