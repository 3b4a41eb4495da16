"""The sdc_aws_utils back end: with a stand-in ``sdc_aws_utils`` on ``sys.path`` (the real
one is not on the package index), the adapter sets SWXSOC_MISSION before importing it,
stages the CDF at literally /tmp/<name>, removes the copy after, and lands the object
at the same key as the boto3 back end, confirmed against a real S3 endpoint."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import boto3
import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.errors import UploadError
from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.upload import sdc
from swxsoc_reach.upload.keys import s3_key
from swxsoc_reach.upload.s3 import open_uploader

FAKE_SDC = Path(__file__).parent / "fake_sdc"
BROKEN_SDC = Path(__file__).parent / "broken_sdc"  # installed, but its import fails
BUCKET = "reach-sdc-test"
TMP = Path("/tmp")
_unique = itertools.count()


def unique_name(day: str = "20310719", mode: str = "all") -> str:
    """A CDF name no one else uses: /tmp is shared with other processes."""
    return f"reach_{mode}_l1c_prelim_{day}T000000_v9.{os.getpid()}.{next(_unique)}.cdf"


def write_cdf(directory: Path, name: str) -> Path:
    path = directory / name
    path.write_bytes(os.urandom(3000))
    return path


@pytest.fixture
def fake_sdc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The stand-in importable; SWXSOC_MISSION set to another mission; TMPDIR elsewhere."""
    monkeypatch.syspath_prepend(str(FAKE_SDC))
    monkeypatch.setenv("SWXSOC_MISSION", "hermes")  # the adapter must override it
    elsewhere = tmp_path / "tmpdir"
    elsewhere.mkdir()
    monkeypatch.setenv("TMPDIR", str(elsewhere))
    monkeypatch.setattr(tempfile, "tempdir", str(elsewhere))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # the adapter sets it up
    yield
    for module in [m for m in sys.modules if m.split(".")[0] == "sdc_aws_utils"]:
        del sys.modules[module]


def fake_aws() -> ModuleType:
    return sys.modules["sdc_aws_utils.aws"]


@pytest.fixture
def bucket(s3_server) -> str:
    s3_server.client().create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.mark.parametrize(("day", "mode", "place"), [("20310719", "all", "2031/07/19"),
                                                    ("20301231", "135", "2030/12/31"),
                                                    ("20320229", "101", "2032/02/29")])
def test_sdc_backend_uploads_to_the_boto3_key(fake_sdc, s3_server, bucket, tmp_path, day, mode,
                                              place) -> None:
    name = unique_name(day, mode)
    cdf = write_cdf(tmp_path, name)
    uploader = open_uploader(bucket, None)
    assert uploader.backend == "sdc_aws_utils"
    receipt = uploader.upload(cdf)
    assert receipt.key == s3_key(name) == f"l1c/prelim/{place}/{name}"
    stored = s3_server.client().get_object(Bucket=bucket, Key=receipt.key)
    assert stored["Body"].read() == cdf.read_bytes()
    assert stored["ContentType"] == "application/x-cdf"


def test_sdc_backend_stages_in_literal_tmp_and_removes_the_copy(fake_sdc, s3_server, bucket,
                                                                tmp_path) -> None:
    name = unique_name()
    cdf = write_cdf(tmp_path, name)
    open_uploader(bucket, None).upload(cdf)
    (call,) = fake_aws().CALLS
    assert call["source"] == TMP / name  # not TMPDIR
    assert call["sha256"] == hashlib.sha256(cdf.read_bytes()).hexdigest()
    assert call["mission"] == "swxsoc_pipeline"  # set before the library was imported
    assert os.environ["SWXSOC_MISSION"] == "swxsoc_pipeline"
    assert not (TMP / name).exists()
    assert cdf.is_file()
    assert not list(TMP.glob(f".{name}.*"))  # no staging temp left either


def test_sdc_backend_removes_the_copy_when_the_upload_fails(fake_sdc, s3_server,
                                                           tmp_path) -> None:
    name = unique_name()
    cdf = write_cdf(tmp_path, name)
    with pytest.raises(UploadError, match="bucket no-such-bucket does not exist"):
        open_uploader("no-such-bucket", None).upload(cdf)
    assert fake_aws().CALLS  # it got as far as the library
    assert not (TMP / name).exists()
    assert cdf.is_file()


