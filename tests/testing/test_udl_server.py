"""The local UDL server speaks UDL's query semantics (udl.md "The query") and misbehaves
exactly as configured: what the downloader's tests rely on."""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import datetime as dt
import glob
import http.client
import os
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
import psutil
import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.paths import artifact_name
from swxsoc_reach.synthetic import SyntheticOptions, iter_records
from swxsoc_reach.testing.udl_server import (
    TEST_CREDENTIAL,
    UdlServer,
    start_udl_server_process,
)

DAY = dt.date(2026, 1, 1)
SENSOR = "REACH-135"
API = "/udl/spaceenvobservation"


def get(server: UdlServer | str, path: str, params: dict[str, str] | None = None,
        auth: str | None = TEST_CREDENTIAL) -> tuple[int, dict[str, str], bytes]:
    url = urlsplit(server if isinstance(server, str) else server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        connection.request("GET", path + ("?" + urlencode(params) if params else ""),
                           headers={"Authorization": auth} if auth else {})
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


def query(server: UdlServer, window: str, **extra: str) -> list[dict[str, Any]]:
    status, _, body = get(server, API, {"obTime": window, "sort": "obTime", **extra})
    assert status == 200, body
    return orjson.loads(body)


def test_udl_server_obtime_range_is_inclusive_at_both_ends(udl_server) -> None:
    records = query(udl_server, "2026-01-01T00:05:00.000Z..2026-01-01T00:10:00.000Z")
    times = [r["obTime"] for r in records]
    assert times[0] == "2026-01-01T00:05:00.000Z" and times[-1] == "2026-01-01T00:10:00.000Z"
    assert len(records) == 2 * 61  # two dosimeters, 61 samples from :05:00 to :10:00
    assert times == sorted(times)


def test_udl_server_serves_what_synthetic_generates(udl_server) -> None:
    start = dt.datetime(2026, 1, 1, 3, tzinfo=dt.UTC)
    end = start + dt.timedelta(minutes=30)
    expected = list(iter_records(DAY, SyntheticOptions(sensor_id=SENSOR), start=start, end=end))
    served = query(udl_server, "2026-01-01T03:00:00.000Z..2026-01-01T03:30:00.000Z")
    assert served == expected


def test_udl_server_filters_by_sensor_descriptor_source_and_data_mode(udl_server) -> None:
    window = "2026-01-01T00:00:00.000Z..2026-01-01T00:01:00.000Z"
    assert len(query(udl_server, window, idSensor=SENSOR)) == 26
    assert query(udl_server, window, idSensor="REACH-101") == []
    provisional = query(udl_server, window, descriptor="PROVISIONAL")
    assert {r["descriptor"] for r in provisional} == {"PROVISIONAL"}
    assert query(udl_server, window, source="Other") == []
    assert query(udl_server, window, dataMode="TEST") == []


def test_udl_server_spans_days_when_a_range_crosses_midnight(udl_server) -> None:
    records = query(udl_server, "2026-01-01T23:59:55.000Z..2026-01-02T00:00:00.000Z")
    assert [r["obTime"] for r in records] == ["2026-01-01T23:59:55.000Z"] * 2 + [
        "2026-01-02T00:00:00.000Z"] * 2


def test_udl_server_pages_with_first_and_max_results_under_its_cap(udl_server) -> None:
    udl_server.configure(cap=50)
    window = "2026-01-01T00:00:00.000Z..2026-01-01T00:10:00.000Z"
    whole = []
    offset = 0
    while page := query(udl_server, window, firstResult=str(offset), maxResults="1000"):
        assert len(page) <= 50
        whole += page
        offset += len(page)
    assert len(whole) == 2 * 121
    assert len({r["id"] for r in whole}) == len(whole)
    assert len(query(udl_server, window, maxResults="7")) == 7


def test_udl_server_count_answers_plain_text(udl_server) -> None:
    udl_server.configure(cap=10)
    status, headers, body = get(udl_server, API + "/count", {
        "obTime": "2026-01-01T00:00:00.000Z..2026-01-01T00:10:00.000Z"})
    assert status == 200 and headers["Content-Type"] == "text/plain"
    assert body == b"242"  # the count ignores the cap


@pytest.mark.parametrize("auth", [None, "Basic wrong"])
def test_udl_server_refuses_other_credentials_with_401(udl_server, auth) -> None:
    status, _, _ = get(udl_server, API, {"obTime": "2026-01-01T00:00:00Z..2026-01-01T00:00:05Z"},
                       auth=auth)
    assert status == 401


def test_udl_server_answers_429_with_retry_after_beyond_its_rate(udl_server) -> None:
    udl_server.configure(rate_limit=2.0, burst=2.0)
    window = {"obTime": "2026-01-01T00:00:00Z..2026-01-01T00:00:05Z"}
    statuses = [get(udl_server, API, window) for _ in range(3)]
    assert [s for s, _, _ in statuses] == [200, 200, 429]
    assert int(statuses[2][1]["Retry-After"]) >= 1
    assert udl_server.stats()["counters"]["status_429"] == 1


def test_udl_server_rejects_unknown_parameters_with_400(udl_server) -> None:
    status, _, body = get(udl_server, API, {"obTime": "2026-01-01T00:00:00Z..2026-01-01T00:00:05Z",
                                            "idSensr": SENSOR})
    assert status == 400 and b"idSensr" in body


def test_udl_server_fault_stream_repeats_for_a_seed(udl_server) -> None:
    def statuses() -> list[int]:
        udl_server.configure(fault_seed=7, error_rate=0.3, drop_rate=0.2, truncate_rate=0.2)
        for _ in range(20):
            # a dropped connection or a cut body, as configured
            with contextlib.suppress(http.client.HTTPException, ConnectionError):
                get(udl_server, API, {"obTime": "2026-01-01T00:00:00Z..2026-01-01T00:00:05Z"})
        return [entry["status"] for entry in udl_server.stats()["log"]]

    first = statuses()
    assert first == statuses()
    faults = udl_server.stats()["counters"]
    assert faults["fault_error"] and faults["fault_drop"] and faults["fault_truncate"]


def test_udl_server_truncated_body_is_shorter_than_announced(udl_server) -> None:
    udl_server.configure(truncate_rate=1.0)
    with pytest.raises(http.client.IncompleteRead):
        get(udl_server, API, {"obTime": "2026-01-01T00:00:00Z..2026-01-01T00:10:00Z"})


def test_udl_server_empty_failing_and_garbage_days(udl_server) -> None:
    udl_server.configure(empty_days=frozenset({DAY}), fail_days=((dt.date(2026, 1, 2), 503),),
                         garbage_days=frozenset({dt.date(2026, 1, 3)}))
    assert query(udl_server, "2026-01-01T00:00:00Z..2026-01-01T01:00:00Z") == []
    assert udl_server.day_ids(DAY) == []
    assert get(udl_server, API, {"obTime": "2026-01-02T00:00:00Z..2026-01-02T01:00:00Z"})[0] == 503
    status, _, body = get(udl_server, API, {"obTime": "2026-01-03T00:00:00Z..2026-01-03T01:00:00Z"})
    assert status == 200 and not body.startswith(b"[")


def test_udl_server_day_ids_are_the_days_records(udl_server) -> None:
    options = SyntheticOptions(sensor_id=SENSOR, fractional_seconds=True)
    udl_server.configure(data=options)
    expected = [r["id"] for r in iter_records(DAY, options)]
    assert udl_server.day_ids(DAY, SENSOR) == expected
    assert udl_server.day_ids(DAY, "REACH-101") == []


def test_udl_server_process_prints_its_url_and_serves() -> None:
    server = start_udl_server_process("--sensor-id", SENSOR, "--auth", TEST_CREDENTIAL,
                                      "--cap", "5", timeout_s=120)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        status, _, body = get(server.url, API, {
            "obTime": "2026-01-01T00:00:00Z..2026-01-01T01:00:00Z"})
        assert status == 200 and len(orjson.loads(body)) == 5
        assert server.stats()["counters"]["requests"] == 1
        assert len(server.day_ids(DAY, SENSOR)) == 34_560
    finally:
        server.stop()
    assert server.process.returncode is not None


def test_udl_server_cut_answer_is_a_200_announced_as_sent_but_not_whole_json(udl_server) -> None:
    udl_server.configure(cut_rate=1.0)
    status, headers, body = get(udl_server, API, {
        "obTime": "2026-01-01T00:00:00Z..2026-01-01T00:10:00Z"})
    assert status == 200 and int(headers["Content-Length"]) == len(body) > 0
    assert body.startswith(b"[{")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)


