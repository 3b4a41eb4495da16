"""kill -9 of the main snakemake mid-range, then the same command again: the range
completes with the CLI's results, without a manual ``--unlock``."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time

import psutil

from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.upload.keys import s3_key

DEADLINE_S = 120


def wait_for(condition, what: str, timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def test_workflow_completes_after_kill_9_of_snakemake(workflow, cli_reference) -> None:
    second = workflow.days[1].isoformat()

    def second_day_started() -> bool:
        return workflow.telemetry.exists() and any(
            r.chunk_date_utc == second and r.status is Status.PROCESS_PENDING
            for r in workflow.rows())

    main = subprocess.Popen(workflow.command(), cwd=workflow.root, env=workflow.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(second_day_started, "the second day's job to start")
        jobs = psutil.Process(main.pid).children(recursive=True)
        main.send_signal(signal.SIGKILL)
    finally:
        main.kill()
        main.wait()
    # the running day's job outlives snakemake; let it end so the rerun's plan is fixed
    _, alive = psutil.wait_procs(jobs, timeout=DEADLINE_S)
    assert not alive
    done = {r.chunk_date_utc for r in workflow.rows() if r.status is Status.PROCESSED}
    assert workflow.days[-1].isoformat() not in done  # killed mid-range, not after it

    workflow.run()  # the same command; no --unlock
    workflow.assert_same_results(cli_reference)


KILLED_DAYS = (dt.date(2026, 2, 1), dt.date(2026, 2, 2))
BUCKET = "reach-kill-test"


def test_workflow_rerun_after_kill_during_download_day_processes_and_uploads(
        workflow, udl_server, s3_server) -> None:
    """The kill of issue 9.8: snakemake dies while day 1's download_day job runs, the job
    ends on its own (its DOWNLOADED row and artifact complete, Snakemake's incomplete
    marker left on the artifact); the same command then finishes every day."""
    udl_server.configure(latency_s=0.05, cap=2000)  # the job outlives the kill by far
    workflow.env = s3_server.environ(BASICAUTH=os.environ["BASICAUTH"])
    workflow.days = KILLED_DAYS
    s3 = s3_server.client()
    s3.create_bucket(Bucket=BUCKET)
    config = {"start_date": KILLED_DAYS[0].isoformat(), "end_date": KILLED_DAYS[-1].isoformat(),
              "download": True, "udl_url": udl_server.url, "input_dir": "raw",
              "upload_to_s3": True, "s3_bucket": BUCKET}
    first = KILLED_DAYS[0].isoformat()
    main = subprocess.Popen(workflow.command(config=config), cwd=workflow.root, env=workflow.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: workflow.telemetry.exists() and any(
            r.chunk_date_utc == first and r.status is Status.DOWNLOAD_PENDING
            for r in workflow.rows()), "day 1's download to start")
        jobs = psutil.Process(main.pid).children(recursive=True)
        main.send_signal(signal.SIGKILL)
    finally:
        main.kill()
        main.wait()
    _, alive = psutil.wait_procs(jobs, timeout=DEADLINE_S)
    assert not alive
    assert [r.status for r in workflow.rows()] == [Status.DOWNLOAD_PENDING, Status.DOWNLOADED]
    assert list((workflow.data / ".snakemake" / "incomplete").rglob("*"))  # the marker stayed

    workflow.run(config=config)  # the same command
    for day in KILLED_DAYS:
        latest = [r for r in workflow.rows() if r.chunk_date_utc == day.isoformat()][-1]
        assert latest.status is Status.UPLOADED, (day, latest.status)
        key = s3_key(workflow.cdf(day).name)
        assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == (
            workflow.cdf(day).stat().st_size)
    uploads = [r.chunk_date_utc for r in workflow.rows() if r.status is Status.UPLOADED]
    assert sorted(uploads) == [day.isoformat() for day in KILLED_DAYS]  # each day once
