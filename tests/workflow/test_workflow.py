"""The Snakemake workflow run for real on the bundled sample: plan, run, resume rules,
config errors, ordering and parallel runs, each compared with what the CLI does."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import pytest

from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.views.quicklook import quicklook_path

EXTRA_DAY = dt.date(2025, 9, 6)  # the day after the sample: no input


def process_rows(rows: list[Row], day: dt.date) -> list[Status]:
    return [r.status for r in rows if r.chunk_date_utc == day.isoformat()]


def test_workflow_dry_run_lists_day_jobs_and_writes_nothing(workflow) -> None:
    result = workflow.run("-n")
    jobs = re.findall(r"rule process_day:.*?wildcards: yyyy=(\d+), mm=(\d+), dd=(\d+)",
                      result.stdout, flags=re.S)
    assert sorted("-".join(job) for job in jobs) == [d.isoformat() for d in workflow.days]
    assert "3 days to work on: 3 process" in result.stderr
    assert workflow.files() == {}


def test_workflow_dry_run_takes_relative_dates_from_the_config(workflow) -> None:
    workflow.env["SWXSOC_REACH_TODAY"] = "2025-09-06"  # the testing hook fixes "today"
    result = workflow.run("-n", config={"start_date": "today-3", "end_date": "yesterday"})
    jobs = re.findall(r"rule process_day:.*?wildcards: yyyy=(\d+), mm=(\d+), dd=(\d+)",
                      result.stdout, flags=re.S)
    assert sorted("-".join(job) for job in jobs) == [d.isoformat() for d in workflow.days]
    assert workflow.files() == {}


def test_workflow_range_gives_the_cdfs_and_telemetry_of_the_cli(completed_run,
                                                                 cli_reference) -> None:
    """config/range.yaml as committed; --jobs 1 (the default profile) works in date order."""
    completed_run.assert_same_results(cli_reference, ordered=True)
    logs = completed_run.data / "logs" / "process"
    names = sorted(p.name for p in logs.iterdir())  # <day>.<run id>.log, one run
    assert [name.split(".")[0] for name in names] == [str(d) for d in completed_run.days]
    assert len({name.split(".")[1] for name in names}) == 1


def test_workflow_rerun_of_a_complete_range_does_nothing(done_workflow) -> None:
    before = done_workflow.files()
    result = done_workflow.run()
    assert "swxsoc_reach: nothing to do: 2025-09-03..2025-09-05" in result.stderr
    assert "Nothing to be done" in result.stdout + result.stderr
    assert done_workflow.files() == before


def test_workflow_reprocesses_only_a_deleted_cdf(done_workflow, cli_reference) -> None:
    gone = done_workflow.days[1]
    done_workflow.cdf(gone).unlink()
    before = {name: mtime for name, mtime in done_workflow.files().items() if "l1c" in name}
    done_workflow.run()
    after = {name: mtime for name, mtime in done_workflow.files().items() if "l1c" in name}
    changed = {name for name in after if after[name] != before.get(name)}
    assert {name for name in changed if name.endswith(".cdf")} == {
        str(done_workflow.cdf(gone).relative_to(done_workflow.data))}
    assert all(f"/{gone:%Y/%m/%d}/" in name for name in changed)  # its summary too, only
    statuses = [(r.chunk_date_utc, r.status) for r in done_workflow.rows()]
    assert statuses[6:] == [(gone.isoformat(), Status.PROCESS_PENDING),
                            (gone.isoformat(), Status.PROCESSED)]


def test_workflow_redoes_a_day_left_pending_although_its_cdf_exists(done_workflow) -> None:
    """Telemetry decides: a CDF without its PROCESSED row is redone, as the CLI would."""
    day = done_workflow.days[0]
    last = next(r for r in done_workflow.rows() if r.chunk_date_utc == day.isoformat())
    TelemetryStore(done_workflow.telemetry).append(last.evolve(
        run_id="interrupted", started_at_utc="2099-01-01T00:00:00.000000Z"))
    result = done_workflow.run()
    assert "1 days to work on: 1 process" in result.stderr
    assert process_rows(done_workflow.rows(), day)[-2:] == [Status.PROCESS_PENDING,
                                                            Status.PROCESSED]
    assert len(done_workflow.rows()) == 9  # the other days untouched


def test_workflow_leaves_a_failed_day_out_until_retry_failed(workflow, cli_reference) -> None:
    bad = workflow.days[1]
    artifact = next((workflow.root / "sample" / "raw").glob(f"REACH-135_{bad:%Y%m%d}T*"))
    good = artifact.read_bytes()
    artifact.write_text("not,a,reach,artifact\n1,2,3,4\n")
    result = workflow.run(expect=1)  # keep-going: the other days still run
    assert "process_day" in result.stderr
    assert process_rows(workflow.rows(), bad) == [Status.PROCESS_PENDING, Status.FAILED]
    assert all(workflow.cdf(d).is_file() for d in workflow.days if d != bad)

    assert ("swxsoc_reach: 2025-09-03..2025-09-05: 1 day FAILED (1 now): fix the cause, then "
            "rerun with --config retry_failed=True") in result.stderr

    artifact.write_bytes(good)  # fixed, but failed days wait for retry_failed: and while
    rerun = workflow.run(expect=1)  # one is left FAILED, the run fails (issue 19.1), as
    assert "nothing to do" in rerun.stderr  # the CLI's does, though nothing else is to do
    assert ("1 day FAILED (1 in an earlier run): fix the cause, then rerun with "
            "--config retry_failed=True") in rerun.stderr
    # the failed day named with the log of the attempt that failed it
    first_log = next((workflow.data / "logs" / "process").glob(f"{bad}.*.log"))
    assert f"  {bad} InputDataError: " in rerun.stderr
    assert f"(log: logs/process/{first_log.name})" in rerun.stderr
    assert process_rows(workflow.rows(), bad) == [Status.PROCESS_PENDING, Status.FAILED]
    status = subprocess.run([sys.executable, "-m", "swxsoc_reach", "status",
                             "--telemetry-file", str(workflow.telemetry)], capture_output=True,
                            text=True, check=False, timeout=120)
    assert f"(log: {workflow.data / 'logs' / 'process' / first_log.name})" in status.stdout
    assert workflow.run("-n").returncode == 0  # a dry run only plans (as the CLI's)

    retried = workflow.run(config={"retry_failed": True})
    assert "every day complete or without data" in retried.stderr
    assert process_rows(workflow.rows(), bad)[-1] is Status.PROCESSED
    assert workflow.cdf(bad).is_file()
    # the failed attempt's log is kept beside the retry's (issue 19.4)
    logs = sorted((workflow.data / "logs" / "process").glob(f"{bad}.*.log"))
    assert len(logs) == 2 and first_log in logs
    assert "InputDataError" in first_log.read_text()
    assert "InputDataError" not in next(p for p in logs if p != first_log).read_text()


def test_workflow_honours_limit_days(workflow) -> None:
    workflow.run(config={"limit_days": 2})
    assert [workflow.cdf(d).is_file() for d in workflow.days] == [True, True, False]
    workflow.run(config={"limit_days": 2})  # counted from the first day not complete
    assert workflow.cdf(workflow.days[2]).is_file()


@pytest.mark.parametrize(("config", "message"), [
    ({"strat_date": "2025-09-03"}, "Additional properties are not allowed ('strat_date' was "
     "unexpected)"),
    ({"end_date": "2025-09-31"}, "config end_date '2025-09-31' is not a real date"),
    ({"end_date": "2025-9-30"}, "'2025-9-30' does not match"),
    ({"end_date": "2025-09-01"}, "end date 2025-09-01 is before start date 2025-09-03"),
    ({"limit_days": 0}, "0 is less than the minimum of 1"),
    # issue 20.6: the credential would travel in clear text
    ({"download": True, "udl_url": "http://udl.example"}, "'http://udl.example' does not match"),
])
def test_workflow_rejects_a_bad_config_before_any_job(workflow, config, message) -> None:
    result = workflow.run(config=config, expect=1)
    assert message in result.stderr
    assert "rule process_day" not in result.stdout + result.stderr
    assert not workflow.data.exists() or workflow.files() == {}


def test_workflow_records_a_day_without_input_and_goes_on(workflow) -> None:
    workflow.run(config={"end_date": EXTRA_DAY.isoformat()})
    rows = workflow.rows()
    assert process_rows(rows, EXTRA_DAY) == [Status.SKIPPED_NO_INPUT]
    assert rows[-1].chunk_date_utc == EXTRA_DAY.isoformat()  # in date order, after the rest
    assert all(workflow.cdf(d).is_file() for d in workflow.days)
    before = workflow.telemetry.read_bytes()
    again = workflow.run(config={"end_date": EXTRA_DAY.isoformat()})  # still no input:
    assert "nothing to do" in again.stderr  # no new row (the CLI's rule too), settled
    assert workflow.telemetry.read_bytes() == before


def test_workflow_with_two_jobs_gives_the_result_of_one(workflow, cli_reference) -> None:
    workflow.run("--jobs", "2")
    workflow.assert_same_results(cli_reference, ordered=False)
    rows = workflow.rows()
    for day in workflow.days:  # each day's own rows still in lifecycle order
        assert process_rows(rows, day) == [Status.PROCESS_PENDING, Status.PROCESSED]


def test_workflow_days_run_in_date_order_even_when_planned_out_of_order(done_workflow) -> None:
    """Priorities, not luck: delete the CDFs last-first and the days still run first-first."""
    for day in reversed(done_workflow.days):
        done_workflow.cdf(day).unlink()
    done_workflow.run()
    order = [r.chunk_date_utc for r in done_workflow.rows()[6:] if r.status is Status.PROCESSED]
    assert order == [d.isoformat() for d in done_workflow.days]


def test_workflow_quicklook_draws_a_png_of_each_cdf_in_the_about_tree(workflow) -> None:
    workflow.run(config={"quicklook": True})
    for day in workflow.days:
        assert quicklook_path(workflow.cdf(day)).read_bytes().startswith(b"\x89PNG")
    archive = workflow.cdf(workflow.days[0]).parents[4]  # <data>/l1c: only the CDFs
    assert sorted(p for p in archive.rglob("*") if p.is_file()) == sorted(
        workflow.cdf(day) for day in workflow.days)


def test_workflow_keeps_every_attempts_log_with_two_campaigns_at_once(workflow) -> None:
    """Issue 19.4: two runs at once on one telemetry (the day worked by one, skipped as
    busy or done by the other) keep both runs' log and benchmark file of the day."""
    workflow.days = workflow.days[:1]
    one_day = {"end_date": workflow.days[0].isoformat()}
    runs = [subprocess.Popen(workflow.command(config=one_day), cwd=workflow.root,
                             env=workflow.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(2)]
    for run in runs:
        run.wait(timeout=300)
    for kind, suffix in (("process", ".log"), ("benchmarks/process", ".tsv")):
        files = sorted((workflow.data / "logs" / kind).iterdir())
        assert all(path.suffix == suffix and path.stat().st_size for path in files)
        by_day = {(day, run) for day, run, _ in (path.name.split(".") for path in files)}
        assert len(by_day) == len(files) == 2 * len(workflow.days)  # one per day and run
    rows = workflow.rows()
    assert {r.run_id for r in rows if r.status is Status.PROCESSED} <= {run for _, run in by_day}
    assert all(workflow.cdf(day).is_file() for day in workflow.days)
