"""Upload mode against a real S3 endpoint (moto on 127.0.0.1): each day's receipt
(bucket, key) appears only once its object is confirmed, and failed uploads are
retried as uploads only."""

from __future__ import annotations

import json
from pathlib import Path

from swxsoc_reach.paths import summary_path, upload_receipt_path
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.upload.keys import s3_key

BUCKET = "dev-swxsoc-pipeline-incoming"
UPLOAD = {"upload_to_s3": True, "s3_bucket": BUCKET}
P, PD, UP, UD, F = (Status.PROCESS_PENDING, Status.PROCESSED, Status.UPLOAD_PENDING,
                    Status.UPLOADED, Status.FAILED)


def receipt(workflow, day) -> Path:
    return workflow.data / upload_receipt_path(Path("uploads"), workflow.cdf(day).name)


def statuses(workflow, day) -> list[Status]:
    return [r.status for r in workflow.rows() if r.chunk_date_utc == day.isoformat()]


def assert_confirmed(workflow, s3, day) -> None:
    """The receipt names the object, which holds exactly the day's CDF."""
    key = s3_key(workflow.cdf(day).name)
    assert json.loads(receipt(workflow, day).read_text()) == {"bucket": BUCKET, "key": key}
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == workflow.cdf(day).stat().st_size
    last = next(r for r in reversed(workflow.rows()) if r.chunk_date_utc == day.isoformat())
    assert (last.status, last.s3_bucket, last.s3_key) == (UD, BUCKET, key)


def test_workflow_upload_processes_uploads_and_writes_receipts(workflow, s3_server) -> None:
    workflow.env = s3_server.environ()
    s3 = s3_server.client()
    s3.create_bucket(Bucket=BUCKET)
    workflow.run(config=UPLOAD)
    for day in workflow.days:
        assert statuses(workflow, day) == [P, PD, UP, UD]  # the CLI's rows in upload mode
        assert_confirmed(workflow, s3, day)
        assert summary_path(workflow.cdf(day)).is_file()  # in the about tree
    archive = workflow.cdf(workflow.days[0]).parents[4]  # <data>/l1c: only what is uploaded
    assert sorted(p for p in archive.rglob("*") if p.is_file()) == sorted(
        workflow.cdf(day) for day in workflow.days)
    rerun = workflow.run(config=UPLOAD)
    assert "nothing to do" in rerun.stderr


def test_workflow_upload_writes_no_receipt_until_the_object_is_confirmed(
        workflow, s3_server) -> None:
    workflow.env = s3_server.environ()
    s3 = s3_server.client()
    workflow.run(config=UPLOAD, expect=1)  # no bucket yet: every upload fails
    for day in workflow.days:
        assert statuses(workflow, day) == [P, PD, UP, F]
        assert workflow.cdf(day).is_file() and not receipt(workflow, day).exists()
    assert not (workflow.data / "uploads").exists() or not any(
        p.is_file() for p in (workflow.data / "uploads").rglob("*"))

    s3.create_bucket(Bucket=BUCKET)
    left_out = workflow.run(config=UPLOAD, expect=1)  # failed days wait for retry_failed
    assert "nothing to do" in left_out.stderr  # and fail the run while left (issue 19.1)
    assert "3 days FAILED (3 in an earlier run)" in left_out.stderr
    workflow.run(config={**UPLOAD, "retry_failed": True})
    for day in workflow.days:  # the runbook: the CDF is on disk, so upload only
        assert statuses(workflow, day) == [P, PD, UP, F, UP, UD]
        assert_confirmed(workflow, s3, day)


def test_workflow_rerun_after_a_kill_around_the_receipt_uploads_again_and_settles(
        workflow, s3_server) -> None:
    """The receipt is written between the object's confirmation and the UPLOADED row.
    Killed while writing it (day 1: no receipt, its temporary file, no UPLOADED row) or
    just after (day 2: the receipt, no UPLOADED row), each day is still pending: the rerun
    uploads it again, writes the receipt, clears the temporary file, and then settles."""
    workflow.env = s3_server.environ()
    s3 = s3_server.client()
    s3.create_bucket(Bucket=BUCKET)
    workflow.run(config=UPLOAD)
    first, second = workflow.days[:2]
    receipts = {day: receipt(workflow, day).read_bytes() for day in (first, second)}
    lines = workflow.telemetry.read_text().splitlines(keepends=True)
    killed = {first.isoformat(), second.isoformat()}
    workflow.telemetry.write_text("".join(  # neither day's UPLOADED row was written
        line for line in lines if not (line.split(",")[1] in killed and ",UPLOADED," in line)))
    path = receipt(workflow, first)
    path.unlink()
    leftover = path.with_name(f".{path.name}.k1ll3d_x.part")
    leftover.write_bytes(receipts[first][:7])

    workflow.run(config=UPLOAD)
    assert not leftover.exists()
    for day in (first, second):
        assert statuses(workflow, day) == [P, PD, UP, UP, UD]
        assert receipt(workflow, day).read_bytes() == receipts[day]
        assert_confirmed(workflow, s3, day)
    assert "nothing to do" in workflow.run(config=UPLOAD).stderr
