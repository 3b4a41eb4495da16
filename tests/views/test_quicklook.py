"""Quicklook PNGs of real CDFs (made by ``process_file`` from synthetic artifacts): what is
drawn is what the file holds, the PNG has the expected size, and ``process --quicklook``
writes one PNG per CDF without ever failing a day over a plot."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import cdflib
import numpy as np
import pytest
from support import png_size

from swxsoc_reach.cdf import process_file
from swxsoc_reach.cli import main
from swxsoc_reach.mission import sensors
from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.synthetic import SyntheticOptions, write_artifact
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.views.quicklook import (
    FIGURE_SIZE_IN,
    flavor_name,
    quicklook_path,
    write_quicklook,
)

DAY = dt.date(2026, 1, 1)
FILL = -1e31
SILENT = sensors()[5].sensor_id  # sends no record in the ALL day


def make_cdf(directory: Path, sensor_id: str, hours: float, gap_fraction: float = 0.0,
             absent: tuple[tuple[str, float, float], ...] = ()) -> Path:
    raw = write_artifact(directory / "raw", DAY, SyntheticOptions(
        sensor_id=sensor_id, gap_fraction=gap_fraction, absent=absent), hours=hours)
    (cdf,) = process_file(raw, directory / "cdf", day=DAY, sensor_id=sensor_id)
    return cdf


@pytest.fixture(scope="module")
def one_sensor_cdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_cdf(tmp_path_factory.mktemp("one"), "REACH-135", hours=2)


@pytest.fixture(scope="module")
def all_sensors_cdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """32 sensors; gaps leave fill in the other sensors' cells; SILENT sends nothing."""
    return make_cdf(tmp_path_factory.mktemp("all"), "ALL", hours=0.25, gap_fraction=0.1,
                    absent=((SILENT, 0.0, 24.0),))


def read_back(cdf_path: Path) -> dict[str, np.ndarray]:
    """The file's variables through cdflib alone, fill as NaN."""
    cdf = cdflib.CDF(str(cdf_path))
    values = {name: cdf.varget(name) for name in ("Epoch", "dose_rate", "dosimeter_flavors",
                                                    "lat", "lon", "sensor_labels")}
    for name in ("dose_rate", "lat", "lon"):
        values[name] = np.where(values[name] == FILL, np.nan, values[name])
    values["times"] = np.asarray(cdflib.cdfepoch.to_datetime(values["Epoch"]))
    return values


def test_quicklook_png_has_the_figure_size(one_sensor_cdf: Path, tmp_path: Path) -> None:
    drawn = write_quicklook(one_sensor_cdf, tmp_path / "q.png")
    assert drawn.path == tmp_path / "q.png"
    assert png_size(drawn.path) == (int(FIGURE_SIZE_IN[0] * 100), int(FIGURE_SIZE_IN[1] * 100))


def test_quicklook_lines_are_the_dose_rates_of_the_file(one_sensor_cdf: Path,
                                                        tmp_path: Path) -> None:
    file = read_back(one_sensor_cdf)
    drawn = write_quicklook(one_sensor_cdf, tmp_path / "q.png")
    assert drawn.image is None  # one sensor: lines, no image
    expected: dict[str, list[np.ndarray]] = {}
    for s, f in np.ndindex(file["dosimeter_flavors"].shape):
        expected.setdefault(flavor_name(file["dosimeter_flavors"][s, f]), []).append(
            file["dose_rate"][:, s, f])
    assert sorted(drawn.series) == sorted(expected)
    for name, lines in drawn.series.items():
        assert len(lines) == len(expected[name])
        for (times, dose), want in zip(lines, expected[name], strict=True):
            assert np.array_equal(times, file["times"])
            assert np.array_equal(dose, want, equal_nan=True)


def test_quicklook_all_day_is_a_sensor_by_time_image_of_the_highest_dose(
        all_sensors_cdf: Path, tmp_path: Path) -> None:
    """A quarter hour of 5 s samples: one column per sample, each cell the highest of the
    sensor's dosimeters; fill (gaps, the silent sensor) is an empty cell, never a colour."""
    file = read_back(all_sensors_cdf)
    drawn = write_quicklook(all_sensors_cdf, tmp_path / "q.png")
    assert drawn.series == {}  # no lines
    image = drawn.image
    assert image is not None
    assert image.rows == tuple(str(label) for label in file["sensor_labels"])
    highest = np.fmax.reduce(file["dose_rate"], axis=2).T  # (S, T)
    assert image.values.shape == highest.shape
    assert np.array_equal(image.values, highest, equal_nan=True)
    assert image.edges[0] == file["times"][0] and len(image.edges) == len(file["times"]) + 1
    empty = np.isnan(image.values)
    assert empty[image.rows.index(SILENT)].all()
    assert empty.sum() > len(file["times"])  # the gaps too
    assert (image.rgba[empty][:, 3] == 0).all() and (image.rgba[~empty][:, 3] == 1).all()


def test_quicklook_all_png_shows_the_silent_sensor_row_empty(all_sensors_cdf: Path,
                                                              tmp_path: Path) -> None:
    """The PNG's pixels at every cell's centre: the silent sensor's row is the background,
    every other cell with a sample holds the colour of its rate (log scale)."""
    from matplotlib.colors import to_rgb
    from matplotlib.image import imread

    from swxsoc_reach.views.quicklook import EMPTY_COLOR

    drawn = write_quicklook(all_sensors_cdf, tmp_path / "q.png")
    image = drawn.image
    assert image is not None
    pixels = imread(drawn.path)[..., :3]
    left, top, right, bottom = image.extent_px
    rows, columns = image.values.shape
    assert right - left > 600 and bottom - top > 250  # the panel is not squeezed
    background = np.array(to_rgb(EMPTY_COLOR))
    silent = image.rows.index(SILENT)
    filled = 0
    for i in range(rows):
        y = int(top + (i + 0.5) * (bottom - top) / rows)
        for j in range(columns):
            x = int(left + (j + 0.5) * (right - left) / columns)
            if i == silent or np.isnan(image.values[i, j]):
                assert np.allclose(pixels[y, x], background, atol=2 / 255), (i, j)
            else:
                assert np.allclose(pixels[y, x], image.rgba[i, j, :3], atol=2 / 255), (i, j)
                assert not np.allclose(pixels[y, x], background, atol=0.05)
                filled += 1
    assert filled > 0.85 * (rows - 1) * columns  # the others filled (10 % gaps)


