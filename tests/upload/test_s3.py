"""The boto3 back end against a real S3 endpoint (a moto server on 127.0.0.1), configured
only through the environment, as a user would: bytes, key, type, checksums, faults."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import boto3
import pytest
from botocore.credentials import Credentials

from swxsoc_reach.errors import ConfigError, MissingDependencyError, UploadError
from swxsoc_reach.testing.s3_server import ACCESS_KEY_ID, SECRET_ACCESS_KEY, MotoServer, free_port
from swxsoc_reach.upload.s3 import Uploader, UploadReceipt, open_uploader, redact
from swxsoc_reach.upload.verify import MIB, StoredObject, confirm_stored

BUCKET = "reach-test-incoming"
NAME = "reach_all_l1c_prelim_20260101T000000_v1.0.0.cdf"
KEY = "l1c/prelim/2026/01/01/" + NAME


def fake_cdf(directory: Path, size: int, name: str = NAME, seed: int = 0) -> Path:
    """A file named like a CDF (the uploader does not read the content)."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(random.Random(seed).randbytes(size))
    return path


@pytest.fixture
def bucket(s3_server: MotoServer) -> str:
    s3_server.client().create_bucket(Bucket=BUCKET)
    return BUCKET


def test_uploader_stores_the_exact_bytes_at_the_key(s3_server, bucket, tmp_path) -> None:
    cdf = fake_cdf(tmp_path, 100_000)
    uploader = open_uploader(bucket, None)
    assert uploader.backend == "boto3" and uploader.endpoint == s3_server.url
    assert uploader.upload(cdf) == UploadReceipt(bucket, KEY)
    stored = s3_server.client().get_object(Bucket=bucket, Key=KEY, ChecksumMode="ENABLED")
    assert stored["Body"].read() == cdf.read_bytes()
    assert stored["ContentType"] == "application/x-cdf"
    assert stored["ChecksumSHA256"]  # sent with the upload, so the server verified it


def test_uploader_sends_a_large_cdf_in_parts(s3_server, bucket, tmp_path) -> None:
    cdf = fake_cdf(tmp_path, 40_000_000)  # ~40 MB, as a full REACH day
    open_uploader(bucket, None).upload(cdf)
    client = s3_server.client()
    head = client.head_object(Bucket=bucket, Key=KEY, ChecksumMode="ENABLED")
    assert head["ETag"].endswith('-5"')  # 4 parts of 8 MiB and one of 6.1 MiB
    assert head["ContentType"] == "application/x-cdf"
    assert client.get_object(Bucket=bucket, Key=KEY)["Body"].read() == cdf.read_bytes()


def test_confirm_stored_understands_boto3_default_multipart_checksum(s3_server, bucket,
                                                                     tmp_path) -> None:
    """push_science_file uploads with boto3's defaults (CRC32, 8 MiB parts): confirmable."""
    cdf = fake_cdf(tmp_path, 17 * MIB)
    client = s3_server.client()
    client.upload_file(str(cdf), bucket, KEY)
    head = client.head_object(Bucket=bucket, Key=KEY, ChecksumMode="ENABLED")
    assert "ChecksumCRC32" in head
    assert confirm_stored(cdf, StoredObject.from_head(head), KEY) == "CRC32"


def test_uploader_overwrites_the_same_key_on_reupload(s3_server, bucket, tmp_path) -> None:
    uploader = open_uploader(bucket, None)
    uploader.upload(fake_cdf(tmp_path, 5000, seed=1))
    again = fake_cdf(tmp_path, 7000, seed=2)
    assert uploader.upload(again).key == KEY
    listed = s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [(KEY, 7000)]


def test_uploader_fails_with_a_fix_when_bucket_is_missing(s3_server, tmp_path) -> None:
    cdf = fake_cdf(tmp_path, 1000)
    with pytest.raises(UploadError) as caught:
        open_uploader("no-such-bucket", None).upload(cdf)
    assert str(caught.value) == (
        f"cannot upload to s3://no-such-bucket/{KEY}: bucket no-such-bucket does not exist: "
        "create it or fix --s3-bucket, then rerun with --retry-failed")
    assert cdf.is_file()


def test_uploader_fails_with_a_fix_when_there_are_no_credentials(s3_server, bucket, tmp_path,
                                                                 monkeypatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(UploadError, match="no usable AWS credentials: set AWS_ACCESS_KEY_ID"):
        open_uploader(bucket, None).upload(fake_cdf(tmp_path, 1000))


def test_uploader_fails_with_a_fix_when_endpoint_refuses(s3_server, tmp_path,
                                                         monkeypatch) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    with pytest.raises(UploadError) as caught:
        open_uploader(BUCKET, None).upload(fake_cdf(tmp_path, 1000))
    message = str(caught.value)
    assert f"cannot reach the S3 endpoint {dead} (EndpointConnectionError)" in message
    assert "AWS_ENDPOINT_URL" in message
    assert ACCESS_KEY_ID not in message and SECRET_ACCESS_KEY not in message


def test_uploader_prefers_the_s3_specific_endpoint(s3_server, bucket, tmp_path,
                                                   monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server.url)
    assert open_uploader(bucket, None).upload(fake_cdf(tmp_path, 1000)).key == KEY


def test_open_uploader_region_flag_overrides_the_chain(s3_server) -> None:
    assert open_uploader(BUCKET, None).region == "us-east-1"  # AWS_DEFAULT_REGION
    assert open_uploader(BUCKET, "eu-west-2").region == "eu-west-2"


def test_uploader_refuses_a_missing_cdf(s3_server, bucket, tmp_path) -> None:
    with pytest.raises(UploadError, match="does not exist: rerun without --retry-failed"):
        open_uploader(bucket, None).upload(tmp_path / NAME)


def test_open_uploader_without_boto3_raises_the_install_hint(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # what an absent package looks like
    with pytest.raises(MissingDependencyError) as caught:
        open_uploader(BUCKET, None)
    assert isinstance(caught.value, RuntimeError)
    assert str(caught.value) == "S3 upload needs boto3: pip install 'swxsoc_reach[net]'"


@pytest.mark.parametrize("name", ["s3://bucket/prefix", "Upper-Case", "ab", "a..b", "-dash"])
def test_open_uploader_rejects_an_invalid_bucket_name(name: str) -> None:
    with pytest.raises(ConfigError, match="is not a valid S3 bucket name"):
        open_uploader(name, None)


def test_redact_stars_every_credential_value() -> None:
    creds = Credentials("AKIAEXAMPLE", "s3cr3t", "tok3n")
    assert redact("key AKIAEXAMPLE secret s3cr3t token tok3n", creds) == (
        "key *** secret *** token ***")
    assert redact("nothing to hide", None) == "nothing to hide"


@pytest.mark.parametrize(("stored", "problem"), [
    (b"x" * 999, "holds 999 bytes but"),  # truncated
    (b"y" * 1000, "checksum"),  # same size, other bytes
])
def test_uploader_fails_when_the_stored_object_is_not_the_file(s3_server, bucket, tmp_path,
                                                               stored, problem) -> None:
    """A transfer that lands other bytes is caught by the confirmation, not reported done."""
    session = boto3.session.Session()
    client = session.client("s3")

    def corrupting(path: Path, key: str) -> str:
        client.put_object(Bucket=bucket, Key=key, Body=stored, ChecksumAlgorithm="SHA256")
        return key

    uploader = Uploader(bucket, session, client, corrupting, "corrupting")
    with pytest.raises(UploadError, match=problem):
        uploader.upload(fake_cdf(tmp_path, 1000))
