"""synthetic.count_records: what iter_records would yield, counted without making records
(the local UDL server's /count of a day it has not rendered; a full ALL day costs no render)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from swxsoc_reach.mission import expected_records
from swxsoc_reach.synthetic import SyntheticOptions, count_records, iter_records

DAY = dt.date(2026, 1, 1)
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def windows(seed: int, longest_s: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """Seeded windows: anywhere around the day (some outside it), some a single instant,
    at microsecond, millisecond and whole-sample precision."""
    rng = random.Random(seed)
    found = [(START + dt.timedelta(days=1),) * 2, (START - dt.timedelta(hours=1), START),
             (START + dt.timedelta(seconds=86_395 - longest_s), START + dt.timedelta(days=1))]
    for _ in range(15):
        lo = START + dt.timedelta(microseconds=rng.randrange(-10**7, 86_400 * 10**6 + 10**7))
        if rng.random() < 0.3:
            lo = lo.replace(microsecond=0, second=lo.second - lo.second % 5)
        span = rng.choice([0, 1000, 5_000_000, rng.randrange(longest_s * 10**6)])
        found.append((lo, lo + dt.timedelta(microseconds=span)))
    return found


@pytest.mark.parametrize(("options", "longest_s"), [
    (SyntheticOptions(sensor_id="REACH-135"), 6 * 3600),
    (SyntheticOptions(sensor_id="REACH-135", fractional_seconds=True, seed=3), 6 * 3600),
    (SyntheticOptions(fractional_seconds=True), 60),
    (SyntheticOptions(), 60),
])
def test_count_records_equals_what_iter_records_yields(options, longest_s) -> None:
    for lo, hi in windows(len(options.sensor_id), longest_s):
        records = list(iter_records(DAY, options, start=lo, end=hi))
        for sensor in (None, "REACH-135", "REACH-101"):
            want = sum(1 for r in records if sensor is None or r["idSensor"] == sensor)
            assert count_records(DAY, options, sensor, lo, hi) == want, (lo, hi, sensor)


@pytest.mark.parametrize("sensor_id", ["ALL", "REACH-135"])
def test_count_records_of_a_whole_day_is_the_expected_records(sensor_id) -> None:
    whole = (START, START + dt.timedelta(days=1))  # the next midnight is the next day's
    for fractional in (False, True):
        options = SyntheticOptions(sensor_id=sensor_id, fractional_seconds=fractional)
        assert count_records(DAY, options, None, *whole) == expected_records(sensor_id)


@pytest.mark.parametrize("irregular", [{"gap_fraction": 0.1}, {"duplicate_fraction": 0.1},
                                       {"missing_id_fraction": 0.1},
                                       {"absent": (("REACH-135", 1.0, 2.0),)}])
def test_count_records_declines_per_record_draws(irregular) -> None:
    options = SyntheticOptions(sensor_id="REACH-135", **irregular)
    assert count_records(DAY, options, None, START, START + dt.timedelta(hours=1)) is None
