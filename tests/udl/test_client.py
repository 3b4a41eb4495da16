"""The UDL client against the local UDL server over real HTTP (udl.md "The query",
historical-download.md "Adaptive rate control"): windows arrive complete through caps,
page shifts and faults; retries are bounded and logged; other 4xx fail at once."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from swxsoc_reach.errors import ConfigError, UdlError, UdlUnavailableError
from swxsoc_reach.synthetic import SyntheticOptions, iter_records
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL
from swxsoc_reach.udl.artifact import DaySpool
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.client import RetryPolicy, UdlClient, UdlQuery, resolve_base_url
from swxsoc_reach.udl.credentials import Credential
from swxsoc_reach.udl.day import download_day
from swxsoc_reach.udl.pages import PageOutcome
from swxsoc_reach.udl.ratelimit import RateSettings

DAY = dt.date(2026, 1, 1)
SENSOR = "REACH-135"
FAST = RateSettings(initial_rate=50.0, min_rate=1.0, max_rate=200.0)
QUICK_RETRY = RetryPolicy(backoff_base_s=0.02, backoff_cap_s=0.1)


def client_for(server, rate: RateSettings = FAST, policy: RetryPolicy = QUICK_RETRY,
               credential: str = TEST_CREDENTIAL) -> UdlClient:
    return UdlClient(server.url, Credential(credential), rate, policy)


def six_hours(index: int) -> Window:
    """Window ``index`` of the day cut in four (8,640 records of one sensor each)."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + index * dt.timedelta(hours=6)
    return Window(start, start + dt.timedelta(hours=6))


def window_ids(server, index: int) -> list[str]:
    """The ids synthetic generates in ``[start, end)`` of the window."""
    window = six_hours(index)
    return [r["id"] for r in iter_records(DAY, server.config.data, start=window.start,
                                          end=window.end - dt.timedelta(microseconds=1))]


def fetch(server, tmp_path: Path, index: int = 0, sensor: str = SENSOR,
          client: UdlClient | None = None, **client_options) -> list[dict]:
    """The records one window of the day arrives with, through a day spool."""
    window = six_hours(index)
    final = tmp_path / "window.json"
    with contextlib.ExitStack() as stack:
        if client is None:
            client = stack.enter_context(client_for(server, **client_options))
        spool = stack.enter_context(DaySpool(final, "json"))
        def take(body: bytes, page: int, seen: frozenset, ids_from: int) -> PageOutcome:
            return spool.add_page(body, window, 0, page, seen, ids_from)

        kept = client.fetch_window(window, UdlQuery(sensor_id=sensor), take)
        if not kept:
            return []
        spool.merge()
        records = orjson.loads(final.read_bytes())
    assert len(records) == kept
    return records


def test_client_fetches_a_window_complete_and_half_open(udl_server, tmp_path) -> None:
    records = fetch(udl_server, tmp_path, index=1)
    assert [r["id"] for r in records] == window_ids(udl_server, 1)
    assert records[0]["obTime"] == "2026-01-01T06:00:00.000Z"
    assert records[-1]["obTime"] == "2026-01-01T11:59:55.000Z"  # 12:00:00 is the next window's


def test_client_completes_a_window_larger_than_the_servers_cap(udl_server, tmp_path) -> None:
    udl_server.configure(cap=1000)
    records = fetch(udl_server, tmp_path)
    assert [r["id"] for r in records] == window_ids(udl_server, 0)
    pages = [e for e in udl_server.stats()["log"] if e["status"] == 200]
    # 8,642 records in 00:00..06:00 (both ends): 9 pages; the second page proved the cap
    # of 1,000, so the short last page ends the window without asking for an empty one
    assert len(pages) == 9


def test_client_learns_the_cap_and_stops_asking_for_empty_pages(udl_server, tmp_path) -> None:
    with client_for(udl_server) as client:
        for index in range(4):
            fetch(udl_server, tmp_path, index, client=client)
    # the first window proves 8,642 is not a cap; later windows of that size ask once
    assert udl_server.stats()["counters"]["requests"] == 4 + 1


def test_client_drops_duplicates_when_pages_shift(udl_server, tmp_path) -> None:
    udl_server.configure(cap=1000, page_shift=7)
    records = fetch(udl_server, tmp_path)
    assert [r["id"] for r in records] == window_ids(udl_server, 0)