def test_udl_server_counts_a_request_from_before_a_reset_in_neither_epoch(udl_server) -> None:
    """A test's abandoned answer (its client gave up; the server still sleeps on it)
    must not land in the next test's counters: CI once saw 7 requests where 6 were made."""
    udl_server.configure(latency_s=0.5)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        answer = pool.submit(get, udl_server, API, {
            "obTime": "2026-01-01T00:00:00Z..2026-01-01T00:10:00Z"})
        deadline = time.monotonic() + 30
        while udl_server.stats()["in_flight"] == 0:  # the request is inside the server
            assert time.monotonic() < deadline and not answer.done()
            time.sleep(0.01)
        udl_server.configure(latency_s=0.0)  # what the udl_server fixture does between tests
        assert answer.result()[0] == 200  # answered, so the server is done with it
    stats = udl_server.stats()
    assert stats["counters"].get("requests", 0) == 0 and stats["log"] == []
    assert stats["in_flight"] == 0
    query(udl_server, "2026-01-01T00:00:00Z..2026-01-01T00:00:10Z")
    assert udl_server.stats()["counters"]["requests"] == 1


def test_udl_server_serves_file_backed_days_in_bounded_memory(tmp_path) -> None:
    """Days rendered into files (``--memory-records 0``, as a full ALL day is): serving
    four whole days grows the server by far less than their records, which stay on disk."""
    server = start_udl_server_process("--sensor-id", SENSOR, "--memory-records", "0",
                                      "--cap", "2000", timeout_s=120)
    try:
        process = psutil.Process(server.process.pid)
        before = process.memory_info().rss
        peak, served = before, 0
        for offset in range(4):
            day = DAY + dt.timedelta(days=offset)
            window = f"{day}T00:00:00Z..{day}T23:59:59.999Z"
            first = 0
            while True:
                _, _, body = get(server.url, API, {"obTime": window, "firstResult": str(first),
                                                   "maxResults": "2000"})
                if body == b"[]":
                    break
                served += len(body)
                first += 2000
                peak = max(peak, process.memory_info().rss)
            assert first >= 34_560
        assert len(server.day_ids(DAY + dt.timedelta(days=3), SENSOR)) == 34_560
        files = glob.glob(os.path.join(tempfile.gettempdir(),
                                       f"swxsoc-reach-udl-{server.process.pid}-*", "*"))
        assert len(files) == 2 * 4  # each day's records and ids
    finally:
        server.stop()
    assert peak - before < 2 * served / 4  # in memory, four days would add four days' bytes
    assert not glob.glob(os.path.join(tempfile.gettempdir(),
                                      f"swxsoc-reach-udl-{server.process.pid}-*"))


