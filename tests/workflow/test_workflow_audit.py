"""An audit's S3 findings act on the workflow's plan as on the CLI's (archive-sync.md
"Findings": the next ordinary run repairs them): real Snakemake, the local UDL server and
moto. An object deleted and one replaced with other bytes are found by ``audit``, then a
plain workflow run uploads both again (same keys, the local CDFs' bytes) and settles."""

from __future__ import annotations

import datetime as dt

from chaos import SENSOR, assert_same_objects, day_cdfs, small_days

from swxsoc_reach.cli import main

DAYS = (dt.date(2026, 8, 1), dt.date(2026, 8, 2))
BUCKET = "reach-audit-workflow"


def test_workflow_uploads_again_what_an_audit_found_missing_or_different_in_s3(
        workflow, udl_server, s3_server) -> None:
    udl_server.configure(small_days())
    workflow.env = s3_server.environ()
    s3 = s3_server.client()
    s3.create_bucket(Bucket=BUCKET)
    config = {"start_date": DAYS[0].isoformat(), "end_date": DAYS[-1].isoformat(),
              "sensor_id": SENSOR, "download": True, "udl_url": udl_server.url,
              "input_dir": "raw", "upload_to_s3": True, "s3_bucket": BUCKET}
    workflow.run(config=config)
    cdfs = day_cdfs(workflow.data, DAYS)
    gone, replaced = sorted(cdfs)  # S3 keys
    s3.delete_object(Bucket=BUCKET, Key=gone)
    s3.put_object(Bucket=BUCKET, Key=replaced, Body=b"other bytes")
    assert "nothing to do" in workflow.run("-n", config=config).stderr  # nobody looked yet

    audit = ["audit", "--telemetry-file", str(workflow.telemetry), "--start-date",
             DAYS[0].isoformat(), "--end-date", DAYS[-1].isoformat(), "--sensor-id", SENSOR,
             "--udl-url", udl_server.url, "--s3-bucket", BUCKET, "--check", "-q"]
    assert main(audit) == 1
    plan = workflow.run("-n", config=config).stderr
    assert "2 days to work on: 2 upload only" in plan, plan

    workflow.run(config=config)
    assert_same_objects(s3, BUCKET, cdfs)  # the same keys, the local CDFs' bytes again
    assert main(audit) == 0
    assert "nothing to do" in workflow.run(config=config).stderr