def test_sdc_backend_fails_when_the_library_reports_another_key(fake_sdc, s3_server, bucket,
                                                               tmp_path, monkeypatch) -> None:
    open_uploader(bucket, None)  # imports the stand-in
    monkeypatch.setattr(fake_aws(), "MISSION", "hermes")  # as if imported with another mission
    name = unique_name()
    with pytest.raises(UploadError, match=f"stored {name} at s3://{BUCKET}/l1c/2031/07/19/"):
        open_uploader(bucket, None).upload(write_cdf(tmp_path, name))


def test_staged_in_tmp_uses_a_cdf_already_there_and_keeps_it() -> None:
    name = unique_name()
    cdf = write_cdf(TMP, name)
    try:
        with sdc.staged_in_tmp(cdf) as staged:
            assert staged == name
        assert cdf.is_file()
    finally:
        cdf.unlink()


def test_staged_in_tmp_leaves_a_copy_that_is_no_longer_ours(tmp_path) -> None:
    name = unique_name()
    cdf = write_cdf(tmp_path, name)
    try:
        with sdc.staged_in_tmp(cdf):
            (TMP / name).unlink()
            (TMP / name).write_bytes(b"someone else's")  # a concurrent run re-staged it
        assert (TMP / name).read_bytes() == b"someone else's"
    finally:
        (TMP / name).unlink(missing_ok=True)


def test_process_upload_via_sdc_aws_utils_records_the_spec_key(fake_sdc, s3_server, bucket,
                                                               input_dirs) -> None:
    day = dt.date(2031, 7, 19)
    raw, out = input_dirs([day], "REACH-135")
    assert main(["process", "--start-date", day.isoformat(), "--end-date", day.isoformat(),
                 "--sensor-id", "REACH-135", "--input-dir", str(raw), "--output-dir", str(out),
                 "--upload-to-s3", "--s3-bucket", BUCKET]) == 0
    cdf = day_cdf_path(out, day, "REACH-135")
    rows = TelemetryStore(raw / "download_telemetry.csv").read()
    assert [r.status for r in rows] == [Status.PROCESS_PENDING, Status.PROCESSED,
                                        Status.UPLOAD_PENDING, Status.UPLOADED]
    assert rows[-1].s3_bucket == BUCKET
    assert rows[-1].s3_key == f"l1c/prelim/2031/07/19/{cdf.name}"
    assert [call["source"] for call in fake_aws().CALLS] == [TMP / cdf.name]
    assert not (TMP / cdf.name).exists()
    stored = s3_server.client().get_object(Bucket=BUCKET, Key=rows[-1].s3_key)
    assert stored["Body"].read() == cdf.read_bytes()


def test_process_upload_falls_back_to_boto3_when_sdc_aws_utils_cannot_be_imported(
        s3_server, bucket, input_dirs) -> None:
    """Installed but broken (a dependency of it is missing): one warning, same key, no crash."""
    day = dt.date(2031, 7, 20)
    raw, out = input_dirs([day], "REACH-135")
    env = s3_server.environ(PYTHONPATH=os.pathsep.join([str(BROKEN_SDC), *sys.path]))
    result = subprocess.run(
        [sys.executable, "-m", "swxsoc_reach", "process", "--start-date", day.isoformat(),
         "--end-date", day.isoformat(), "--sensor-id", "REACH-135", "--input-dir", str(raw),
         "--output-dir", str(out), "--upload-to-s3", "--s3-bucket", BUCKET],
        env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "sdc_aws_utils" in line]
    assert len(warnings) == 1, result.stderr
    assert "WARNING" in warnings[0]
    assert "No module named 'swxsoc_reach_test_missing_dependency'" in warnings[0]
    assert "boto3" in warnings[0]
    assert "Traceback" not in result.stderr
    cdf = day_cdf_path(out, day, "REACH-135")
    latest = TelemetryStore(raw / "download_telemetry.csv").read()[-1]
    assert (latest.status, latest.s3_key) == (Status.UPLOADED, s3_key(cdf.name))
    stored = s3_server.client().get_object(Bucket=BUCKET, Key=latest.s3_key)
    assert stored["Body"].read() == cdf.read_bytes()
