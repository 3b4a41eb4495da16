"""``process --upload-to-s3`` end to end through the real CLI, against a real S3 endpoint
(a moto server on 127.0.0.1) reached only through the environment, as a user would:
the happy path, every fault of the runbook, kill -9 mid-upload, resume rules, dry run."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from chaos import kill_at_rename

from swxsoc_reach.cli import main
from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.s3_server import ACCESS_KEY_ID, SECRET_ACCESS_KEY, MotoServer, free_port
from swxsoc_reach.upload.keys import s3_key

SENSOR = "REACH-135"
BUCKET = "dev-swxsoc-pipeline-incoming"
DAYS = [dt.date(2026, 1, 1), dt.date(2026, 1, 2)]
P, PD, UP, UD, F = (Status.PROCESS_PENDING, Status.PROCESSED, Status.UPLOAD_PENDING,
                    Status.UPLOADED, Status.FAILED)


@pytest.fixture
def dirs(input_dirs) -> tuple[Path, Path]:
    """An input dir holding two short days, and an empty output dir."""
    return input_dirs(DAYS, SENSOR)


class SilentEndpoint:
    """An endpoint that takes connections and never answers: an upload stays in flight."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted: list[socket.socket] = []  # held open, silent, until the test ends

    def was_contacted(self) -> bool:
        """True once any client has connected."""
        with contextlib.suppress(BlockingIOError):
            while True:
                self.accepted.append(self.sock.accept()[0])
        return bool(self.accepted)

    def close(self) -> None:
        for connection in [*self.accepted, self.sock]:
            connection.close()


@pytest.fixture
def silent_endpoint() -> Iterator[SilentEndpoint]:
    endpoint = SilentEndpoint()
    yield endpoint
    endpoint.close()


def args(raw: Path, out: Path, *extra: str, upload: bool = True) -> list[str]:
    s3 = ["--upload-to-s3", "--s3-bucket", BUCKET] if upload else []
    return ["process", "--start-date", DAYS[0].isoformat(), "--end-date", DAYS[-1].isoformat(),
            "--sensor-id", SENSOR, "--input-dir", str(raw), "--output-dir", str(out), *s3,
            *extra]


def run(raw: Path, out: Path, *extra: str, upload: bool = True) -> int:
    return main(args(raw, out, *extra, upload=upload))


def rows(raw: Path, day: dt.date | None = None) -> list[Row]:
    every = TelemetryStore(raw / "download_telemetry.csv").read()
    return [r for r in every if day is None or r.chunk_date_utc == day.isoformat()]


def statuses(raw: Path, day: dt.date) -> list[Status]:
    return [r.status for r in rows(raw, day)]


def cdf(out: Path, day: dt.date) -> Path:
    return day_cdf_path(out, day, SENSOR)


def stored_bytes(server: MotoServer, day: dt.date, out: Path) -> bytes:
    key = s3_key(cdf(out, day).name)
    return server.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()


def assert_uploaded(server: MotoServer, raw: Path, out: Path, day: dt.date) -> None:
    """The day's latest row is UPLOADED with bucket and key, and the object is the CDF."""
    done = rows(raw, day)[-1]
    assert done.status is UD
    assert done.s3_bucket == BUCKET
    assert done.s3_key == f"l1c/prelim/{day:%Y/%m/%d}/{cdf(out, day).name}"
    assert float(done.upload_seconds) > 0
    assert Path(done.cdf_path) == cdf(out, day).resolve()
    assert stored_bytes(server, day, out) == cdf(out, day).read_bytes()


def assert_no_credentials_in(*texts: str) -> None:
    for text in texts:
        assert ACCESS_KEY_ID not in text and SECRET_ACCESS_KEY not in text


@pytest.fixture
def bucket(s3_server: MotoServer) -> str:
    s3_server.client().create_bucket(Bucket=BUCKET)
    return BUCKET


def test_process_upload_uploads_each_cdf_and_records_bucket_and_key(dirs, s3_server, bucket,
                                                                    capsys) -> None:
    raw, out = dirs
    assert run(raw, out) == 0
    for day in DAYS:
        assert statuses(raw, day) == [P, PD, UP, UD]
        assert_uploaded(s3_server, raw, out, day)
    assert "2 UPLOADED, 0 skipped" in capsys.readouterr().out


def test_process_upload_makes_one_s3_client_per_run(dirs, s3_server, bucket,
                                                   monkeypatch) -> None:
    made: list[str] = []
    create_client = botocore.session.Session.create_client

    def counting(self: botocore.session.Session, service_name: str, *a: Any, **k: Any) -> Any:
        made.append(service_name)
        return create_client(self, service_name, *a, **k)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)
    raw, out = dirs
    assert run(raw, out) == 0
    assert made == ["s3"]  # for two days