def test_quicklook_map_is_every_position_coloured_by_its_highest_dose(all_sensors_cdf: Path,
                                                                      tmp_path) -> None:
    file = read_back(all_sensors_cdf)
    highest = np.fmax.reduce(file["dose_rate"], axis=2)
    keep = np.isfinite(highest)
    expected = sorted(zip(file["lon"][keep], file["lat"][keep], highest[keep], strict=True))
    drawn = write_quicklook(all_sensors_cdf, tmp_path / "q.png")
    plotted = sorted(zip(drawn.map_lon, drawn.map_lat, drawn.map_dose, strict=True))
    assert np.allclose(plotted, expected)
    assert len(plotted) == int(keep.sum()) > 0


def test_quicklook_cli_writes_to_the_about_tree_by_default(one_sensor_cdf: Path, capsys) -> None:
    png = quicklook_path(one_sensor_cdf)
    png.unlink(missing_ok=True)
    assert main(["quicklook", str(one_sensor_cdf)]) == 0
    assert capsys.readouterr().out.strip() == str(png)
    assert png_size(png) == (1100, 900)


def test_quicklook_cli_output_flag_names_the_png(one_sensor_cdf: Path, tmp_path, capsys) -> None:
    png = tmp_path / "sub" / "day.png"
    assert main(["quicklook", str(one_sensor_cdf), "-o", str(png)]) == 0
    assert png.is_file() and capsys.readouterr().out.strip() == str(png)


def test_quicklook_cli_output_with_two_cdfs_exits_2(one_sensor_cdf: Path, tmp_path,
                                                    capsys) -> None:
    assert main(["quicklook", str(one_sensor_cdf), str(one_sensor_cdf), "-o",
                 str(tmp_path / "x.png")]) == 2
    assert "--output names one PNG" in capsys.readouterr().err


def test_quicklook_cli_not_a_cdf_exits_1_naming_the_file(tmp_path, capsys) -> None:
    bogus = tmp_path / "bogus.cdf"
    bogus.write_text("not a CDF\n")
    assert main(["quicklook", str(bogus)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"swxsoc_reach: error: {bogus}: not a readable CDF")
    assert len(err.strip().splitlines()) == 1
    assert not quicklook_path(bogus).exists()


def test_quicklook_cli_missing_file_exits_2(tmp_path, capsys) -> None:
    assert main(["quicklook", str(tmp_path / "gone.cdf")]) == 2
    assert f"{tmp_path / 'gone.cdf'}: no such file" in capsys.readouterr().err


# --- process --quicklook ----------------------------------------------------------------------


def process_args(raw: Path, out: Path, *extra: str) -> list[str]:
    return ["process", "--start-date", "2026-01-01", "--end-date", "2026-01-02", "--sensor-id",
            "REACH-135", "--input-dir", str(raw), "--output-dir", str(out), "--quicklook", *extra]


@pytest.fixture
def raw(input_dirs) -> Path:
    """Two short REACH-135 days as Phase 1 artifacts."""
    return input_dirs([DAY, DAY + dt.timedelta(days=1)], "REACH-135")[0]


def test_process_quicklook_writes_a_png_of_each_cdf_in_the_about_tree(raw: Path,
                                                                     tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(process_args(raw, out)) == 0
    for day in (DAY, DAY + dt.timedelta(days=1)):
        cdf = day_cdf_path(out, day, "REACH-135")
        assert png_size(quicklook_path(cdf)) == (1100, 900)
        assert quicklook_path(cdf).is_relative_to(out / "about" / "l1c")
    assert sorted(p.suffix for p in (out / "l1c").rglob("*") if p.is_file()) == [".cdf"] * 2


def test_process_quicklook_failure_only_warns_and_the_day_is_processed(raw: Path, tmp_path,
                                                                        capsys) -> None:
    out = tmp_path / "out"
    blocked = quicklook_path(day_cdf_path(out, DAY, "REACH-135"))
    blocked.mkdir(parents=True)  # a directory where the PNG must go: the plot cannot be saved
    assert main(process_args(raw, out)) == 0
    states = TelemetryStore(raw / "download_telemetry.csv").state()
    assert states.get("2026-01-01", "REACH-135", "QUICKLOOK").status is Status.PROCESSED
    assert day_cdf_path(out, DAY, "REACH-135").is_file()
    err = capsys.readouterr().err  # the CLI's log handler writes to stderr
    assert " WARNING 2026-01-01 quicklook: not drawn for reach_135_l1c_prelim_20260101T000000_" \
        "v1.0.0.cdf: IsADirectoryError: " in err
    assert quicklook_path(day_cdf_path(out, DAY + dt.timedelta(days=1), "REACH-135")).is_file()


def test_process_quicklook_without_matplotlib_exits_2_before_any_day(raw: Path, tmp_path,
                                                                      monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what an install without it gives
    assert main(process_args(raw, tmp_path / "out")) == 2
    assert "plots need matplotlib: pip install 'swxsoc_reach[plots]'" in capsys.readouterr().err
    assert not (raw / "download_telemetry.csv").exists()
