"""Download mode against the local UDL server: download_day then process_day per day
give the rows and CDFs of ``download`` then ``process``, and download jobs share one
UDL rate budget (``udl=1``) however many jobs run."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL

DAYS = (dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3))
SENSOR = "REACH-135"


def test_workflow_downloads_then_processes_like_the_cli(workflow, udl_server,
                                                         tmp_path: Path) -> None:
    workflow.env = dict(os.environ)  # the udl_server fixture's BASICAUTH
    workflow.days = DAYS
    span = {"start_date": DAYS[0].isoformat(), "end_date": DAYS[-1].isoformat()}
    workflow.run("--jobs", "2", config={**span, "download": True, "udl_url": udl_server.url,
                                        "input_dir": "raw"})
    for day in DAYS:
        assert [r.status for r in workflow.rows() if r.chunk_date_utc == day.isoformat()] == [
            Status.DOWNLOAD_PENDING, Status.DOWNLOADED, Status.PROCESS_PENDING,
            Status.PROCESSED]
    # one UDL budget: a day's requests never overlap another day's
    spans: dict[str, list[float]] = {}
    for entry in udl_server.stats()["log"]:
        day = re.search(r"\d{4}-\d{2}-\d{2}", entry.get("obTime", "")).group(0)
        spans.setdefault(day, []).append(entry["t"])
    windows = sorted((min(t), max(t)) for t in spans.values())
    assert len(windows) == len(DAYS)
    assert all(earlier[1] < later[0] for earlier, later in itertools.pairwise(windows))

    cli = tmp_path / "cli"  # the CLI: download, then process, one telemetry file
    common = ["--start-date", span["start_date"], "--end-date", span["end_date"],
              "--sensor-id", SENSOR]
    for command in (["download", "--output-dir", str(cli), "--udl-url", udl_server.url],
                    ["process", "--input-dir", str(cli), "--output-dir", str(cli)]):
        subprocess.run([sys.executable, "-m", "swxsoc_reach", *command, *common], check=True,
                       capture_output=True, timeout=300)
    workflow.assert_same_results(cli, ordered=False)


def test_workflow_settles_on_days_without_data_or_with_a_failed_download(workflow,
                                                                          udl_server) -> None:
    """Issue 9.3: a day UDL has no data for does not fail the run and is terminal; a failed
    download waits for retry_failed like the CLI's; every later run is "nothing to do"
    and leaves the telemetry byte for byte as it was."""
    workflow.env = dict(os.environ)
    good, empty, broken = DAYS
    udl_server.configure(empty_days=frozenset({empty}), fail_days=((broken, 400),))
    config = {"start_date": DAYS[0].isoformat(), "end_date": DAYS[-1].isoformat(),
              "download": True, "udl_url": udl_server.url, "input_dir": "raw"}
    first = workflow.run(config=config, expect=1)  # keep-going: only the failed job fails
    assert "MissingOutputException" not in first.stdout + first.stderr
    assert "download_day" in first.stderr

    def day_rows(day: dt.date) -> list[Status]:
        return [r.status for r in workflow.rows() if r.chunk_date_utc == day.isoformat()]

    assert day_rows(good) == [Status.DOWNLOAD_PENDING, Status.DOWNLOADED,
                              Status.PROCESS_PENDING, Status.PROCESSED]
    assert day_rows(empty) == [Status.DOWNLOAD_PENDING, Status.SKIPPED_NO_DATA]
    assert day_rows(broken) == [Status.DOWNLOAD_PENDING, Status.FAILED]
    settled = workflow.telemetry.read_bytes()
    for _ in range(2):
        again = workflow.run(config=config, expect=1)  # a day is left FAILED (issue 19.1)
        assert "swxsoc_reach: nothing to do" in again.stderr
        assert "1 FAILED: set retry_failed: true" in again.stderr
        assert workflow.telemetry.read_bytes() == settled

    udl_server.configure(fail_days=())  # fixed: retry_failed fetches it
    workflow.run(config={**config, "retry_failed": True})
    assert day_rows(broken)[-2:] == [Status.PROCESS_PENDING, Status.PROCESSED]
    assert day_rows(empty) == [Status.DOWNLOAD_PENDING, Status.SKIPPED_NO_DATA]
    assert workflow.cdf(broken).is_file() and not workflow.cdf(empty).exists()
    assert "nothing to do" in workflow.run(config=config).stderr


TEN_DAYS = tuple(DAYS[0] + dt.timedelta(days=i) for i in range(10))


@pytest.mark.parametrize("fault", ["wrong credential", "UDL unreachable"])
def test_workflow_stops_on_a_systemic_fault_and_carries_on_once_fixed(workflow, udl_server,
                                                                      fault) -> None:
    """Issue 19.2: three days in a row failing the same systemic way stop the run however
    many jobs run: no further day starts (no row), one line names the cause and the days
    left alone, exit 1; the next run, the cause fixed, carries on."""
    workflow.env = dict(os.environ)
    config = {"start_date": TEN_DAYS[0].isoformat(), "end_date": TEN_DAYS[-1].isoformat(),
              "download": True, "udl_url": udl_server.url, "input_dir": "raw"}
    if fault == "wrong credential":
        workflow.env["BASICAUTH"] = "Basic d3Jvbmc6Y3JlZGVudGlhbA=="
    else:  # a loopback port nothing listens on; one retry so that each day fails fast
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            config["udl_url"] = f"http://127.0.0.1:{probe.getsockname()[1]}"
        config["udl_max_retries"] = 1
    result = workflow.run("--jobs", "2", config=config, expect=1)
    output = result.stdout + result.stderr

    rows = workflow.rows()
    failed = sorted({r.chunk_date_utc for r in rows if r.status is Status.FAILED})
    untouched = [d for d in TEN_DAYS if not any(r.chunk_date_utc == str(d) for r in rows)]
    # 3 FAILED, plus the one download that may have been running (udl=1 caps downloads)
    assert 3 <= len(failed) <= 4 and len(failed) + len(untouched) == len(TEN_DAYS)
    assert {r.error_type for r in rows if r.status is Status.FAILED} == {"UdlUnavailableError"}
    stops = [line for line in output.splitlines() if "stopped after" in line]
    assert len(stops) == 1, output
    assert stops[0].startswith("swxsoc_reach: error: stopped after 3 days in a row failed the "
                               "same way (UdlUnavailableError): ")
    assert (f"; {len(untouched)} days ({untouched[0]}..{untouched[-1]}) were not attempted. "
            "Fix the cause, then rerun with --config retry_failed=True") in stops[0]
    # a day job that started after the third failure refused before its first row
    refused = [log for log in (workflow.data / "logs" / "download").glob("*.log")
               if "stopped after 3 days" in log.read_text()]
    assert all(log.name.split(".")[0] in map(str, untouched) for log in refused)
    if fault == "UDL unreachable":
        return
    workflow.env["BASICAUTH"] = TEST_CREDENTIAL  # fixed: the failed days and the next one
    workflow.run("--jobs", "2",
                 config={**config, "retry_failed": True, "limit_days": len(failed) + 1})
    for day in TEN_DAYS[:len(failed) + 1]:
        assert workflow.cdf(day).is_file()