def test_client_stops_when_a_server_ignores_first_result(udl_server, tmp_path) -> None:
    udl_server.configure(cap=1000, page_shift=10**9)  # every page is the first page
    with pytest.raises(UdlError, match="ignore firstResult"):
        fetch(udl_server, tmp_path)
    assert udl_server.stats()["counters"]["requests"] == 2


def test_client_keeps_reprocessed_samples_which_have_their_own_ids(udl_server, tmp_path) -> None:
    udl_server.configure(data=SyntheticOptions(sensor_id=SENSOR, duplicate_fraction=0.1))
    records = fetch(udl_server, tmp_path)
    assert [r["id"] for r in records] == window_ids(udl_server, 0)
    assert len(records) > 8640


def test_client_survives_500s_drops_and_cut_bodies(udl_server, tmp_path) -> None:
    udl_server.configure(cap=500, fault_seed=3, error_rate=0.15, drop_rate=0.15,
                         truncate_rate=0.15)
    records = fetch(udl_server, tmp_path)
    assert [r["id"] for r in records] == window_ids(udl_server, 0)
    counters = udl_server.stats()["counters"]
    assert counters["fault_error"] and counters["fault_drop"] and counters["fault_truncate"]


def test_client_honours_retry_after_and_slows_down(udl_server, tmp_path, caplog) -> None:
    udl_server.configure(cap=1000, rate_limit=4.0, burst=2.0)
    caplog.set_level(logging.DEBUG, logger="swxsoc_reach.udl.client")
    rate = RateSettings(max_concurrent_requests=2, initial_rate=10.0, min_rate=1.0,
                        max_rate=10.0)
    with client_for(udl_server, rate=rate) as client:
        records = fetch(udl_server, tmp_path, client=client)
        assert client.throttled == udl_server.stats()["counters"]["status_429"] > 0
    assert [r["id"] for r in records] == window_ids(udl_server, 0)
    log = udl_server.stats()["log"]
    refused = next(i for i, e in enumerate(log) if e["status"] == 429)
    assert log[refused + 1]["t"] - log[refused]["t"] >= 0.9  # Retry-After: 1 held every slot
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert any("HTTP 429" in m and "chunk 2026-01-01T00:00:00Z" in m and "rate" in m
               for m in retries)


def test_client_gives_up_after_five_retries(udl_server, tmp_path) -> None:
    udl_server.configure(fail_days=((DAY, 502),))
    with pytest.raises(UdlError, match=r"after 5 retries: HTTP 502"):
        fetch(udl_server, tmp_path)
    assert udl_server.stats()["counters"]["requests"] == 6


@pytest.mark.parametrize("status", [400, 403, 404])
def test_client_fails_at_once_on_other_4xx_with_the_servers_message(udl_server, tmp_path,
                                                                   status) -> None:
    udl_server.configure(fail_days=((DAY, status),))
    with pytest.raises(UdlError, match=f"HTTP {status}.*failure for 2026-01-01"):
        fetch(udl_server, tmp_path)
    assert udl_server.stats()["counters"]["requests"] == 1


def test_client_fails_at_once_on_wrong_credentials(udl_server, tmp_path) -> None:
    with pytest.raises(UdlError, match=r"HTTP 401 .*Authentication required"):
        fetch(udl_server, tmp_path, credential="Basic d3Jvbmc=")
    assert udl_server.stats()["counters"]["requests"] == 1


def test_client_fails_on_an_answer_that_is_not_json(udl_server, tmp_path) -> None:
    udl_server.configure(garbage_days=frozenset({DAY}))
    with pytest.raises(UdlError, match="not JSON"):
        fetch(udl_server, tmp_path)


def test_client_keeps_to_the_concurrency_limit(udl_server, tmp_path) -> None:
    udl_server.configure(latency_s=0.05, cap=1000)
    rate = RateSettings(max_concurrent_requests=2, initial_rate=100.0, max_rate=100.0,
                        min_rate=1.0)
    final = tmp_path / "day.csv"
    with client_for(udl_server, rate=rate) as client:
        done = download_day(client, DAY, UdlQuery(sensor_id=SENSOR), final, "csv", workers=4)
    assert done.records == 34_560
    assert udl_server.stats()["counters"]["max_in_flight"] == 2


def test_client_bounds_one_answer_in_time(udl_server, tmp_path) -> None:
    udl_server.configure(latency_s=1.0)
    policy = RetryPolicy(max_retries=1, backoff_base_s=0.01, read_timeout_s=0.2)
    with pytest.raises(UdlError, match="connection error"):
        fetch(udl_server, tmp_path, policy=policy)


