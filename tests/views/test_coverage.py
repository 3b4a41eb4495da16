"""Product summaries, day states, coverage and the heat map on the real campaign
(``conftest.campaign``: real download and process runs against the local UDL server
and moto S3): what status shows must be what the CDFs and the telemetry hold."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from campaign_days import (
    D1,
    D2,
    D3,
    D4,
    D5,
    D6,
    D10,
    D12,
    DAYS,
    EXPECTED_STATES,
    GONE,
    KEPT,
    Campaign,
)
from support import png_size

from swxsoc_reach.cdf.summary import read_summary, summary_path
from swxsoc_reach.cli import main
from swxsoc_reach.fsutil import sha256_file
from swxsoc_reach.mission import SAMPLES_PER_DAY, sensors
from swxsoc_reach.paths import artifact_name, upload_receipt_path
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.views.coverage import coverage_grid
from swxsoc_reach.views.status import DayState, StatusQuery
from swxsoc_reach.views.statusbuild import build_report

COMPLETE_WITH_SUMMARY = (D1, D2, D3, D4, D10)
FILL = -1e31


def read_cdf(path: Path) -> dict[str, np.ndarray]:
    """The variables the summary describes, fill as NaN, read back with cdflib."""
    import cdflib

    cdf = cdflib.CDF(str(path))
    values = {name: np.array(cdf.varget(name), dtype=float)
              for name in ("dose_rate", "lat", "lon", "alt")}
    for array in values.values():
        array[array <= FILL / 10] = np.nan
    values["sensor_labels"] = np.atleast_1d(cdf.varget("sensor_labels"))
    values["flavors"] = np.atleast_2d(cdf.varget("dosimeter_flavors"))
    return values


def artifact_records(path: Path) -> int:
    with open(path, newline="") as fh:
        return sum(1 for _ in csv.DictReader(fh))


def report(campaign: Campaign):
    return build_report(StatusQuery(campaign.telemetry, start=DAYS[0], end=DAYS[-1]))


@pytest.mark.parametrize("day", COMPLETE_WITH_SUMMARY)
def test_summary_json_matches_the_cdf_content(campaign: Campaign, day: dt.date) -> None:
    cdf_path = campaign.cdf(day)
    document = json.loads(summary_path(cdf_path).read_text())
    cdf = read_cdf(cdf_path)
    labels = [str(label).strip() for label in cdf["sensor_labels"]]
    assert list(document["sensors"]) == labels == sorted(s.sensor_id for s in sensors())
    kept = 0
    for s, label in enumerate(labels):
        entry = document["sensors"][label]
        flavors = [str(f).strip() for f in cdf["flavors"][s] if str(f).strip()]
        assert entry["flavors"] == flavors
        for f in range(len(flavors)):
            values = cdf["dose_rate"][:, s, f]
            present = int(np.count_nonzero(~np.isnan(values)))
            kept += present
            assert entry["samples"][f] == present
            assert entry["fill_fraction"][f] == pytest.approx(1 - present / len(values))
            expected = [np.nanmin(values), np.nanmax(values)] if present else None
            assert entry["dose_rate_range"][f] == expected
    for name in ("dose_rate", "lat", "lon", "alt"):
        assert document["ranges"][name] == [np.nanmin(cdf[name]), np.nanmax(cdf[name])]
    artifact = campaign.raw / artifact_name(day, "ALL", "csv")
    records = document["records"]
    assert records["read"] == artifact_records(artifact)
    assert records["kept"] == kept == records["read"] - records["duplicates"] - records[
        "outside_day"] - records["without_sensor"]
    assert document["times"] == len(cdf["dose_rate"])
    assert document["cdf"] == {"name": cdf_path.name, "size_bytes": cdf_path.stat().st_size,
                               "sha256": sha256_file(cdf_path)}
    assert document["artifact"] == {"name": artifact.name,
                                    "size_bytes": artifact.stat().st_size,
                                    "sha256": sha256_file(artifact)}


def test_summary_lies_in_the_about_tree_never_in_the_archive(campaign: Campaign) -> None:
    cdf_path = campaign.cdf(D1)
    summary = summary_path(cdf_path)
    assert summary.parent == campaign.out / "about" / cdf_path.parent.relative_to(campaign.out)
    assert summary.name == cdf_path.name.removesuffix(".cdf") + ".summary.json"
    assert upload_receipt_path(campaign.out / "about", cdf_path.name) != summary
    assert not list(summary.parent.glob(".*.part"))  # written atomically: no leftovers
    archive = [p for p in (campaign.out / "l1c").rglob("*") if p.is_file()]
    assert archive and all(p.suffix == ".cdf" for p in archive)
    downloaded = next(r for r in TelemetryStore(campaign.telemetry).read()
                      if r.chunk_date_utc == D1.isoformat() and r.status is Status.DOWNLOADED)
    assert read_summary(cdf_path).records_read == int(downloaded.records_downloaded)


def test_status_gives_every_day_its_state(campaign: Campaign) -> None:
    states = {d.day: d.state for d in report(campaign).days}
    assert states == {day: EXPECTED_STATES[day] for day in DAYS}
    # every state but "running now": a day a live process holds, not in a finished campaign
    assert set(states.values()) == {state.value for state in DayState} - {DayState.RUNNING}


def test_status_records_of_a_day_made_from_an_artifact_without_a_download_row(
        campaign: Campaign, capsys) -> None:
    rows = [r for r in TelemetryStore(campaign.telemetry).read()
            if r.chunk_date_utc == D10.isoformat()]
    assert rows and not any(r.status is Status.DOWNLOADED for r in rows)
    expected = artifact_records(campaign.raw / artifact_name(D10, "ALL", "csv"))
    day = next(d for d in report(campaign).days if d.day == D10)
    assert day.records == expected > 0
    assert main(["status", *campaign.range_args()]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("2026-03-10"))
    assert f" {expected:,} " in line


def test_coverage_shows_the_removed_sensor_missing_on_exactly_those_days(
        campaign: Campaign) -> None:
    grid = coverage_grid(report(campaign))
    assert grid.rows == tuple(sorted(s.sensor_id for s in sensors()))
    column = {day: j for j, day in enumerate(grid.days)}
    for day in COMPLETE_WITH_SUMMARY:  # what the CDF holds, per sensor
        cdf = read_cdf(campaign.cdf(day))
        present = (~np.isnan(cdf["dose_rate"])).sum(axis=(0, 2)) / (2 * SAMPLES_PER_DAY)
        assert np.allclose(grid.availability[:, column[day]], present)
    kept, gone = grid.rows.index(KEPT), grid.rows.index(GONE)
    served = {KEPT: (D1, D2, D10), GONE: (D3, D4)}
    for row, days in ((kept, served[KEPT]), (gone, served[GONE])):
        for day in COMPLETE_WITH_SUMMARY:
            value = grid.availability[row, column[day]]
            assert (value > 0.1) if day in days else value == 0, (grid.rows[row], day, value)
    others = [i for i in range(len(grid.rows)) if i not in (kept, gone)]
    assert not grid.availability[others][:, [column[d] for d in COMPLETE_WITH_SUMMARY]].any()
    # days that are not complete carry no availability at all, so none is a loss
    for day in DAYS:
        if EXPECTED_STATES[day] != "complete" or day == D12:
            assert np.isnan(grid.availability[:, column[day]]).all(), day


def test_coverage_flavor_level_has_each_dosimeter(campaign: Campaign) -> None:
    grid = coverage_grid(report(campaign), "flavor")
    assert len(grid.rows) == 2 * len(sensors())
    j = grid.days.index(D1)
    kept = [i for i, row in enumerate(grid.rows) if row.startswith(KEPT + " ")]
    assert len(kept) == 2 and all(grid.availability[i, j] > 0.5 for i in kept)


def test_status_coverage_cli_prints_states_and_percentages(campaign: Campaign, capsys) -> None:
    assert main(["status", *campaign.range_args(), "--coverage", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    grid = coverage_grid(report(campaign))
    assert document["rows"] == list(grid.rows)
    by_day = {entry["day"]: entry for entry in document["days"]}
    assert by_day[D5.isoformat()] == {"day": D5.isoformat(), "state": "no data in UDL",
                                      "availability_pct": [None] * len(grid.rows)}
    k = grid.rows.index(KEPT)
    assert by_day[D1.isoformat()]["availability_pct"][k] == round(
        100 * grid.availability[k, 0], 2)
    assert main(["status", *campaign.range_args(), "--coverage"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[1:] == [row.removeprefix("REACH-") for row in grid.rows]
    d5 = next(x for x in lines if x.startswith(D5.isoformat())).split()[1:]
    d6 = next(x for x in lines if x.startswith(D6.isoformat())).split()[1:]
    assert set(d5) == {"nd"} and set(d6) == {"F"}
    assert main(["status", *campaign.range_args(), "--coverage", "flavor", "--format",
                 "csv"]) == 0
    head = capsys.readouterr().out.splitlines()[0].split(",")
    assert head[:2] == ["day", "state"] and len(head) == 2 + 2 * len(sensors())


def test_status_no_data_day_is_done_and_not_a_loss(campaign: Campaign) -> None:
    built = report(campaign)
    d5 = next(d for d in built.days if d.day == D5)
    assert (d5.state, d5.failed) == (DayState.NO_DATA, False)
    progress = built.progress
    done = sum(1 for d in DAYS if EXPECTED_STATES[d] in ("complete", "no data in UDL"))
    assert (progress.done, progress.left) == (done, len(DAYS) - done)


def test_status_plot_draws_each_cell_as_the_data(campaign: Campaign, tmp_path: Path) -> None:
    from matplotlib import colormaps
    from matplotlib.colors import to_rgba
    from matplotlib.image import imread

    from swxsoc_reach.views.plots import (
        AVAILABILITY_CMAP,
        STATE_COLORS,
        STATUS_SIZE_IN,
        plot_status,
    )

    png = tmp_path / "coverage.png"
    drawn = plot_status(report(campaign), png)
    assert png_size(png) == (int(STATUS_SIZE_IN[0] * 100), int(STATUS_SIZE_IN[1] * 100))
    grid = drawn.grid
    # the colours chosen are the data's: availability on complete days, else the state
    for j, (day, state) in enumerate(zip(grid.days, grid.states, strict=True)):
        for i in range(len(grid.rows)):
            if state is DayState.COMPLETE and day != D12:
                expected = colormaps[AVAILABILITY_CMAP](grid.availability[i, j])
            else:
                expected = to_rgba(STATE_COLORS["complete, no summary" if day == D12
                                                else state])
            assert np.allclose(drawn.cells_rgba[i, j], expected), (grid.rows[i], day)
    # and the PNG holds those colours at each cell's centre
    pixels = imread(png)
    left, top, right, bottom = drawn.extent_px
    rows, days = len(grid.rows), len(grid.days)
    for j in range(days):
        for i in range(rows):
            x = int(left + (j + 0.5) * (right - left) / days)
            y = int(top + (i + 0.5) * (bottom - top) / rows)
            assert np.allclose(pixels[y, x, :3], drawn.cells_rgba[i, j, :3], atol=2 / 255), (
                grid.rows[i], grid.days[j])
    # the no-data day is grey, not the colour of a 0 % loss
    no_data = to_rgba(STATE_COLORS[DayState.NO_DATA])[:3]
    assert not np.allclose(no_data, colormaps[AVAILABILITY_CMAP](0.0)[:3], atol=0.1)
    # every state's colour is in the picture
    flat = {tuple(np.round(c[:3] * 255).astype(int)) for c in drawn.cells_rgba.reshape(-1, 4)}
    for key, color in STATE_COLORS.items():
        if key is DayState.RUNNING:
            continue  # needs a live process: not in a finished campaign
        assert tuple(np.round(np.array(to_rgba(color)[:3]) * 255).astype(int)) in flat, key
