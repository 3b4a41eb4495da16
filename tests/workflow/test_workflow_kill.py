"""kill -9 of the main snakemake mid-range, then the same command again: the range
completes with the CLI's results, without a manual ``--unlock``."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import time

import psutil
from chaos import (
    ROWS_PER_DAY,
    SENSOR,
    KillLog,
    assert_same_objects,
    assert_settled,
    cli_command,
    day_cdfs,
    run_campaign,
    small_days,
)
from results import assert_same_cdf

from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.upload.keys import s3_key

DEADLINE_S = 120


def wait_for(condition, what: str, timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def kill_snakemake_once(workflow, started, what: str, config: dict | None = None) -> None:
    """Run the workflow, SIGKILL the main snakemake once ``started()`` holds, then wait
    for the job it was running to end on its own (so the rerun's plan is fixed)."""
    main = subprocess.Popen(workflow.command(config=config), cwd=workflow.root,
                            env=workflow.env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(started, what)
        jobs = psutil.Process(main.pid).children(recursive=True)
        main.send_signal(signal.SIGKILL)
    finally:
        main.kill()
        main.wait()
    _, alive = psutil.wait_procs(jobs, timeout=DEADLINE_S)
    assert not alive


def test_workflow_completes_after_kill_9_of_snakemake(workflow, cli_reference) -> None:
    second = workflow.days[1].isoformat()

    def second_day_started() -> bool:
        return workflow.telemetry.exists() and any(
            r.chunk_date_utc == second and r.status is Status.PROCESS_PENDING
            for r in workflow.rows())

    kill_snakemake_once(workflow, second_day_started, "the second day's job to start")
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
    kill_snakemake_once(workflow, lambda: workflow.telemetry.exists() and any(
        r.chunk_date_utc == first and r.status is Status.DOWNLOAD_PENDING
        for r in workflow.rows()), "day 1's download to start", config)
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


CHAOS_DAYS = (dt.date(2026, 7, 1), dt.date(2026, 7, 2))
CHAOS_SEED = 11
CHAOS_KILL_POINTS, CHAOS_KILLS = 30, 4  # as many as the CLI test; more: benchmarks/chaos_kills.py


def test_workflow_chaos_kill9_of_the_snakemake_group_then_rerun_finishes_the_range(
        workflow, udl_server, s3_server, tmp_path) -> None:
    """The CLI chaos test (tests/test_chaos.py) through the workflow, ``--jobs 2``: the
    main snakemake and its jobs SIGKILLed at random instants, then the same command."""
    udl_server.configure(small_days())
    env = s3_server.environ()
    s3 = s3_server.client()
    clean = tmp_path / "clean"
    reference = subprocess.run(cli_command(clean, CHAOS_DAYS, udl_server.url, None), env=env,
                               capture_output=True, text=True, timeout=300)
    assert reference.returncode == 0, reference.stderr
    rng, log = random.Random(CHAOS_SEED), KillLog()
    campaigns = 0
    while log.kills < CHAOS_KILL_POINTS:
        campaign, campaigns = campaigns, campaigns + 1
        assert campaigns <= 3 * CHAOS_KILL_POINTS // CHAOS_KILLS, log.describe()
        shutil.rmtree(workflow.data, ignore_errors=True)  # a fresh campaign, same workflow
        bucket = f"workflow-chaos-{campaign}"
        s3.create_bucket(Bucket=bucket)
        config = {"start_date": CHAOS_DAYS[0].isoformat(), "end_date": CHAOS_DAYS[-1].isoformat(),
                  "download": True, "udl_url": udl_server.url, "input_dir": "raw",
                  "upload_to_s3": True, "s3_bucket": bucket}
        final = run_campaign(workflow.command("--jobs", "2", config=config), workflow.root,
                             env, workflow.telemetry, rng,
                             min(CHAOS_KILLS, CHAOS_KILL_POINTS - log.kills),
                             ROWS_PER_DAY * len(CHAOS_DAYS), log, extra_max_s=1.0)
        assert final.returncode == 0, final.stdout + final.stderr
        # once=False: after a kill Snakemake forces the job it was running again (it deletes
        # that job's complete output first: notes/snakemake.md), so that day's stage may have
        # a second, identical outcome row; the data and the objects are compared below
        assert_settled(workflow.telemetry, [d.isoformat() for d in CHAOS_DAYS], [workflow.data],
                       once=False)
        for day in CHAOS_DAYS:
            assert_same_cdf(workflow.cdf(day), day_cdf_path(clean / "cdf", day, SENSOR))
        assert_same_objects(s3, bucket, day_cdfs(workflow.data, CHAOS_DAYS))
        assert "nothing to do" in workflow.run(config=config).stderr  # settled, not pending
    print(f"workflow chaos: {campaigns} campaigns, {log.describe()}")
    assert {"download", "process", "upload"} <= set(log.stages), log.describe()
