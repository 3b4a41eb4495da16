"""Query windows give every record of a day to exactly one window (historical-download.md
"Chunking and the artifact"): no gap at any sub-second precision, no overlap, nothing
from the neighbouring days."""

from __future__ import annotations

import datetime as dt

import pytest

from swxsoc_reach.errors import UdlError
from swxsoc_reach.udl.chunks import Window, time_key

DAY = dt.date(2026, 1, 1)
MIDNIGHT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def window(minutes: float, length: float) -> Window:
    """The window of ``length`` minutes starting ``minutes`` after the day's start."""
    start = MIDNIGHT + dt.timedelta(minutes=minutes)
    return Window(start, start + dt.timedelta(minutes=length))


def test_window_query_range_asks_for_both_boundaries() -> None:
    assert window(5, 5).query_range == "2026-01-01T00:05:00.000Z..2026-01-01T00:10:00.000Z"


def record(when: str, rid: str = "x") -> dict[str, str]:
    return {"id": rid, "obTime": when}


# Every spelling UDL might use for instants around the 00:05 boundary, earliest first.
AROUND_BOUNDARY = [
    "2026-01-01T00:04:59.999Z",
    "2026-01-01T00:04:59.9999999Z",
    "2026-01-01T00:05:00Z",
    "2026-01-01T00:05:00.000000Z",
    "2026-01-01T00:05:00.0000001Z",
    "2026-01-01T00:05:00.0004Z",
    "2026-01-01T00:05:00.001Z",
    "2026-01-01T00:05:00.001+00:00",
    "2026-01-01T01:05:00.002+01:00",
]


def test_window_cut_gives_each_instant_to_exactly_one_window() -> None:
    first, second = window(0, 5), window(5, 5)
    records = [record(t) for t in AROUND_BOUNDARY]
    kept_first, kept_second = first.cut(records), second.cut(records)
    assert [r["obTime"] for r in kept_first] == AROUND_BOUNDARY[:2]
    assert [r["obTime"] for r in kept_second] == AROUND_BOUNDARY[2:]


def test_window_cut_drops_records_of_the_neighbouring_days() -> None:
    last = window(18 * 60, 6 * 60)
    records = [record("2026-01-01T23:59:59.999Z"), record("2026-01-02T00:00:00.000Z"),
               record("2026-01-02T00:00:00.001Z"), record("2025-12-31T23:59:59.999Z")]
    assert [r["obTime"] for r in last.cut(records)] == ["2026-01-01T23:59:59.999Z"]


def test_window_cut_sorts_an_unsorted_answer_by_time() -> None:
    first = window(0, 6 * 60)
    times = ["2026-01-01T00:00:10.000Z", "2026-01-01T00:00:05Z", "2026-01-01T00:00:00.000Z"]
    assert [r["obTime"] for r in first.cut(record(t) for t in times)] == sorted(
        times, key=time_key)


@pytest.mark.parametrize("bad", [None, 12, "yesterday", "2026-01-01"])
def test_window_cut_rejects_a_record_without_a_readable_obtime(bad) -> None:
    with pytest.raises(UdlError, match="obTime"):
        window(0, 5).cut([{"id": "x", "obTime": bad}])


def test_window_cut_rejects_an_answer_that_is_not_records() -> None:
    with pytest.raises(UdlError, match="not a record"):
        window(0, 5).cut(["2026-01-01T00:00:00Z"])


def test_time_key_orders_like_the_instants() -> None:
    keys = [time_key(t) for t in AROUND_BOUNDARY]
    assert keys == sorted(keys)
    assert time_key("2026-01-01T00:05:00Z") == time_key("2026-01-01T00:05:00.000000000Z")


def test_window_label_names_its_start() -> None:
    start = dt.datetime(2026, 1, 1, 6, tzinfo=dt.UTC)
    assert Window(start, start + dt.timedelta(hours=6)).label == "2026-01-01T06:00:00Z"
