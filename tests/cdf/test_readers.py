"""A range of ``ALL`` days loads as one dataset in the scientists' loaders, whatever sensors
each day holds (l1c-cdf.md "From records to arrays" step 6, "How we know it is right").

Four short days: 8 sensors, all 32, one sensor's data only, and all 32 with one sensor's
second flavor missing. pyspedas concatenates files along time only and xarray needs no
outer join, because the sensor axis is the mission table's on every day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from swxsoc_reach.cdf import process_file
from swxsoc_reach.mission import sensors
from swxsoc_reach.paths import newest_revisions

FIRST = dt.date(2026, 2, 1)
EIGHT = tuple(s.sensor_id for s in sensors()[::4])


def _drop_second_flavor_of_135(records: list[dict]) -> list[dict]:
    return [r for r in records if r["idSensor"] != "REACH-135"
            or not r["seoList"][0]["obDescription"].startswith("DOSE2")]


@pytest.fixture(scope="module")
def days(tmp_path_factory, artifact_writer, only_sensors, round_trip, read_cdf
         ) -> list[dict[str, Any]]:
    """The four days processed (3 minutes each); per day its records and CDF contents."""
    base = tmp_path_factory.mktemp("range")
    edits = [only_sensors(*EIGHT), None, only_sensors("REACH-135"), _drop_second_flavor_of_135]
    out = []
    for k, edit in enumerate(edits):
        day = FIRST + dt.timedelta(days=k)
        artifact = artifact_writer(base / "raw", minutes=3, day=day, edit=edit)
        (cdf,) = process_file(artifact.path, base / "out", day=day)
        contents = read_cdf(cdf)
        cells = round_trip(contents, artifact.records)  # each file on its own first
        out.append({"cdf": cdf, "cells": cells, "contents": contents})
    assert len({len(d["cells"]) for d in out}) == 4  # really different days
    return out


def expected_range(days: list[dict[str, Any]], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Times (datetime64[ns]) and the ``name`` array of the whole range, NaN for fill,
    built from the input records alone."""
    labels = days[0]["contents"]["sensor_labels"]
    flavors = [s.descriptions for s in sensors()]
    times, blocks = [], []
    for day in days:
        day_times = np.unique(np.array([np.datetime64(k[2].removesuffix("Z"), "ns")
                                        for k in day["cells"]]))
        t_of = {t: i for i, t in enumerate(day_times.tolist())}
        shape = (len(day_times), len(labels)) + ((2,) if name == "dose_rate" else ())
        block = np.full(shape, np.nan)
        for (sensor, flavor, when), record in day["cells"].items():
            t = t_of[np.datetime64(when.removesuffix("Z"), "ns").tolist()]
            s = labels.index(sensor)
            if name == "dose_rate":
                block[t, s, flavors[s].index(flavor)] = record["seoList"][0]["obValue"]
            else:
                block[t, s] = record[name]
        times.append(day_times)
        blocks.append(block)
    return np.concatenate(times), np.concatenate(blocks)


@pytest.fixture(scope="module")
def pyspedas():
    import pyspedas

    return pyspedas


def test_pyspedas_loads_days_with_different_sensor_sets_as_one_time_series(days,
                                                                          pyspedas) -> None:
    names = pyspedas.cdf_to_tplot([str(d["cdf"]) for d in days])
    assert {"dose_rate", "lat", "alt", "sensor_position_x"} <= set(names)
    for name in ("dose_rate", "lat", "alt"):
        want_times, want = expected_range(days, name)
        got = pyspedas.get_data(name)
        seconds = (want_times - np.datetime64(0, "ns")) / np.timedelta64(1, "s")
        np.testing.assert_allclose(got.times, seconds, rtol=0, atol=1e-6)
        assert np.all(np.diff(got.times) > 0)  # strictly increasing: no overlap between days
        np.testing.assert_array_equal(got.y, want)  # every value in place, NaN elsewhere
    lat = pyspedas.get_data("lat", metadata=True)
    assert not lat["plot_options"]["extras"].get("spec")  # lines, not a spectrogram ...
    assert lat["CDF"]["LABELS"] == [s.sensor_id for s in sensors()]  # ... one per sensor
    dose = pyspedas.get_data("dose_rate", metadata=True)
    assert dose["plot_options"]["extras"].get("spec")  # sensor x time per flavor


def test_xarray_concatenates_days_along_epoch_without_outer_join(days) -> None:
    import xarray as xr
    from cdflib.xarray import cdf_to_xarray

    sets = [cdf_to_xarray(str(d["cdf"]), to_datetime=True, fillval_to_nan=True) for d in days]
    # join="exact" raises if any coordinate differs between days: no outer join needed
    joined = xr.concat(sets, dim="Epoch", data_vars="minimal", coords="minimal",
                       compat="override", join="exact")
    assert list(joined["sensor_labels"].values) == [s.sensor_id for s in sensors()]
    for name in ("dose_rate", "lat", "alt"):
        want_times, want = expected_range(days, name)
        np.testing.assert_array_equal(joined["Epoch"].values, want_times)
        np.testing.assert_array_equal(joined[name].values, want)


def test_pyspedas_loads_a_range_mixing_revisions_from_the_newest_of_each_day(
        days, tmp_path, artifact_writer, round_trip, read_cdf, pyspedas) -> None:
    """archive-sync.md: a refresh made day 2's next revision (v1.0.1, from an artifact with
    more records); the newest file of each day (``paths.newest_revisions``, as
    docs/cdf-product.md shows) loads as one dataset, every value its day's newest input."""
    day = FIRST + dt.timedelta(days=1)
    artifact = artifact_writer(tmp_path / "raw", minutes=5, day=day)
    out = days[1]["cdf"].parents[5]  # <out>/l1c/prelim/YYYY/MM/DD/<name>
    (revision,) = process_file(artifact.path, out, day=day, data_version="1.0.1")
    cells = round_trip(read_cdf(revision), artifact.records)
    every = sorted(out.rglob("*.cdf"))
    assert len(every) == len(days) + 1
    newest = newest_revisions(every)
    assert newest == [d["cdf"] for d in days[:1]] + [revision] + [d["cdf"] for d in days[2:]]
    expected = [*days[:1], {**days[1], "cells": cells}, *days[2:]]
    pyspedas.cdf_to_tplot([str(p) for p in newest])  # (it sorts the names it is given)
    for name in ("dose_rate", "lat"):
        want_times, want = expected_range(expected, name)
        got = pyspedas.get_data(name)
        seconds = (want_times - np.datetime64(0, "ns")) / np.timedelta64(1, "s")
        np.testing.assert_allclose(got.times, seconds, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(got.y, want)