def test_process_upload_rerun_of_uploaded_days_does_nothing(dirs, s3_server, bucket,
                                                            capsys) -> None:
    raw, out = dirs
    assert run(raw, out) == 0
    telemetry = (raw / "download_telemetry.csv").read_bytes()
    client = s3_server.client()
    client.delete_object(Bucket=BUCKET, Key=s3_key(cdf(out, DAYS[0]).name))
    assert run(raw, out) == 0
    assert (raw / "download_telemetry.csv").read_bytes() == telemetry
    assert "2 skipped" in capsys.readouterr().out
    assert client.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1  # nothing was sent


def test_process_upload_reprocessed_day_overwrites_the_same_key(dirs, s3_server, bucket) -> None:
    raw, out = dirs
    assert run(raw, out) == 0
    cdf(out, DAYS[1]).unlink()
    (raw / "download_telemetry.csv").unlink()  # as if from scratch: every day again
    assert run(raw, out) == 0
    listed = s3_server.client().list_objects_v2(Bucket=BUCKET)["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(s3_key(cdf(out, d).name) for d in DAYS)
    for day in DAYS:
        assert_uploaded(s3_server, raw, out, day)


def test_process_upload_missing_bucket_fails_days_then_retry_uploads_only(dirs, s3_server,
                                                                          capsys) -> None:
    """Runbook: process succeeded but upload failed -> fix it, rerun with --retry-failed."""
    raw, out = dirs
    assert run(raw, out, "-vv") == 1
    err = capsys.readouterr().err
    for day in DAYS:  # the first day's failure did not stop the second
        assert statuses(raw, day) == [P, PD, UP, F]
        failed = rows(raw, day)[-1]
        assert failed.error_type == "UploadUnavailableError"  # every day would hit it
        assert f"bucket {BUCKET} does not exist: create it or fix --s3-bucket" in (
            failed.error_message)
        assert Path(failed.cdf_path) == cdf(out, day).resolve()
        assert cdf(out, day).is_file()
    assert f"{DAYS[0]} process: FAILED: UploadUnavailableError" in err
    assert_no_credentials_in(err, (raw / "download_telemetry.csv").read_text())

    mtimes = [cdf(out, d).stat().st_mtime_ns for d in DAYS]
    s3_server.client().create_bucket(Bucket=BUCKET)
    assert run(raw, out) == 1  # FAILED days wait for --retry-failed, and say so (9.2)
    assert statuses(raw, DAYS[0])[-1] is F
    assert run(raw, out, "--retry-failed") == 0
    for day in DAYS:
        assert statuses(raw, day) == [P, PD, UP, F, UP, UD]  # no new PROCESS_PENDING
        assert_uploaded(s3_server, raw, out, day)
    assert [cdf(out, d).stat().st_mtime_ns for d in DAYS] == mtimes


def test_process_upload_without_credentials_fails_days_with_a_fix(dirs, s3_server, bucket,
                                                                  monkeypatch) -> None:
    raw, out = dirs
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert run(raw, out) == 1
    for day in DAYS:
        assert statuses(raw, day) == [P, PD, UP, F]
        message = rows(raw, day)[-1].error_message
        assert "no usable AWS credentials: set AWS_ACCESS_KEY_ID" in message
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    assert run(raw, out, "--retry-failed") == 0
    for day in DAYS:
        assert statuses(raw, day)[-2:] == [UP, UD]
        assert_uploaded(s3_server, raw, out, day)


def test_process_upload_endpoint_refusing_fails_days_with_a_fix(dirs, s3_server, bucket,
                                                                monkeypatch, capsys) -> None:
    raw, out = dirs
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    assert run(raw, out, "-vv") == 1
    err = capsys.readouterr().err
    for day in DAYS:
        assert statuses(raw, day) == [P, PD, UP, F]
        message = rows(raw, day)[-1].error_message
        assert f"cannot reach the S3 endpoint {dead}" in message
        assert "check the network and AWS_ENDPOINT_URL" in message
    assert_no_credentials_in(err, (raw / "download_telemetry.csv").read_text())
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.url)
    assert run(raw, out, "--retry-failed") == 0
    for day in DAYS:
        assert statuses(raw, day) == [P, PD, UP, F, UP, UD]
        assert_uploaded(s3_server, raw, out, day)


