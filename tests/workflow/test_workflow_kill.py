"""kill -9 of the main snakemake mid-range, then the same command again: the range
completes with the CLI's results, without a manual ``--unlock``."""

from __future__ import annotations

import signal
import subprocess
import time

import psutil

from swxsoc_reach.telemetry.schema import Status

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
