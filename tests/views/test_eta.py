"""Days done / left, the ETA and the dry-run totals, on the real campaign's telemetry:
each figure is recomputed here from the telemetry rows themselves."""

from __future__ import annotations

import math
import re

import pytest
from campaign_days import D1, D14, DAYS, EXPECTED_STATES, Campaign

from swxsoc_reach.cli import main
from swxsoc_reach.mission import expected_records
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.udl.client import PAGE_SIZE
from swxsoc_reach.udl.sizing import FILL
from swxsoc_reach.views.eta import duration, format_bytes, stages_left
from swxsoc_reach.views.status import StatusQuery
from swxsoc_reach.views.statusbuild import build_report

ALL_STAGES = ("download", "process", "upload")


def mean(values: list[float]) -> float:
    assert values
    return sum(values) / len(values)


def measured(campaign: Campaign) -> dict[str, float]:
    """Mean seconds per day of each stage, straight from the telemetry's rows."""
    state = TelemetryStore(campaign.telemetry).state()
    return {
        "download": mean([float(r.download_seconds) for r in state.latest_download.values()
                          if r.download_seconds and float(r.download_seconds)]),
        "process": mean([float(r.process_seconds) for r in state.latest_processed.values()
                         if r.process_seconds]),
        "upload": mean([float(r.upload_seconds) for r in state.latest.values()
                        if r.upload_seconds]),
    }


@pytest.mark.parametrize(("state", "error_stage", "status", "left"), [
    ("complete", "", "UPLOADED", ()),
    ("no data in UDL", "", "SKIPPED_NO_DATA", ()),
    ("not started", "", "NOT_STARTED", ALL_STAGES),
    ("failed", "download", "FAILED", ALL_STAGES),
    ("failed", "process", "FAILED", ("process", "upload")),
    ("interrupted", "download", "DOWNLOAD_PENDING", ALL_STAGES),
    ("interrupted", "", "PROCESS_PENDING", ("process", "upload")),
    ("interrupted", "", "UPLOAD_PENDING", ("upload",)),
    ("awaiting next stage", "", "DOWNLOADED", ("process", "upload")),
    ("awaiting next stage", "", "PROCESSED", ("upload",)),
    ("product missing", "", "PROCESSED", ("process", "upload")),
    ("no input", "", "SKIPPED_NO_INPUT", ALL_STAGES),
])
def test_eta_stages_left_of_each_day_state(state, error_stage, status, left) -> None:
    assert stages_left(state, error_stage, status, uploads=True) == left
    assert stages_left(state, error_stage, status, uploads=False) == tuple(
        s for s in left if s != "upload")


def test_status_progress_counts_days_and_times_what_is_left(campaign: Campaign, capsys) -> None:
    report = build_report(StatusQuery(campaign.telemetry, start=DAYS[0], end=DAYS[-1]))
    progress = report.progress
    done = [d for d in DAYS if EXPECTED_STATES[d] in ("complete", "no data in UDL")]
    assert (progress.done, progress.left, progress.failed) == (len(done), len(DAYS) - len(done), 1)
    rates = measured(campaign)
    expected = sum(rates[s] for d in report.days
                   for s in stages_left(d.state, d.error_stage, d.status, uploads=True))
    assert progress.eta_seconds == pytest.approx(expected, rel=1e-3)
    assert main(["status", *campaign.range_args()]) == 0
    out = capsys.readouterr().out
    assert (f"progress: {len(done)} of {len(DAYS)} days done, {len(DAYS) - len(done)} left "
            f"(1 failed: rerun with --retry-failed); ETA {duration(expected)}") in out


def test_download_dry_run_ends_with_requests_bytes_and_time(campaign: Campaign, capsys) -> None:
    end = DAYS[-1].replace(day=20)
    assert main(["download", "--start-date", D1.isoformat(), "--end-date", end.isoformat(),
                 "--output-dir", str(campaign.raw), "--dry-run"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    # the campaign has a DOWNLOADED day whose artifact is gone and whose CDF was not made
    again = int(re.search(r"(\d+) download again \(artifact gone\)", last).group(1))
    work = int(re.search(r"(\d+) download(?:;|,|$)", last).group(1)) + again
    state = TelemetryStore(campaign.telemetry).state()
    sizes = [float(r.csv_size_mb) * 2**20 for r in state.latest_download.values()
             if r.status is Status.DOWNLOADED and r.csv_size_mb]
    per_day = math.ceil(expected_records("ALL") / (FILL * PAGE_SIZE))
    assert last.endswith(f"totals: {work} days to download, ~{work * per_day:,} UDL requests, "
                         f"{again} day needs its artifact again: ~{again * per_day:,} UDL "
                         f"requests, ~{format_bytes(work * mean(sizes))} of artifacts, "
                         f"~{duration(work * measured(campaign)['download'])} at the measured "
                         "seconds per day")
    assert TelemetryStore(campaign.telemetry).state() == state  # a dry run writes nothing


def test_refresh_dry_run_counts_the_days_it_would_fetch_again(campaign: Campaign,
                                                             capsys) -> None:
    """D14 was audited "changed in UDL": ``download --refresh`` would fetch it again, and
    the plan's totals count it (they said 0 days before: a refresh was not a download)."""
    day = D14.isoformat()
    assert main(["download", "--start-date", day, "--end-date", day, "--output-dir",
                 str(campaign.raw), "--refresh", "--dry-run"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    per_day = math.ceil(expected_records("ALL") / (FILL * PAGE_SIZE))
    assert "1 refresh (UDL holds it differently)" in last, last
    assert f"totals: 1 days to download, ~{per_day:,} UDL requests" in last, last


def test_dry_run_without_measurements_says_time_unknown(tmp_path, capsys) -> None:
    assert main(["download", "--start-date", "2026-01-01", "--end-date", "2026-01-02",
                 "--output-dir", str(tmp_path), "--dry-run"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert "(nominal: nothing measured yet)" in last
    assert last.endswith("time unknown (no download measured yet)")
