"""Windows sized from REACH's density (historical-download.md "Chunking and the artifact"):
they tile the day exactly, hold about one page at the expected density, follow the
density the latest window showed, and shrink to a smaller page."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from swxsoc_reach.mission import SAMPLE_PERIOD_S
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.sizing import FILL, MAX_GROWTH, WindowPlanner

DAY = dt.date(2026, 1, 1)
PAGE = 10_000


def drain(planner: WindowPlanner) -> list[Window]:
    windows = []
    while (planned := planner.next_window()) is not None:
        index, window = planned
        assert index == len(windows)
        windows.append(window)
    return windows


def instants(window: Window) -> int:
    """Sample instants ``start..end`` asks for (both ends, whole 5-second samples)."""
    seconds = (window.end - window.start).total_seconds()
    return int(seconds // SAMPLE_PERIOD_S) + 1


@pytest.mark.parametrize(("sensor", "fixed"), [
    ("ALL", None), ("REACH-135", None), ("ALL", dt.timedelta(minutes=5))])
def test_planner_windows_tile_the_day_exactly(sensor, fixed) -> None:
    windows = drain(WindowPlanner(DAY, sensor, lambda: PAGE, fixed=fixed))
    assert windows[0].start == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert windows[-1].end == dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))
    if fixed:
        assert len(windows) == 288 and all(w.end - w.start == fixed for w in windows)


@pytest.mark.parametrize(("sensor", "per_instant", "pages"), [("ALL", 64, 116),
                                                               ("REACH-135", 2, 4)])
def test_planner_fills_each_answer_close_to_a_page(sensor, per_instant, pages) -> None:
    planner = WindowPlanner(DAY, sensor, lambda: PAGE)
    estimate = planner.estimate()
    windows = drain(planner)
    asked = [instants(w) * per_instant for w in windows]  # records each query matches
    assert max(asked) < PAGE  # never a second page at the expected density
    assert min(asked[:-1]) >= 0.9 * FILL * PAGE  # not much smaller either
    assert len(windows) == estimate == pages


def test_planner_follows_the_latest_density_growing_at_most_twofold() -> None:
    planner = WindowPlanner(DAY, "ALL", lambda: PAGE)
    _, first = planner.next_window()
    _, second = planner.next_window()
    planner.learn(second, 0)  # a stretch where every sensor is silent
    planner.learn(first, 9_000)  # an earlier window finishing later does not count
    _, third = planner.next_window()
    assert third.end - third.start == MAX_GROWTH * (second.end - second.start)
    planner.learn(third, 64 * 12 * 60)  # suddenly 4 records a second... per minute x 64
    _, fourth = planner.next_window()
    records_per_s = 64 * 12 * 60 / (third.end - third.start).total_seconds()
    assert (fourth.end - fourth.start).total_seconds() * records_per_s <= FILL * PAGE


def test_planner_shrinks_windows_to_a_smaller_server_cap() -> None:
    page = [PAGE]
    planner = WindowPlanner(DAY, "ALL", lambda: page[0])
    _, big = planner.next_window()
    page[0] = 1_000  # the client proved a cap of 1,000
    _, small = planner.next_window()
    assert instants(big) * 64 < PAGE and instants(small) * 64 < 1_000
    assert (small.end - small.start) < (big.end - big.start) / 5
