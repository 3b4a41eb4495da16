"""A whole day through ``download_day`` under page-sized windows, against the local UDL
server over HTTP (historical-download.md "Chunking and the artifact", issue 11.1): every
record exactly once and in time order, nothing of the neighbouring days, whatever the
day looks like; and about one request per page."""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import pytest

from swxsoc_reach.synthetic import SyntheticOptions
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.client import RetryPolicy, UdlClient, UdlQuery
from swxsoc_reach.udl.credentials import Credential
from swxsoc_reach.udl.day import download_day
from swxsoc_reach.udl.ratelimit import RateSettings

DAY = dt.date(2026, 1, 1)
SENSOR = "REACH-135"
FAST = RateSettings(initial_rate=100.0, min_rate=1.0, max_rate=400.0)
PAGE = 2_000  # ~18 windows for one sensor's day: the shape of an ALL day, 1/32 the size


def client(server, page: int = PAGE) -> UdlClient:
    return UdlClient(server.url, Credential(TEST_CREDENTIAL), FAST,
                     RetryPolicy(backoff_base_s=0.02, backoff_cap_s=0.1), page_size=page)


def download(server, tmp_path: Path, sensor: str = SENSOR, page: int = PAGE,
             fixed: dt.timedelta | None = None) -> list[dict[str, str]]:
    final = tmp_path / "day.csv"
    with client(server, page) as udl:
        done = download_day(udl, DAY, UdlQuery(sensor_id=sensor), final, "csv", workers=4,
                            fixed_window=fixed)
    with open(final, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert done.records == len(rows)
    return rows


def api_requests(server) -> int:
    return sum(e["status"] == 200 for e in server.stats()["log"])


CASES = {
    "boundary records": SyntheticOptions(sensor_id=SENSOR),  # windows end on sample instants
    "fractional seconds": SyntheticOptions(sensor_id=SENSOR, fractional_seconds=True),
    "re-served duplicates": SyntheticOptions(sensor_id=SENSOR, duplicate_fraction=0.2),
    "sensor silent 3-14 h": SyntheticOptions(sensor_id=SENSOR, absent=((SENSOR, 3, 14),)),
}


@pytest.mark.parametrize("case", CASES)
def test_download_day_gets_every_record_once_under_page_sized_windows(udl_server, tmp_path,
                                                                     case) -> None:
    udl_server.configure(data=CASES[case])
    rows = download(udl_server, tmp_path)
    expected = udl_server.day_ids(DAY, SENSOR)
    assert [r["id"] for r in rows] == expected  # each once, in time order
    assert all(r["obTime"].startswith("2026-01-01T") for r in rows)
    boundary_asked = {e["obTime"].split("..")[1] for e in udl_server.stats()["log"]}
    # the last window asks for the next day's first instant, whose records are left out
    assert "2026-01-02T00:00:00.000Z" in boundary_asked
    # about one request per page, plus the few that prove the first answers complete
    assert api_requests(udl_server) <= math.ceil(len(expected) / PAGE) + 8


def test_download_day_pages_and_shrinks_windows_for_a_smaller_server_cap(udl_server,
                                                                        tmp_path) -> None:
    udl_server.configure(data=SyntheticOptions(sensor_id=SENSOR, fractional_seconds=True),
                         cap=500)
    rows = download(udl_server, tmp_path)
    assert [r["id"] for r in rows] == udl_server.day_ids(DAY, SENSOR)
    log = [e for e in udl_server.stats()["log"] if e["status"] == 200]
    paged = [e for e in log if e["firstResult"] != "0"]
    assert paged  # the first windows, sized for 2,000, were paged through
    # once the cap showed, windows hold about one answer: few pages after the first ones
    assert len(log) <= math.ceil(len(rows) / 500) * 1.25


def test_download_day_widens_windows_when_answers_are_far_sparser(udl_server,
                                                                 tmp_path) -> None:
    """ALL asked of a server holding one sensor: 1/32 of the expected density."""
    udl_server.configure(data=SyntheticOptions(sensor_id=SENSOR, fractional_seconds=True))
    rows = download(udl_server, tmp_path, sensor="ALL", page=10_000)
    assert [r["id"] for r in rows] == udl_server.day_ids(DAY, "ALL")
    # windows double while answers stay sparse (each larger answer is proven complete
    # once): a tenth of the 288 requests of the older tool's 5-minute windows
    assert api_requests(udl_server) <= 288 // 10


def test_download_day_keeps_fixed_windows_when_asked(udl_server, tmp_path) -> None:
    udl_server.configure(data=SyntheticOptions(sensor_id=SENSOR))
    rows = download(udl_server, tmp_path, fixed=dt.timedelta(hours=2))
    assert [r["id"] for r in rows] == udl_server.day_ids(DAY, SENSOR)
    starts = sorted({e["obTime"].split("..")[0] for e in udl_server.stats()["log"]})
    assert len(starts) == 12 and starts[1] == "2026-01-01T02:00:00.000Z"


@pytest.mark.parametrize("server_cap", [120, 10_000])
def test_fetch_window_pages_on_when_an_answer_is_full_exactly_at_the_page(udl_server,
                                                                         tmp_path,
                                                                         server_cap) -> None:
    """00:00..00:05 matches 61 instants x 2 = 122 records; a page of 122 is then full."""
    udl_server.configure(data=SyntheticOptions(sensor_id=SENSOR), cap=server_cap)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    window = Window(start, start + dt.timedelta(minutes=5))
    page = min(122, server_cap)
    kept: list[int] = []

    def take(body, page_number, seen, ids_from):
        from swxsoc_reach.udl.pages import PageJob, process_page

        outcome = process_page(body, PageJob(window, tmp_path / f"{page_number}", "json",
                                             seen, ids_from))
        kept.append(outcome.kept)
        return outcome

    with client(udl_server, page=122) as udl:
        total = udl.fetch_window(window, UdlQuery(sensor_id=SENSOR), take)
    assert total == 120  # 00:05:00 belongs to the next window
    answers = [e["records"] for e in udl_server.stats()["log"]]
    assert answers[0] == page and sum(answers) == 122  # paged on until proven complete
