"""The archive tree holds only CDFs (issue 17.6): summaries and quicklooks go to the about
tree, and what a version before it left beside the CDFs is still read, then moved."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import orjson
import pytest

from swxsoc_reach.cdf.summary import SUMMARY_VERSION, read_summary
from swxsoc_reach.cli import main
from swxsoc_reach.paths import (
    QUICKLOOK_SUFFIX,
    SUMMARY_SUFFIX,
    day_cdf_path,
    find_about_file,
    legacy_about_path,
    quicklook_path,
    summary_path,
)
from swxsoc_reach.phases.abouttree import move_legacy_files
from swxsoc_reach.views.coverage import coverage_grid
from swxsoc_reach.views.status import StatusQuery
from swxsoc_reach.views.statusbuild import build_report

SENSOR = "REACH-135"
DAYS = [dt.date(2026, 1, 1), dt.date(2026, 1, 2)]
PNG = b"\x89PNG\r\n\x1a\n old quicklook"


def process(raw: Path, out: Path, *extra: str) -> int:
    return main(["process", "--start-date", DAYS[0].isoformat(), "--end-date",
                 DAYS[-1].isoformat(), "--sensor-id", SENSOR, "--input-dir", str(raw),
                 "--output-dir", str(out), *extra])


def archive_files(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "l1c").rglob("*") if p.is_file())


def to_old_layout(cdf: Path) -> None:
    """Put the day's summary and a quicklook where main a1bb38a wrote them: beside the CDF,
    ``<stem>.json`` and ``<stem>.png``."""
    os.rename(summary_path(cdf), legacy_about_path(cdf, SUMMARY_SUFFIX))
    legacy_about_path(cdf, QUICKLOOK_SUFFIX).write_bytes(PNG)


def read_state(raw: Path):
    report = build_report(StatusQuery(raw / "download_telemetry.csv", start=DAYS[0],
                                      end=DAYS[-1], sensor_id=SENSOR))
    return report, coverage_grid(report)


def test_paths_put_summary_and_quicklook_in_the_about_tree(tmp_path: Path) -> None:
    cdf = day_cdf_path(tmp_path / "out", DAYS[0], SENSOR)
    place = tmp_path / "out" / "about" / "l1c" / "prelim" / "2026" / "01" / "01"
    assert summary_path(cdf) == place / (cdf.stem + ".summary.json")
    assert quicklook_path(cdf) == place / (cdf.stem + ".quicklook.png")
    loose = tmp_path / "mine.cdf"  # not at its archive place: no about tree to find
    assert quicklook_path(loose) == tmp_path / "mine.quicklook.png"


def test_a_day_of_the_old_layout_is_read_then_moved_by_process(input_dirs) -> None:
    raw, out = input_dirs(DAYS, SENSOR)
    assert process(raw, out) == 0
    assert archive_files(out) == sorted(day_cdf_path(out, d, SENSOR).name for d in DAYS)
    cdfs = [day_cdf_path(out, day, SENSOR) for day in DAYS]
    made = {cdf: summary_path(cdf).read_bytes() for cdf in cdfs}
    for cdf in cdfs:
        to_old_layout(cdf)
    assert not any((out / "about").rglob("*.json"))
    report, grid = read_state(raw)
    assert all(report.product(day) is not None for day in report.days)  # read where it lies
    assert grid.has_summary.all()
    figures = raw.parent / "figures"  # the report copies the PNG an older version drew
    assert main(["report", "--telemetry-file", str(raw / "download_telemetry.csv"), "-o",
                 str(raw.parent / "campaign.html"), "--figures-dir", str(figures)]) == 0
    assert all((figures / "quicklooks" / (cdf.stem + ".png")).read_bytes() == PNG
               for cdf in cdfs)

    assert process(raw, out, "--dry-run") == 0  # a dry run moves nothing
    assert len(archive_files(out)) == 6
    assert process(raw, out) == 0  # every day complete: skipped, but its files move
    assert archive_files(out) == sorted(cdf.name for cdf in cdfs)
    for cdf in cdfs:
        assert summary_path(cdf).read_bytes() == made[cdf]
        assert quicklook_path(cdf).read_bytes() == PNG
    report, grid = read_state(raw)
    assert all(report.product(day) is not None for day in report.days)
    assert grid.has_summary.all()


def test_move_finishes_a_move_a_kill_cut_short(tmp_path: Path) -> None:
    cdf = day_cdf_path(tmp_path, DAYS[0], SENSOR)
    cdf.parent.mkdir(parents=True)
    cdf.write_bytes(b"cdf")
    old, new = legacy_about_path(cdf, SUMMARY_SUFFIX), summary_path(cdf)
    old.write_bytes(b'{"a": 1}')
    new.parent.mkdir(parents=True)
    os.link(old, new)  # killed after the new name appeared, before the old went
    assert move_legacy_files(tmp_path, DAYS) == 1
    assert not old.exists() and new.read_bytes() == b'{"a": 1}'
    assert move_legacy_files(tmp_path, DAYS) == 0  # nothing left to do


@pytest.mark.parametrize("newer", ["about", "beside"])
def test_move_keeps_the_newer_when_both_places_hold_different_files(tmp_path: Path,
                                                                     newer: str) -> None:
    cdf = day_cdf_path(tmp_path, DAYS[0], SENSOR)
    cdf.parent.mkdir(parents=True)
    old, new = legacy_about_path(cdf, QUICKLOOK_SUFFIX), quicklook_path(cdf)
    new.parent.mkdir(parents=True)
    old.write_bytes(b"beside")
    new.write_bytes(b"about")
    stale = new if newer == "beside" else old
    os.utime(stale, ns=(1_000_000_000, 1_000_000_000))
    move_legacy_files(tmp_path, DAYS)
    assert not old.exists() and new.read_bytes() == newer.encode()


def test_move_leaves_names_an_older_version_never_wrote(tmp_path: Path) -> None:
    cdf = day_cdf_path(tmp_path, DAYS[0], SENSOR)
    cdf.parent.mkdir(parents=True)
    others = ["notes.json", "plot.png", cdf.name + ".json", ".x.json.abcd1234.part",
              cdf.stem + ".txt"]
    for name in [cdf.name, *others]:
        (cdf.parent / name).write_bytes(b"x")
    assert move_legacy_files(tmp_path, DAYS) == 0
    assert sorted(p.name for p in cdf.parent.iterdir()) == sorted([cdf.name, *others])
    assert not (tmp_path / "about").exists()


def test_find_about_file_looks_in_the_about_tree_then_beside_the_cdf(tmp_path: Path) -> None:
    cdf = day_cdf_path(tmp_path, DAYS[0], SENSOR)
    assert find_about_file(cdf, QUICKLOOK_SUFFIX) is None
    old = legacy_about_path(cdf, QUICKLOOK_SUFFIX)
    old.parent.mkdir(parents=True)
    old.write_bytes(PNG)
    assert find_about_file(cdf, QUICKLOOK_SUFFIX) == old
    quicklook_path(cdf).parent.mkdir(parents=True)
    quicklook_path(cdf).write_bytes(PNG)
    assert find_about_file(cdf, QUICKLOOK_SUFFIX) == quicklook_path(cdf)


def test_read_summary_prefers_the_about_tree(tmp_path: Path) -> None:
    cdf = day_cdf_path(tmp_path, DAYS[0], SENSOR)
    assert read_summary(cdf) is None  # neither place
    for path, read in ((legacy_about_path(cdf, SUMMARY_SUFFIX), 1), (summary_path(cdf), 2)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(summary_document(read)))
        assert read_summary(cdf).records_read == read
    summary_path(cdf).write_text("not json")  # a damaged one is not replaced by the old one
    assert read_summary(cdf) is None


def summary_document(records: int) -> dict:
    return {"summary_version": SUMMARY_VERSION, "software_version": "0", "day": "2026-01-01",
            "cdf": {"name": "c.cdf", "size_bytes": 1, "sha256": "0" * 64},
            "artifact": {"size_bytes": 1, "sha256": "1" * 64},
            "records": {"read": records, "kept": records, "duplicates": 0, "outside_day": 0,
                        "without_sensor": 0},
            "times": 1, "expected_samples": 1, "sensors": {}}


def test_process_refuses_receipts_in_the_archive_tree(input_dirs, capsys) -> None:
    raw, out = input_dirs(DAYS[:1], SENSOR)
    for receipts in (out, out / "l1c"):
        assert process(raw, out, "--upload-to-s3", "--s3-bucket", "b",
                       "--receipt-dir", str(receipts)) == 2
        err = capsys.readouterr().err
        assert "would put the receipts in the archive tree" in err
        assert len(err.strip().splitlines()) == 1
    assert not out.exists() or not any(out.rglob("*"))
