"""Epoch is exact TT2000 across leap seconds; RESOLUTION has no float noise
(l1c-cdf.md "Variables": Epoch attributes)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from cdflib.epochs import CDFepoch

from swxsoc_reach.cdf import process_file
from swxsoc_reach.cdf.product import resolution_text, unix_ns_to_tt2000
from swxsoc_reach.synthetic import SyntheticOptions


def reference_tt2000(moments: list[dt.datetime]) -> np.ndarray:
    """cdflib's own per-value conversion from calendar fields (the slow, trusted path)."""
    return np.array([int(np.atleast_1d(CDFepoch.compute_tt2000(
        [m.year, m.month, m.day, m.hour, m.minute, m.second, m.microsecond // 1000,
         m.microsecond % 1000, 0]))[0]) for m in moments])


def unix_ns(moments: list[dt.datetime]) -> np.ndarray:
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return np.array([(m - epoch) // dt.timedelta(microseconds=1) * 1000 for m in moments])


@pytest.mark.parametrize("leap", [dt.datetime(2017, 1, 1, tzinfo=dt.UTC),
                                  dt.datetime(2015, 7, 1, tzinfo=dt.UTC),
                                  dt.datetime(2012, 7, 1, tzinfo=dt.UTC)],
                         ids=["2016-12-31", "2015-06-30", "2012-06-30"])
def test_unix_ns_to_tt2000_matches_cdflib_around_leap_second(leap) -> None:
    steps = [-86_400, -3_600, -5, -1, -0.5, -0.001, 0, 0.001, 0.5, 1, 5, 3_600]
    moments = [leap + dt.timedelta(seconds=s) for s in steps]
    got = unix_ns_to_tt2000(unix_ns(moments))
    np.testing.assert_array_equal(got, reference_tt2000(moments))
    # the leap second itself: 1 s of UTC across midnight is 2 s of TT
    assert got[steps.index(0)] - got[steps.index(-1)] == 2_000_000_000


def test_unix_ns_to_tt2000_matches_cdflib_over_many_years() -> None:
    rng = np.random.default_rng(7)
    seconds = rng.integers(dt.datetime(1995, 1, 1).timestamp(), dt.datetime(2040, 1, 1).timestamp(),
                           400)
    moments = [dt.datetime.fromtimestamp(int(s), dt.UTC) + dt.timedelta(milliseconds=int(ms))
               for s, ms in zip(seconds, rng.integers(0, 1000, 400), strict=True)]
    np.testing.assert_array_equal(unix_ns_to_tt2000(unix_ns(moments)), reference_tt2000(moments))


@pytest.mark.parametrize(("ns", "text"), [(5_000_000_000, "5s"), (60_000_000_000, "60s"),
                                          (2_500_000_000, "2500ms"), (250_000, "250us"),
                                          (1_500, "1500ns")])
def test_resolution_text_uses_largest_exact_unit(ns, text) -> None:
    assert resolution_text(ns) == text


def test_process_file_epoch_is_exact_on_leap_second_day(make_artifact, read_cdf,
                                                        to_datetime64, tmp_path) -> None:
    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135", fractional_seconds=True),
                             day=dt.date(2016, 12, 31), minutes=3, start_minute=24 * 60 - 3)
    contents = read_cdf(process_file(artifact.path, tmp_path, day=artifact.day)[0])
    want = np.unique(np.array([to_datetime64(r["obTime"]) for r in artifact.records]))
    np.testing.assert_array_equal(contents["times"], want)
    moments = [dt.datetime.fromisoformat(str(t) + "+00:00") for t in want.astype("M8[us]")]
    np.testing.assert_array_equal(contents["Epoch"], reference_tt2000(moments))