def test_process_upload_kill9_during_upload_then_rerun_uploads_only(dirs, s3_server, bucket,
                                                                    silent_endpoint) -> None:
    raw, out = dirs
    telemetry = raw / "download_telemetry.csv"
    command = [sys.executable, "-m", "swxsoc_reach", *args(raw, out, "-q")]
    child = subprocess.Popen(command, env=s3_server.environ(AWS_ENDPOINT_URL=silent_endpoint.url),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (telemetry.exists() and UP in statuses(raw, DAYS[0])
                   and silent_endpoint.was_contacted()):  # the upload is on the wire
            assert child.poll() is None, "process ended before its upload began"
            assert time.monotonic() < deadline, "the upload never began"
            time.sleep(0.02)  # polling the telemetry file for the condition
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert statuses(raw, DAYS[0]) == [P, PD, UP]  # killed in flight: the endpoint never answered
    mtime = cdf(out, DAYS[0]).stat().st_mtime_ns

    assert run(raw, out) == 0
    assert statuses(raw, DAYS[0]) == [P, PD, UP, UP, UD]  # uploaded only
    assert statuses(raw, DAYS[1]) == [P, PD, UP, UD]
    assert cdf(out, DAYS[0]).stat().st_mtime_ns == mtime
    for day in DAYS:
        assert_uploaded(s3_server, raw, out, day)


@pytest.mark.parametrize(("flag", "suffix", "left_at"), [
    ("--receipt-dir", ".cdf.json", [P, PD, UP]),  # the workflow's receipt of the upload
    ("--quicklook", ".png", [P]),  # the day's quicklook, drawn from its finished CDF
])
def test_process_upload_kill9_while_writing_a_by_product_leaves_the_day_pending(
        dirs, s3_server, bucket, tmp_path, flag, suffix, left_at) -> None:
    """A file a day writes after its CDF or object is complete is written before the row
    that ends the stage: killed while writing it, the day is still pending, so the rerun
    does the stage again, writes the file and clears the killed write's temporary file
    (a day recorded complete is never worked on again; its leftover would stay)."""
    raw, out = dirs
    extra = [flag, str(tmp_path / "receipts")] if flag == "--receipt-dir" else [flag]
    hook = tmp_path / "hook"
    hook.mkdir()
    killed = subprocess.run([sys.executable, "-m", "swxsoc_reach", *args(raw, out, *extra, "-q")],
                            env=kill_at_rename(s3_server.environ(), hook, suffix),
                            capture_output=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert statuses(raw, DAYS[0]) == left_at
    left = list(tmp_path.rglob(f"*{suffix}.*.part"))  # receipts and CDFs are under tmp_path
    assert len(left) == 1, left  # the killed write's temporary file

    assert run(raw, out, *extra) == 0
    assert not left[0].exists()
    written = [p for p in tmp_path.rglob(f"*{suffix}") if not p.name.startswith(".")]
    assert len(written) == 2  # one per day
    for day in DAYS:
        assert statuses(raw, day)[-1] is UD
        assert_uploaded(s3_server, raw, out, day)
    # the archive tree holds exactly what was uploaded: summaries, PNGs, receipts elsewhere
    assert sorted(p for p in (out / "l1c").rglob("*") if p.is_file()) == [
        cdf(out, day) for day in DAYS]


def test_process_upload_after_local_only_run_uploads_only(dirs, s3_server, bucket) -> None:
    raw, out = dirs
    assert run(raw, out, upload=False) == 0
    mtimes = [cdf(out, d).stat().st_mtime_ns for d in DAYS]
    assert run(raw, out) == 0
    for day in DAYS:
        assert statuses(raw, day) == [P, PD, UP, UD]
        assert_uploaded(s3_server, raw, out, day)
    assert [cdf(out, d).stat().st_mtime_ns for d in DAYS] == mtimes


@pytest.mark.parametrize("latest", [PD, UP])
def test_process_upload_reprocesses_a_deleted_cdf_then_uploads(dirs, s3_server, bucket,
                                                               latest) -> None:
    """Runbook: CDF accidentally deleted -> rerun without --retry-failed."""
    raw, out = dirs
    assert run(raw, out, upload=False) == 0
    if latest is UP:  # as a kill during the upload leaves it
        done = rows(raw, DAYS[0])[-1]
        TelemetryStore(raw / "download_telemetry.csv").append(
            done.evolve(run_id="killed", status=UP, finished_at_utc=""))
    cdf(out, DAYS[0]).unlink()
    assert run(raw, out) == 0
    assert statuses(raw, DAYS[0])[-4:] == [P, PD, UP, UD]
    assert_uploaded(s3_server, raw, out, DAYS[0])


def test_process_upload_dry_run_says_what_it_would_do_and_touches_nothing(
        dirs, s3_server, bucket, silent_endpoint, monkeypatch, capsys) -> None:
    raw, out = dirs
    assert run(raw, out, "--end-date", DAYS[0].isoformat(), upload=False) == 0
    telemetry = (raw / "download_telemetry.csv").read_bytes()
    monkeypatch.setenv("AWS_ENDPOINT_URL", silent_endpoint.url)
    capsys.readouterr()
    assert run(raw, out, "--dry-run") == 0
    printed = capsys.readouterr().out
    assert f"{DAYS[0]} process: upload only" in printed
    assert f"{DAYS[1]} process: process+upload" in printed
    assert (raw / "download_telemetry.csv").read_bytes() == telemetry
    assert not cdf(out, DAYS[1]).exists()
    assert not silent_endpoint.was_contacted()


def test_process_upload_without_boto3_exits_2_before_any_day(dirs, monkeypatch, capsys) -> None:
    raw, out = dirs
    monkeypatch.setitem(sys.modules, "boto3", None)  # what an absent package looks like
    assert run(raw, out) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("swxsoc_reach: error: S3 upload needs boto3: "
                           "pip install 'swxsoc_reach[net]'")
    assert not (raw / "download_telemetry.csv").exists()
    assert not out.exists()
