"""SIGKILL at random instants during ``audit`` and during a refresh (``download --refresh``
then ``process`` with upload), each followed by the same command: the end state is an
uninterrupted run's (archive-sync.md; issue 18's acceptance). Real processes against the
local UDL server and moto; the kill points come from a seeded RNG."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from chaos import KillLog, KillPoint, kill_attempt, telemetry_rows

from swxsoc_reach.telemetry.audits import AuditStore
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore

SENSOR = "REACH-135"
DAYS = (dt.date(2026, 7, 1), dt.date(2026, 7, 2), dt.date(2026, 7, 3))
BUCKET = "refresh-kill"
SPAN = ["--start-date", DAYS[0].isoformat(), "--end-date", DAYS[-1].isoformat(),
        "--sensor-id", SENSOR]
AUDIT_KILLS, REFRESH_KILLS = 6, 8


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "swxsoc_reach", *args]


@pytest.fixture
def campaign(udl_server, s3_server, tmp_path: Path) -> dict:
    """Three days uploaded at 1.0.0, then the first day's late records released and the
    third day's samples re-served reprocessed: two days for a refresh to fetch again."""
    s3_server.client().create_bucket(Bucket=BUCKET)
    udl_server.hold(DAYS[0], 0.25)
    env = s3_server.environ()  # with the udl_server fixture's BASICAUTH
    raw, out = tmp_path / "raw", tmp_path / "cdf"
    download = _cli("download", "--output-dir", str(raw), "--udl-url", udl_server.url,
                    "--initial-rate", "50", "--max-rate", "200", "-q", *SPAN)
    process = _cli("process", "--input-dir", str(raw), "--output-dir", str(out), "-q",
                   "--upload-to-s3", "--s3-bucket", BUCKET, *SPAN)
    for command in (download, process):
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    udl_server.release(DAYS[0])
    udl_server.reprocess(DAYS[2], 0.1)
    telemetry = raw / "download_telemetry.csv"
    audit = _cli("audit", "--telemetry-file", str(telemetry), "--udl-url", udl_server.url,
                 "--s3-bucket", BUCKET, "--format", "json", *SPAN)
    refresh = ["bash", "-c", f"{shlex.join([*download, '--refresh'])} && "
                             f"{shlex.join(process)}"]
    return {"env": env, "telemetry": telemetry, "audit": audit, "refresh": refresh,
            "root": tmp_path}


def _findings(output: str) -> list[tuple[str, int | None, list[str]]]:
    return [(d["day"], d["udl_records"], [f["code"] for f in d["findings"]])
            for d in json.loads(output)]


def test_audit_and_refresh_killed_at_random_instants_end_as_an_uninterrupted_run(
        campaign, s3_server) -> None:
    rng, log = random.Random(18), KillLog()
    env, telemetry, root = campaign["env"], campaign["telemetry"], campaign["root"]
    published = {o["Key"]: o["ETag"] for o in s3_server.client().list_objects_v2(
        Bucket=BUCKET)["Contents"]}

    # the audit: killed at random instants of its run, then run to the end
    reference = subprocess.run(campaign["audit"], env=env, capture_output=True, text=True,
                               timeout=300)
    expected = _findings(reference.stdout)
    assert [codes for _, _, codes in expected] == [["udl_changed"], [], ["udl_changed"]]
    for _ in range(AUDIT_KILLS):  # (an audit writes no telemetry row: kills by time alone)
        kill_attempt(campaign["audit"], root, env, telemetry,
                     KillPoint(0, rng.uniform(0.05, 0.8)), log)
    audit_kills = log.kills
    again = subprocess.run(campaign["audit"], env=env, capture_output=True, text=True,
                           timeout=300)
    assert _findings(again.stdout) == expected
    assert len(AuditStore(telemetry).latest()) == len(DAYS)  # whole lines only

    # the refresh: killed after a random number of new rows, a random instant later
    rows_at_start = telemetry_rows(telemetry)
    rows_per_run = 12  # 2 days x (download pending, done; process, upload: 2 each)
    # twice right after a download's pending row (the same day redone each time), then
    # twice in process, twice in upload (each redo gets as far as the stage killed in),
    # then anywhere: a random number of new rows, a random instant later
    stages = [Status.DOWNLOAD_PENDING] * 2 + [Status.PROCESS_PENDING] * 2 + [
        Status.UPLOAD_PENDING] * 2
    for number in range(REFRESH_KILLS):
        left = max(1, rows_at_start + rows_per_run - telemetry_rows(telemetry))
        point = (KillPoint(1, rng.uniform(0, 0.05), stages[number]) if number < len(stages)
                 else KillPoint(rng.randrange(left), rng.uniform(0, 0.4)))
        if not kill_attempt(campaign["refresh"], root, env, telemetry, point, log):
            break
    done = subprocess.run(campaign["refresh"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert log.kills - audit_kills >= 6 and log.kills >= 10, log.describe()
    assert log.stages["download"] and log.stages["process"] + log.stages["upload"], (
        log.describe())  # refreshes killed mid-download and after it

    # as an uninterrupted refresh leaves it: the two days' v1.0.1 uploaded, nothing else
    s3 = s3_server.client()
    objects = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {k: v for k, v in objects.items() if k in published} == published
    assert sorted(set(objects) - set(published)) == sorted(
        k.replace("_v1.0.0.cdf", "_v1.0.1.cdf") for k in published
        if DAYS[1].strftime("%Y%m%d") not in k)
    state = TelemetryStore(telemetry).state()
    for day in DAYS:
        latest = state.get(day.isoformat(), SENSOR, "QUICKLOOK")
        assert latest.status is Status.UPLOADED
        body = s3.get_object(Bucket=BUCKET, Key=latest.s3_key)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == latest.cdf_sha256
        assert hashlib.sha256(Path(latest.cdf_path).read_bytes()).hexdigest() == (
            latest.cdf_sha256)
    assert not [p for p in root.rglob("*") if ".part" in p.name or ".spool-" in p.name]
    final = subprocess.run([*campaign["audit"], "--check"], env=env, capture_output=True,
                           text=True, timeout=300)
    assert final.returncode == 0, final.stdout + final.stderr
    print(log.describe())
