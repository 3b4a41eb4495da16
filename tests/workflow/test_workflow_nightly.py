"""A nightly workflow (archive-sync.md "Nightly operation"), real Snakemake against the local
UDL server: ``end_date: yesterday`` with a fixed "today" (``SWXSOC_REACH_TODAY``, the tests'
hook) moved forward over the runs, ``recheck_days: 2``. Each run adds the new day, counts
the last two days in UDL and refreshes the one that grew (its next revision); a run over an
unchanged archive asks UDL for the two counts only."""

from __future__ import annotations

import datetime as dt
import os
import re

from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.telemetry.schema import Status

SENSOR = "REACH-135"
FIRST = dt.date(2026, 5, 1)


def _today(day: dt.date) -> dict[str, str]:
    return {**os.environ, "SWXSOC_REACH_TODAY": day.isoformat()}


def _asked(server) -> tuple[list[str], set[str]]:
    """The count requests, and the days whose records were asked, since the last reset."""
    log = server.stats()["log"]
    counts = [e["obTime"] for e in log if e["path"].endswith("/count")]
    fetched = {re.search(r"\d{4}-\d{2}-\d{2}", e["obTime"]).group(0) for e in log
               if not e["path"].endswith("/count")}
    return counts, fetched


def test_workflow_nightly_adds_the_new_day_and_refreshes_the_day_that_grew(
        workflow, udl_server) -> None:
    config = {"start_date": FIRST.isoformat(), "end_date": "yesterday", "download": True,
              "udl_url": udl_server.url, "input_dir": "raw", "recheck_days": 2}
    new_day = FIRST + dt.timedelta(days=2)
    udl_server.hold(new_day, 0.25)  # its last records reach UDL after its first night

    workflow.env = _today(FIRST + dt.timedelta(days=2))  # night 1: two days
    plan = workflow.run("-n", config=config)
    assert "recheck: 2 days (2026-05-01..2026-05-02) counted in UDL" in plan.stderr
    udl_server.reset_stats()
    workflow.run(config=config)
    counts, fetched = _asked(udl_server)
    assert fetched == {"2026-05-01", "2026-05-02"} and len(counts) == 2

    workflow.env = _today(new_day + dt.timedelta(days=1))  # night 2: the new day, held back
    workflow.run(config=config)
    first = [r for r in workflow.rows() if r.chunk_date_utc == new_day.isoformat()
             and r.status is Status.DOWNLOADED]
    assert len(first) == 1 and int(first[0].records_downloaded) < 34_560

    udl_server.release(new_day)  # night 3: the new day grew; another new day
    workflow.env = _today(new_day + dt.timedelta(days=2))
    udl_server.reset_stats()
    workflow.run(config=config)
    counts, fetched = _asked(udl_server)
    assert fetched == {new_day.isoformat(), (new_day + dt.timedelta(days=1)).isoformat()}
    assert len(counts) == 2
    out = workflow.data
    assert day_cdf_path(out, new_day, SENSOR, "1.0.1").is_file()  # its next revision
    assert day_cdf_path(out, new_day, SENSOR, "1.0.0").is_file()  # the first one kept
    assert not day_cdf_path(out, new_day + dt.timedelta(days=1), SENSOR, "1.0.1").exists()

    udl_server.reset_stats()  # the same night again: nothing changed
    again = workflow.run(config=config)
    assert "nothing to do" in again.stderr
    counts, fetched = _asked(udl_server)
    assert len(counts) == 2 and fetched == set()  # two counts, at most 10 requests

    # drift no run can repair by itself (an artifact edited by hand): the night fails
    artifact = next((workflow.data / "raw").glob(f"REACH-135_{new_day:%Y%m%d}T*"))
    artifact.write_bytes(artifact.read_bytes().replace(b"0", b"1", 1))
    failed = workflow.run(config=config, expect=1)
    assert "recheck" in failed.stderr
    assert any("artifact_changed" in p.read_text()
               for p in (workflow.data / "logs" / "recheck").glob("*.log"))


def test_shipped_nightly_config_plans_the_range_to_yesterday_and_its_recheck(workflow) -> None:
    """config/nightly.yaml as shipped: a dry run, which makes no network call."""
    workflow.env = _today(dt.date(2025, 9, 20))
    result = workflow.run("--configfile", "config/nightly.yaml", "-n")
    assert "2025-09-01..2025-09-19" in result.stderr
    assert "recheck: 10 days (2025-09-10..2025-09-19) counted in UDL by one job" in (
        result.stderr)