def test_resolve_base_url_prefers_flag_then_environment_then_udl() -> None:
    env = {"UDL_BASE_URL": "http://127.0.0.1:9/"}
    assert resolve_base_url("http://127.0.0.1:8", env) == "http://127.0.0.1:8"
    assert resolve_base_url(None, env) == "http://127.0.0.1:9"
    assert resolve_base_url(None, {}) == "https://unifieddatalibrary.com"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8", "http://127.9.9.9/udl", "http://localhost:8",
                                 "http://LOCALHOST", "http://[::1]:8", "https://udl.example"])
def test_resolve_base_url_accepts_https_and_plain_http_to_loopback(url) -> None:
    assert resolve_base_url(url, {}) == url


@pytest.mark.parametrize("url", ["http://unifieddatalibrary.com", "http://udl.example.invalid:80",
                                 "http://10.0.0.1", "http://127.1", "http://localhost.example",
                                 "http://[::2]"])
def test_resolve_base_url_refuses_plain_http_to_other_hosts_unless_allowed(url) -> None:
    """Issue 20.6: ``BASICAUTH`` would cross the network in clear text."""
    with pytest.raises(ConfigError, match="not a loopback host: the UDL credential would "
                                          "travel in clear text"):
        resolve_base_url(None, {"UDL_BASE_URL": url})
    assert resolve_base_url(url, {}, allow_insecure=True) == url


@pytest.mark.parametrize("url", ["ftp://host", "localhost:8000", "http://", "http://h/?q=1"])
def test_resolve_base_url_rejects_what_is_not_http(url) -> None:
    with pytest.raises(ConfigError, match="UDL base URL"):
        resolve_base_url(url, {})


def test_client_retries_answers_cut_off_inside_their_json(udl_server, tmp_path) -> None:
    """Issue 9.5: a 200 whose body stops mid-JSON is a transient fault, like a 5xx."""
    udl_server.configure(cap=1000, fault_seed=5, cut_rate=0.3)
    records = fetch(udl_server, tmp_path)
    assert [r["id"] for r in records] == window_ids(udl_server, 0)
    assert udl_server.stats()["counters"]["fault_cut"] > 0


def test_client_fails_after_five_cut_off_answers(udl_server, tmp_path) -> None:
    udl_server.configure(cut_rate=1.0)
    with pytest.raises(UdlError, match=r"after 5 retries: .*cut off inside its JSON"):
        fetch(udl_server, tmp_path)
    assert udl_server.stats()["counters"]["requests"] == 6


def test_client_connection_error_names_the_url_never_the_credential(tmp_path) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    policy = RetryPolicy(max_retries=1, backoff_base_s=0.01)
    with UdlClient(url, Credential(TEST_CREDENTIAL), FAST, policy) as client, \
            pytest.raises(UdlError) as failure:
        client.fetch_window(six_hours(0), UdlQuery(sensor_id=SENSOR),
                            lambda *args: pytest.fail("no answer expected"))
    message = str(failure.value)
    assert f"for {url}/udl/spaceenvobservation" in message and "connection error" in message
    assert TEST_CREDENTIAL not in message and TEST_CREDENTIAL.split()[1] not in message


@contextlib.contextmanager
def answering(status: int, headers: dict[str, str]) -> Iterator[tuple[str, list[dict]]]:
    """A loopback HTTP server giving every GET ``status`` with ``headers``; yields its URL
    and the headers of each request it saw."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            body = b"[]"
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_client_never_follows_a_redirect_so_the_credential_stays_with_its_host(status) -> None:
    """Issue 20.6: a 3xx to another host (here another loopback port) fails the request,
    naming where it pointed; the other host never sees a request, let alone the
    ``Authorization`` header, and nothing is retried."""
    with answering(200, {}) as (other, other_saw), \
            answering(status, {"Location": f"{other}/udl/spaceenvobservation?x=1"}) as (
                first, first_saw), \
            UdlClient(first, Credential(TEST_CREDENTIAL), FAST, QUICK_RETRY) as client, \
            pytest.raises(UdlUnavailableError) as failure:
        client.fetch_window(six_hours(0), UdlQuery(sensor_id=SENSOR),
                            lambda *args: pytest.fail("no answer expected"))
    assert f"HTTP {status}" in str(failure.value)
    assert f"redirecting to {other}: redirects are not followed" in str(failure.value)
    assert "x=1" not in str(failure.value)
    assert other_saw == []
    assert len(first_saw) == 1 and first_saw[0]["Authorization"] == TEST_CREDENTIAL