# --- late data: held-back records, reprocessed samples (issue 18.4) ------------------------

NEXT = DAY + dt.timedelta(days=1)
FULL_DAY = 34_560  # one sensor: 2 dosimeters x 17,280 samples
WHOLE_DAY = "2026-01-01T00:00:00.000Z..2026-01-01T23:59:59.999Z"


def count(server: UdlServer | str, window: str, **extra: str) -> int:
    status, _, body = get(server, API + "/count", {"obTime": window, **extra})
    assert status == 200, body
    return int(body)


def download(server: UdlServer, out: Path) -> list[str]:
    """The ids of DAY's artifact, downloaded through the real CLI."""
    assert main(["download", "--start-date", DAY.isoformat(), "--end-date", DAY.isoformat(),
                 "--sensor-id", SENSOR, "--output-dir", str(out), "--udl-url", server.url,
                 "--initial-rate", "50", "--max-rate", "200"]) == 0
    with open(out / artifact_name(DAY, SENSOR, "csv"), newline="") as fh:
        return [row["id"] for row in csv.DictReader(fh)]


def test_udl_server_held_day_downloads_fewer_records_until_released(udl_server,
                                                                    tmp_path) -> None:
    udl_server.hold(DAY, 0.2)
    held = download(udl_server, tmp_path / "held")
    assert 0.75 * FULL_DAY < len(held) < 0.85 * FULL_DAY
    assert held == udl_server.day_ids(DAY) and count(udl_server, WHOLE_DAY) == len(held)
    udl_server.release(DAY)
    assert count(udl_server, WHOLE_DAY) == FULL_DAY
    released = download(udl_server, tmp_path / "released")
    assert len(released) == FULL_DAY and set(held) < set(released)


def test_udl_server_holds_are_seeded_and_nested(udl_server) -> None:
    udl_server.hold(DAY, 0.5)
    half = udl_server.day_ids(DAY)
    udl_server.hold(DAY, 0.2)  # part of the day arrives
    assert set(half) < set(udl_server.day_ids(DAY))
    with UdlServer(udl_server.config) as other:  # a fresh server: the same records held
        assert other.day_ids(DAY) == udl_server.day_ids(DAY)


