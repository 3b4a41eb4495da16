"""UDL's count of a day against the local UDL server over real HTTP (archive-sync.md "A day
in step", udl.md ``/count``): exactly the records of ``[D, D+1)`` through the download's
client (credential, rate, retries); refused, throttled and garbage answers."""

from __future__ import annotations

import datetime as dt

import pytest

from swxsoc_reach.errors import UdlError, UdlUnavailableError
from swxsoc_reach.synthetic import SyntheticOptions
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.client import RetryPolicy, UdlClient, UdlQuery, parse_count
from swxsoc_reach.udl.count import count_day, count_days
from swxsoc_reach.udl.credentials import Credential
from swxsoc_reach.udl.ratelimit import RateSettings

DAY = dt.date(2026, 1, 1)
NEXT = DAY + dt.timedelta(days=1)
SENSOR = "REACH-135"
FULL_DAY = 34_560  # one sensor: 2 dosimeters x 17,280 samples
QUERY = UdlQuery(sensor_id=SENSOR)
FAST = RateSettings(max_concurrent_requests=2, initial_rate=50.0, min_rate=1.0,
                    max_rate=200.0)
QUICK_RETRY = RetryPolicy(backoff_base_s=0.02, backoff_cap_s=0.1)


def client_for(server, credential: str = TEST_CREDENTIAL,
               rate: RateSettings = FAST) -> UdlClient:
    return UdlClient(server.url, Credential(credential), rate, QUICK_RETRY)


def asked(server) -> list[tuple[str, str]]:
    """(path, obTime) of every request the server got."""
    return [(e["path"], e["obTime"]) for e in server.stats()["log"]]


def test_count_day_is_exactly_the_day_without_the_next_midnight(udl_server) -> None:
    with client_for(udl_server) as client:
        # whole-second stamps: every sensor's first sample of the next day is at midnight
        through = client.count_range(Window(*(dt.datetime(d.year, d.month, d.day,
                                                          tzinfo=dt.UTC) for d in (DAY, NEXT))),
                                     QUERY)
        assert through == FULL_DAY + 2  # UDL's A..B is inclusive: the next day's first 2
        udl_server.reset_stats()
        assert count_day(client, DAY, QUERY) == FULL_DAY == len(udl_server.day_ids(DAY))
    assert asked(udl_server) == [  # one request: up to the day's last millisecond
        ("/udl/spaceenvobservation/count", "2026-01-01T00:00:00.000Z..2026-01-01T23:59:59.999Z")]
    entry = udl_server.stats()["log"][0]
    assert entry["idSensor"] == SENSOR and entry["descriptor"] == "QUICKLOOK"
    assert "firstResult" not in entry and "maxResults" not in entry


@pytest.mark.parametrize("change", ["next day held", "fractional seconds"])
def test_count_day_is_exact_when_nothing_lies_at_the_next_midnight(udl_server, change) -> None:
    if change == "next day held":
        udl_server.hold(NEXT)
    else:
        udl_server.configure(data=SyntheticOptions(sensor_id=SENSOR, fractional_seconds=True))
    with client_for(udl_server) as client:
        assert count_day(client, DAY, QUERY) == FULL_DAY


def test_count_day_counts_only_what_a_held_back_day_serves(udl_server) -> None:
    udl_server.hold(DAY, 0.25)
    served = len(udl_server.day_ids(DAY))
    assert 0.7 * FULL_DAY < served < 0.8 * FULL_DAY
    with client_for(udl_server) as client:
        assert count_day(client, DAY, QUERY) == served
        udl_server.hold(DAY)  # all of it: no data yet (the next midnight's 2 still count)
        assert count_day(client, DAY, QUERY) == 0
        udl_server.release(DAY)
        assert count_day(client, DAY, QUERY) == FULL_DAY


def test_count_days_counts_each_day_concurrently_and_confines_a_bad_answer(udl_server) -> None:
    days = [DAY + dt.timedelta(days=n) for n in range(5)]
    udl_server.configure(garbage_days=frozenset({days[3]}), latency_s=0.05)
    udl_server.hold(days[1], 0.5)
    with client_for(udl_server) as client:
        counts = count_days(client, days, QUERY, workers=2)
    assert list(counts) == days
    assert counts[days[1]].records == len(udl_server.day_ids(days[1])) < FULL_DAY
    assert all(counts[d].records == FULL_DAY for d in (days[0], days[4]))
    # the query starting on days[3] gets garbage: its count alone
    assert counts[days[2]].records == FULL_DAY
    bad = counts[days[3]]
    assert bad.records is None and "not a count of records" in str(bad.error)
    assert udl_server.stats()["counters"]["max_in_flight"] <= 2  # the client's bound
    assert udl_server.stats()["counters"]["requests"] == 5  # one a day; garbage: no retry


def test_count_refused_credential_stops_every_day_with_a_clear_error(udl_server) -> None:
    days = [DAY + dt.timedelta(days=n) for n in range(20)]
    with (client_for(udl_server, credential="Basic d3Jvbmc6d3Jvbmc=") as client,
          pytest.raises(UdlUnavailableError, match=r"HTTP 401 for count 2026-01-")):
        count_days(client, days, QUERY, workers=2)
    assert udl_server.stats()["counters"]["requests"] <= 4  # stopped, not 20 days of 401s


def test_count_waits_out_429_with_retry_after(udl_server) -> None:
    udl_server.configure(rate_limit=2.0, burst=1.0)
    with client_for(udl_server, rate=RateSettings(max_concurrent_requests=1, initial_rate=10.0,
                                                  min_rate=1.0, max_rate=10.0)) as client:
        for _ in range(2):  # one request a day: the second comes too soon
            assert count_day(client, DAY, QUERY) == FULL_DAY
        assert client.throttled == udl_server.stats()["counters"]["status_429"] > 0
    log = udl_server.stats()["log"]
    refused = next(i for i, e in enumerate(log) if e["status"] == 429)
    assert log[refused + 1]["t"] - log[refused]["t"] >= 0.9  # Retry-After: 1 was held


@pytest.mark.parametrize(("body", "message"), [
    (b"34560\n", None),
    (b"0", None),
    (b"-3", "negative count"),
    (b"12.5", "not a count"),
    (b"", "not a count"),
    (b"[]", "not a count"),
    ("\u0661\u0662".encode(), "not a count"),  # digits, but not ASCII ones
])
def test_parse_count_accepts_only_a_whole_number(body, message) -> None:
    if message is None:
        assert parse_count(body, "count x") == int(body)
    else:
        with pytest.raises(UdlError, match=message):
            parse_count(body, "count x")


def test_count_answer_longer_than_a_count_is_refused_unread(udl_server) -> None:
    udl_server.configure(garbage_days=frozenset({DAY}))  # a 46-byte HTML page
    with (client_for(udl_server) as client,
          pytest.raises(UdlError, match=r"not a count of records \(longer than 32 bytes\): "
                        "<html><body>Service")):
        count_day(client, DAY, QUERY)
    assert udl_server.stats()["counters"]["requests"] == 1  # not retried
