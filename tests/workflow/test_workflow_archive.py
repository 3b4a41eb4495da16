"""Issue 17 through real Snakemake, the local UDL server and moto: an uploaded campaign whose
artifacts are changed, pruned, asked for again at a new version, asked for at an older one,
and whose data directory is moved. Each step's outcome is counted where it happens: UDL
requests at the server, objects in the bucket, rows in the telemetry."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

from swxsoc_reach.paths import artifact_name
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.upload.keys import s3_key

DAYS = (dt.date(2026, 2, 1), dt.date(2026, 2, 2))
SENSOR = "REACH-135"
BUCKET = "archive-life"


def _requested_days(udl_server) -> set[str]:
    """The days UDL was asked about since the last reset."""
    return {re.search(r"\d{4}-\d{2}-\d{2}", e["obTime"]).group(0)
            for e in udl_server.stats()["log"] if e.get("obTime")}


def _keys(s3) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _cli(workflow, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "swxsoc_reach", *args], cwd=workflow.data,
                          env=workflow.env, capture_output=True, text=True, timeout=300)


def test_workflow_keeps_an_uploaded_campaign_through_changes_pruning_versions_and_a_move(
        workflow, udl_server, s3_server, tmp_path: Path) -> None:
    workflow.env = s3_server.environ()  # with the udl_server fixture's BASICAUTH
    workflow.days = DAYS
    s3 = s3_server.client()
    s3.create_bucket(Bucket=BUCKET)
    config = {"start_date": DAYS[0].isoformat(), "end_date": DAYS[-1].isoformat(),
              "download": True, "udl_url": udl_server.url, "input_dir": "raw",
              "artifact_compression": "zstd", "upload_to_s3": True, "s3_bucket": BUCKET}
    raw = workflow.data / "raw"
    artifacts = [raw / artifact_name(day, SENSOR, "csv", "zstd") for day in DAYS]
    workflow.run(config=config)
    v100 = _keys(s3)
    assert len(v100) == 2
    v100_bytes = {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in v100}

    # a flipped bit in one artifact, the other pruned: a new version over both
    flipped = bytearray(artifacts[0].read_bytes())
    flipped[len(flipped) // 2] ^= 0x04
    artifacts[0].write_bytes(bytes(flipped))
    artifacts[1].unlink()
    v101 = {**config, "data_version": "1.0.1"}
    plan = workflow.run("-n", config=v101)
    assert "1 day needs its artifact again" in plan.stderr
    udl_server.reset_stats()
    workflow.run(config=v101, expect=1)
    assert _requested_days(udl_server) == {DAYS[1].isoformat()}  # exactly the pruned day
    first = [r for r in workflow.rows() if r.chunk_date_utc == DAYS[0].isoformat()][-1]
    assert (first.status, first.error_type) == (Status.FAILED, "InputDataError")
    assert "changed since the download" in first.error_message
    assert _keys(s3) - v100 == {s3_key(workflow.cdf(DAYS[1]).name.replace("1.0.0", "1.0.1"))}

    artifacts[0].unlink()  # the recovery the message names
    workflow.run(config={**v101, "retry_failed": True})
    assert len(_keys(s3) - v100) == 2
    for key in v100:  # the 1.0.0 objects stay as they were
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == v100_bytes[key]

    # every artifact pruned: nothing to do, not one UDL request, by the workflow or the CLI
    for artifact in raw.glob("REACH-*"):
        artifact.unlink()
    udl_server.reset_stats()
    assert "nothing to do" in workflow.run(config=v101).stderr
    span = ["--start-date", config["start_date"], "--end-date", config["end_date"],
            "--sensor-id", SENSOR, "--telemetry-file", "download_telemetry.csv",
            "--data-version", "1.0.1"]
    download = _cli(workflow, "download", "--output-dir", "raw", "--udl-url", udl_server.url,
                    "--artifact-compression", "zstd", *span, "-v")
    assert download.returncode == 0, download.stderr
    assert download.stderr.count("download: skip (product made; artifact not needed)") == 2
    process = _cli(workflow, "process", "--input-dir", "raw", "--output-dir", ".",
                   "--upload-to-s3", "--s3-bucket", BUCKET, *span)
    assert process.returncode == 0, process.stderr
    assert "0 skipped" not in process.stdout and "2 skipped" in process.stdout
    assert udl_server.stats()["counters"].get("requests", 0) == 0

    # the older version asked for again: its products are complete, nothing to do; one
    # never made: refused before any job, naming how many days it would downgrade
    before = workflow.telemetry.read_bytes()
    assert "nothing to do" in workflow.run(config=config).stderr
    refused = workflow.run(config={**config, "data_version": "0.9.0"}, expect=1)
    assert "2 days have a newer version than 0.9.0" in refused.stderr
    assert workflow.telemetry.read_bytes() == before

    # the whole data directory moved: the same state, and nothing to do
    moved = tmp_path / "moved"
    shutil.copytree(workflow.root, moved, symlinks=True)
    shutil.rmtree(workflow.root)
    workflow.root = moved
    assert "nothing to do" in workflow.run(config=v101).stderr
    status = _cli(workflow, "status", "--telemetry-file", str(workflow.telemetry), "--check",
                  "-q")
    assert status.returncode == 0, status.stdout + status.stderr
    for day in DAYS:  # the rows now name the files where they are
        last = [r for r in workflow.rows() if r.chunk_date_utc == day.isoformat()][-1]
        assert Path(last.cdf_path).is_relative_to(moved)
        assert hashlib.sha256(Path(last.cdf_path).read_bytes()).hexdigest() == last.cdf_sha256