def test_udl_server_count_is_what_the_query_serves_at_inclusive_ends(udl_server) -> None:
    window = "2026-01-01T23:59:55.000Z..2026-01-02T00:00:00.000Z"
    assert count(udl_server, window) == len(query(udl_server, window)) == 4
    udl_server.hold(NEXT)  # the next day's first instant is held back: 2 fewer
    assert count(udl_server, window) == len(query(udl_server, window)) == 2
    udl_server.release()
    assert count(udl_server, window) == 4


def test_udl_server_counts_a_day_it_has_not_rendered_as_one_it_has(udl_server) -> None:
    """/count of a regular day not rendered is arithmetic: a full ALL day costs no render
    (~85 s otherwise), so an audit can count years of days."""
    udl_server.configure(data=SyntheticOptions(seed=11))  # every sensor, nothing rendered
    assert count(udl_server, WHOLE_DAY) == 1_105_920
    short = "2026-01-01T12:00:00.000Z..2026-01-01T12:00:30.000Z"
    assert count(udl_server, short) == len(query(udl_server, short)) == 7 * 64
    options = SyntheticOptions(sensor_id=SENSOR, fractional_seconds=True, seed=11)
    udl_server.configure(data=options)
    windows = [WHOLE_DAY, "2026-01-01T00:00:00.000Z..2026-01-02T00:00:00.999Z",
               "2026-01-01T12:00:00.250Z..2026-01-01T12:00:10.000Z"]
    counted = [count(udl_server, w) for w in windows]
    udl_server.warm(DAY)
    udl_server.warm(NEXT)
    assert [count(udl_server, w) for w in windows] == counted
    assert counted[0] == FULL_DAY


def test_udl_server_holds_whole_sensors(udl_server) -> None:
    udl_server.configure(data=SyntheticOptions())  # every sensor (short windows: cheap)
    window = "2026-01-01T06:00:00.000Z..2026-01-01T06:01:00.000Z"
    every = query(udl_server, window)
    udl_server.hold(DAY, sensors=["REACH-135", "REACH-101"])
    served = query(udl_server, window)
    assert {r["idSensor"] for r in every} - {r["idSensor"] for r in served} == {
        "REACH-135", "REACH-101"}
    kept = [r for r in every if r["idSensor"] not in ("REACH-135", "REACH-101")]
    assert served == kept and count(udl_server, window) == len(kept)


def test_udl_server_reprocessed_samples_are_served_and_counted(udl_server) -> None:
    udl_server.reprocess(DAY, 0.1)
    window = "2026-01-01T03:00:00.000Z..2026-01-01T04:00:00.000Z"
    records = query(udl_server, window)
    cells: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in records:
        cells.setdefault((r["idSensor"], r["seoList"][0]["obDescription"], r["obTime"]),
                         []).append(r)
    twice = [pair for pair in cells.values() if len(pair) == 2]
    assert 0.05 * len(cells) < len(twice) < 0.15 * len(cells)
    for first, second in twice:
        assert first["id"] != second["id"] and first["createdAt"] != second["createdAt"]
    assert len(cells) == 2 * 721 and count(udl_server, window) == len(records)
    assert 1.05 * FULL_DAY < len(udl_server.day_ids(DAY)) == count(udl_server, WHOLE_DAY) \
        < 1.15 * FULL_DAY


def test_udl_server_process_changes_its_holdings_through_the_admin_endpoint() -> None:
    server = start_udl_server_process("--sensor-id", SENSOR, "--hold", "2026-01-01:0.5",
                                      "--reprocess", "2026-01-02:0.2", timeout_s=120)
    try:
        held = server.holdings()
        assert [h.text for h in held.held] == ["2026-01-01:0.5"]
        assert held.reprocessed == ((NEXT, 0.2),)
        assert 0.45 * FULL_DAY < count(server.url, WHOLE_DAY) < 0.55 * FULL_DAY
        assert server.release(DAY).held == ()
        assert count(server.url, WHOLE_DAY) == FULL_DAY
        server.hold(DAY, sensors=[SENSOR])
        assert count(server.url, WHOLE_DAY) == 0 and server.day_ids(DAY) == []
        assert server.reprocess(NEXT, 0).reprocessed == ()
        requests = server.stats()["counters"]["requests"]
        assert requests == 3  # the admin requests change no counter
        url = urlsplit(server.url)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        connection.request("POST", "/_holdings?hold=2026-01-01:1.5")
        answer = connection.getresponse()
        assert answer.status == 400 and b"(0, 1]" in answer.read()
        connection.close()
    finally:
        server.stop()
