"""A local server speaking UDL's query API over HTTP, serving ``synthetic`` REACH days.

udl.md "The query": ``GET /udl/spaceenvobservation`` (JSON array) and ``/count``
(text/plain), answered from ``udl_data`` (query semantics, days rendered once).
Tests, benchmarks and the demo point the downloader at it with ``--udl-url``.
``ServerConfig`` sets what real UDL does unannounced: a cap on records per
answer, latency, a rate limit answering 429 with ``Retry-After``, an
``Authorization`` check (401), seeded faults (500s, dropped connections, bodies
shorter than announced, 200s whose JSON is cut off mid-way), days without data
and days that always fail. Late data (``holdings.Holdings``): days whose records
are held back in part and released later, days re-served with reprocessed
samples; set at start (``--hold``, ``--reprocess``) and changed while serving
through ``/_holdings`` (``UdlServer.hold`` / ``release`` / ``reprocess``, the same
on ``UdlServerProcess``). Helpers for tests:
``/_stats`` (counters, request log), ``/_ids?day=`` (the ids of a day's
records), ``/_warm?day=`` (render a day now), ``/_holdings`` (GET: what is held
and reprocessed; POST ``?hold=DAY[:FRACTION][:SENSOR,...]``, ``?release=DAY|all``,
``?reprocess=DAY[:FRACTION]``: change it, counters untouched).

    python -m swxsoc_reach.testing.udl_server --port 0 [--warm 2026-01-01] ...

prints its base URL on stdout once it is ready, then serves until killed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import datetime as dt
import http.client
import math
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson

from swxsoc_reach.mission import ALL_SENSORS
from swxsoc_reach.synthetic import SyntheticOptions
from swxsoc_reach.testing.holdings import (
    DEFAULT_REPROCESS_FRACTION,
    Hold,
    Holdings,
    HoldingsError,
    holdings_from,
    holdings_from_json,
    parse_hold,
    parse_reprocess,
)
from swxsoc_reach.testing.hostile_pages import blow_up_page
from swxsoc_reach.testing.processes import stop_process
from swxsoc_reach.testing.udl_data import MEMORY_RECORDS, BadQueryError, DayStore, page, parse_query
from swxsoc_reach.udl.chunks import format_udl_time
from swxsoc_reach.udl.client import API_PATH

HOST = "127.0.0.1"
# A dummy UDL credential for tests: they search every output for it.
TEST_CREDENTIAL = "Basic dWRsLXRlc3Q6bm90LWEtcmVhbC1wYXNzd29yZC0xMjM0NQ=="
COUNT_PATH = API_PATH + "/count"


@dataclass(frozen=True)
class ServerConfig:
    """What the server holds and how it misbehaves (all faults off by default)."""

    data: SyntheticOptions = field(default_factory=SyntheticOptions)  # descriptor: the query's
    empty_days: frozenset[dt.date] = frozenset()  # no record at all
    fail_days: tuple[tuple[dt.date, int], ...] = ()  # (day, status): every query starting that day
    garbage_days: frozenset[dt.date] = frozenset()  # answer 200 with a body that is not JSON
    hostile_days: frozenset[dt.date] = frozenset()  # 200, hostile_pages.blow_up_page at q.lo
    cap: int = 10_000  # records per answer at most
    latency_s: float = 0.0  # before every API answer
    rate_limit: float | None = None  # requests/s; more are answered 429
    burst: float | None = None  # token bucket size (default: one second's worth)
    auth: str | None = None  # required Authorization header value
    fault_seed: int = 0
    error_rate: float = 0.0  # answer 500
    drop_rate: float = 0.0  # close the connection without an answer
    truncate_rate: float = 0.0  # announce the whole body, send half, close
    cut_rate: float = 0.0  # a 200 whose body stops inside its JSON (announced as sent)
    memory_records: int = MEMORY_RECORDS  # larger days are served from files (read at start)
    page_shift: int = 0  # later pages start this many records early (records inserted meanwhile)
    holdings: Holdings = field(default_factory=Holdings)  # late data (holdings.py)


class _State:
    """Config, data, rate bucket, fault stream and counters shared by the handler threads."""

    def __init__(self, config: ServerConfig) -> None:
        self.store = DayStore(config.memory_records)
        self._lock = threading.Lock()
        self._epoch = 0
        self.configure(config)

    def configure(self, config: ServerConfig) -> None:
        with self._lock:
            self.config = config
            self._faults = random.Random(config.fault_seed)
            rate = config.rate_limit or 0.0
            self._burst = config.burst or max(1.0, rate)
            self._tokens, self._refilled = self._burst, time.monotonic()
            self._reset_counters()

    def _reset_counters(self) -> None:
        """Zero the counters and start a new epoch: a request still running from before
        (a test's abandoned answer) counts in neither the old counters nor the new."""
        self.counters: collections.Counter[str] = collections.Counter()
        self.log: collections.deque[dict[str, Any]] = collections.deque(maxlen=100_000)
        self._in_flight = 0
        self._epoch += 1

    def reset_stats(self) -> None:
        with self._lock:
            self._reset_counters()

    def change_holdings(self, change: Callable[[Holdings], Holdings]) -> Holdings:
        """Replace what is held back and reprocessed; the counters and faults go on."""
        with self._lock:
            holdings = change(self.config.holdings)
            self.config = dataclasses.replace(self.config, holdings=holdings)
            return holdings

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"counters": dict(self.counters), "log": list(self.log),
                    "in_flight": self._in_flight}

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[int]:
        """Count one API request while it runs; yields the epoch it belongs to."""
        with self._lock:
            epoch = self._epoch
            self._in_flight += 1
            self.counters["max_in_flight"] = max(self.counters["max_in_flight"],
                                                 self._in_flight)
        try:
            yield epoch
        finally:
            with self._lock:
                if epoch == self._epoch:
                    self._in_flight -= 1

    def take_token(self) -> float | None:
        """None when the request may go on, else seconds until it could."""
        rate = self.config.rate_limit
        if not rate:
            return None
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._refilled) * rate)
            self._refilled = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            return (1.0 - self._tokens) / rate

    def draw_fault(self, epoch: int) -> str | None:
        """The next fault of the seeded stream; none for a request from an earlier epoch
        (it must not shift the stream a test configured after it)."""
        c = self.config
        with self._lock:
            if epoch != self._epoch:
                return None
            draw = self._faults.random()
        for name, rate in (("error", c.error_rate), ("drop", c.drop_rate),
                           ("truncate", c.truncate_rate), ("cut", c.cut_rate)):
            if draw < rate:
                return name
            draw -= rate
        return None

    def day_ids(self, day: dt.date, sensor_id: str, descriptor: str | None) -> list[str]:
        """Ids of the day's records a download of ``sensor_id`` must get."""
        config = self.config
        if day in config.empty_days:
            return []
        data = dataclasses.replace(config.data, descriptor=descriptor or config.data.descriptor)
        return self.store.day_ids(data, day, sensor_id, config.holdings)

    def record(self, entry: dict[str, Any]) -> None:
        """Count and log one API request, unless it began before the counters were zeroed."""
        with self._lock:
            if entry.pop("epoch") != self._epoch:
                return
            self.counters["requests"] += 1
            self.counters[f"status_{entry['status']}"] += 1
            self.counters["records"] += entry.get("records", 0)
            if entry.get("fault"):
                self.counters[f"fault_{entry['fault']}"] += 1
            self.log.append(entry)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a client's pool expects
    server: _Server

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        state = self.server.state
        if url.path in (API_PATH, COUNT_PATH):
            with state.in_flight() as epoch:
                self._api(url.path, query, state, epoch)
        elif url.path == "/_stats":
            self._send(200, orjson.dumps(state.stats()))
        elif url.path in ("/_ids", "/_warm"):
            self._helper(url.path, query, state)
        elif url.path == "/_holdings":
            self._send(200, orjson.dumps(state.config.holdings.as_json()))
        else:
            self._send(404, orjson.dumps({"message": f"no such path {url.path}"}))

    def do_POST(self) -> None:
        """``/_holdings?hold=...&release=...&reprocess=...``: change the late data."""
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_POST_BYTES:
            self.close_connection = True
            return self._send(413, orjson.dumps({"message": "no body is expected"}))
        self.rfile.read(length)  # nothing is read from a body; keep the connection usable
        if url.path != "/_holdings":
            return self._send(404, orjson.dumps({"message": f"no such path {url.path}"}))
        params = parse_qs(url.query, keep_blank_values=True)
        try:
            holdings = self.server.state.change_holdings(lambda h: h.changed(params))
        except HoldingsError as exc:
            return self._send(400, orjson.dumps({"message": str(exc)}))
        self._send(200, orjson.dumps(holdings.as_json()))

    def _api(self, path: str, query: dict[str, list[str]], state: _State, epoch: int) -> None:
        config = state.config
        entry: dict[str, Any] = {"epoch": epoch, "path": path, "t": time.monotonic(),
                                 **{k: v[-1] for k, v in query.items()}}
        if config.auth is not None and self.headers.get("Authorization") != config.auth:
            return self._answer(state, entry, 401, {"message": "Authentication required"})
        wait = state.take_token()
        if wait is not None:
            return self._answer(state, entry, 429, {"message": "Too many requests"},
                                headers={"Retry-After": str(max(1, math.ceil(wait)))})
        if config.latency_s:
            time.sleep(config.latency_s)
        fault = entry["fault"] = state.draw_fault(epoch)
        if fault == "error":
            return self._answer(state, entry, 500, {"message": "Internal Server Error"})
        if fault == "drop":
            entry["status"] = 0
            state.record(entry)
            self.close_connection = True
            return None
        truncate = fault if fault in ("truncate", "cut") else None
        try:
            q = parse_query({k: v[-1] for k, v in query.items()},
                            descriptor=config.data.descriptor, cap=config.cap)
        except BadQueryError as exc:
            return self._answer(state, entry, 400, {"message": str(exc)})
        failing = dict(config.fail_days).get(q.lo.date())
        if failing:
            return self._answer(state, entry, failing, {"message": f"failure for {q.lo.date()}"})
        if q.lo.date() in config.garbage_days:
            return self._answer(state, entry, 200,
                                b"<html><body>Service maintenance</body></html>", "text/html",
                                truncate=truncate)
        if q.lo.date() in config.hostile_days:
            return self._answer(state, entry, 200, blow_up_page(format_udl_time(q.lo)),
                                truncate=truncate)
        if path == COUNT_PATH:
            body = str(state.store.count(config.data, q, config.empty_days,
                                         config.holdings)).encode()
            return self._answer(state, entry, 200, body, "text/plain", truncate=truncate)
        found = state.store.find(config.data, q, config.empty_days, config.holdings)
        first = max(0, q.first - config.page_shift) if q.first else 0
        pieces, entry["records"] = page(found, first, q.limit)
        return self._answer(state, entry, 200, b"[" + b",".join(pieces) + b"]",
                            truncate=truncate)

    def _answer(self, state: _State, entry: dict[str, Any], status: int,
                body: bytes | dict[str, str], content_type: str = "application/json", *,
                headers: dict[str, str] | None = None, truncate: str | None = None) -> None:
        """Log an API request with its status, then send the answer (a dict as JSON)."""
        entry["status"] = status
        state.record(entry)
        if isinstance(body, dict):
            body = orjson.dumps(body)
        self._send(status, body, content_type, headers=headers, truncate=truncate)

    def _helper(self, path: str, query: dict[str, list[str]], state: _State) -> None:
        try:
            day = dt.date.fromisoformat(query["day"][-1])
        except (KeyError, ValueError):
            return self._send(400, orjson.dumps({"message": "day=YYYY-MM-DD is required"}))
        sensor = query.get("idSensor", [ALL_SENSORS])[-1]
        descriptor = query.get("descriptor", [None])[-1]
        ids = state.day_ids(day, sensor, descriptor)
        if path == "/_warm":
            return self._send(200, str(len(ids)).encode(), "text/plain")
        return self._send(200, "\n".join(ids).encode(), "text/plain")

    def _send(self, status: int, body: bytes, content_type: str = "application/json", *,
              headers: dict[str, str] | None = None, truncate: str | None = None) -> None:
        """Send an answer; ``truncate`` "truncate" sends half of it and closes, "cut"
        announces and sends only its first half."""
        if truncate == "cut":
            body = body[: len(body) // 2]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if truncate == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
        else:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log lives in ``/_stats``."""


_MAX_POST_BYTES = 1 << 16


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: _State) -> None:
        super().__init__(address, _Handler)
        self.state = state


class UdlServer:
    """The server on a thread of this process; tests read and change its state directly."""

    def __init__(self, config: ServerConfig = ServerConfig(), host: str = HOST,
                 port: int = 0) -> None:
        self._state = _State(config)
        self._httpd = _Server((host, port), self._state)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to give the downloader (``--udl-url``)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def config(self) -> ServerConfig:
        """The behaviour in force."""
        return self._state.config

    def start(self) -> UdlServer:
        """Serve on a daemon thread; return self."""
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="udl-server")
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until the process is stopped."""
        self._httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Stop serving, close the socket and remove the rendered days' files."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.server_close()
        self._state.store.close()

    def __enter__(self) -> UdlServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def configure(self, config: ServerConfig | None = None, **changes: Any) -> None:
        """Replace the behaviour (rendered days are kept) and zero the counters."""
        self._state.configure(dataclasses.replace(config or self._state.config, **changes))

    def stats(self) -> dict[str, Any]:
        """Counters (``requests``, ``status_429``, ``fault_drop``, ...) and the request log."""
        return self._state.stats()

    def reset_stats(self) -> None:
        """Zero the counters and the request log."""
        self._state.reset_stats()

    def day_ids(self, day: dt.date, sensor_id: str = ALL_SENSORS,
                descriptor: str | None = None) -> list[str]:
        """The ids of the day's records that a download of ``sensor_id`` must get."""
        return self._state.day_ids(day, sensor_id, descriptor)

    def warm(self, day: dt.date, descriptor: str | None = None) -> int:
        """Render a day now (before a benchmark's clock starts); return its record count."""
        return len(self.day_ids(day, descriptor=descriptor))

    def holdings(self) -> Holdings:
        """What is held back and reprocessed now."""
        return self._state.config.holdings

    def hold(self, day: dt.date, fraction: float = 1.0, sensors: Iterable[str] = ()) -> Holdings:
        """Hold back ``fraction`` of the day's records (of ``sensors`` only, if given)."""
        hold = Hold(day, fraction, frozenset(sensors))
        return self._state.change_holdings(lambda h: h.holding(hold))

    def release(self, day: dt.date | None = None) -> Holdings:
        """Serve the day's held records (every day's when None)."""
        return self._state.change_holdings(lambda h: h.releasing(day))

    def reprocess(self, day: dt.date, fraction: float = DEFAULT_REPROCESS_FRACTION) -> Holdings:
        """Re-serve ``fraction`` of the day's samples as reprocessed copies (0: none)."""
        return self._state.change_holdings(lambda h: h.reprocessing(day, fraction))


@dataclass
class UdlServerProcess:
    """The server as a subprocess (``python -m swxsoc_reach.testing.udl_server``)."""

    url: str
    process: subprocess.Popen[str]

    def stats(self) -> dict[str, Any]:
        """The server's ``/_stats``."""
        return orjson.loads(self._get("/_stats"))

    def day_ids(self, day: dt.date, sensor_id: str = ALL_SENSORS,
                descriptor: str | None = None) -> list[str]:
        """The server's ``/_ids`` for one day."""
        params = {"day": day.isoformat(), "idSensor": sensor_id}
        if descriptor:
            params["descriptor"] = descriptor
        text = self._get("/_ids?" + urlencode(params)).decode()
        return text.split("\n") if text else []

    def holdings(self) -> Holdings:
        """The server's ``/_holdings``."""
        return holdings_from_json(orjson.loads(self._get("/_holdings")))

    def hold(self, day: dt.date, fraction: float = 1.0, sensors: Iterable[str] = ()) -> Holdings:
        """``POST /_holdings?hold=``: as ``UdlServer.hold``."""
        return self._change("hold", Hold(day, fraction, frozenset(sensors)).text)

    def release(self, day: dt.date | None = None) -> Holdings:
        """``POST /_holdings?release=``: as ``UdlServer.release``."""
        return self._change("release", "all" if day is None else day.isoformat())

    def reprocess(self, day: dt.date, fraction: float = DEFAULT_REPROCESS_FRACTION) -> Holdings:
        """``POST /_holdings?reprocess=``: as ``UdlServer.reprocess``."""
        return self._change("reprocess", f"{day}:{fraction!r}")

    def _change(self, name: str, value: str) -> Holdings:
        body = self._get("/_holdings?" + urlencode({name: value}), method="POST")
        return holdings_from_json(orjson.loads(body))

    def _get(self, path: str, method: str = "GET") -> bytes:
        """A request on loopback with http.client (no proxy from the environment intervenes)."""
        address = urlsplit(self.url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=600)
        try:
            connection.request(method, path)
            answer = connection.getresponse()
            body = answer.read()
        finally:
            connection.close()
        if answer.status != 200:
            raise RuntimeError(f"UDL server {path}: HTTP {answer.status} {body[:200]!r}")
        return body

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        stop_process(self.process)
        if self.process.stdout:
            self.process.stdout.close()  # closing twice is harmless


def start_udl_server_process(*args: str, timeout_s: float = 600.0) -> UdlServerProcess:
    """Start the server with command-line ``args``; return once it printed its URL.

    ``timeout_s`` covers ``--warm`` days being rendered first (~70 s a full day).
    """
    import selectors

    process = subprocess.Popen(
        [sys.executable, "-m", "swxsoc_reach.testing.udl_server", "--port", "0", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout_s)
    line = process.stdout.readline().strip() if ready else ""
    if not line.startswith("http://"):
        UdlServerProcess("", process).stop()
        raise RuntimeError(f"the UDL server did not start within {timeout_s} s "
                           f"(exit code {process.returncode})")
    return UdlServerProcess(line, process)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM-DD") from None


def _hold(text: str) -> Hold:
    try:
        return parse_hold(text)
    except HoldingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _reprocess(text: str) -> tuple[dt.date, float]:
    try:
        return parse_reprocess(text)
    except HoldingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fail_day(text: str) -> tuple[dt.date, int]:
    day, _, status = text.partition(":")
    try:
        return _day(day), int(status or 500)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM-DD[:STATUS]") from None


def build_parser() -> argparse.ArgumentParser:
    """The server's command line: one flag per ``ServerConfig`` / ``SyntheticOptions`` field."""
    parser = argparse.ArgumentParser(prog="python -m swxsoc_reach.testing.udl_server",
                                     description="A local UDL stand-in serving synthetic "
                                     "REACH data; prints its URL, then serves until killed.")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    data = parser.add_argument_group("synthetic data")
    data.add_argument("--seed", type=int, default=0)
    data.add_argument("--sensor-id", default=ALL_SENSORS,
                      help="serve only this sensor's records (default ALL)")
    data.add_argument("--fractional-seconds", action="store_true")
    data.add_argument("--duplicate-fraction", type=float, default=0.0)
    data.add_argument("--missing-id-fraction", type=float, default=0.0)
    data.add_argument("--gap-fraction", type=float, default=0.0)
    data.add_argument("--extra-keys", action="store_true")
    data.add_argument("--empty-day", type=_day, action="append", default=[],
                      help="a day without any record (repeatable)")
    data.add_argument("--fail-day", type=_fail_day, action="append", default=[],
                      help="DAY[:STATUS]: every query starting that day gets STATUS (500)")
    data.add_argument("--garbage-day", type=_day, action="append", default=[],
                      help="queries starting that day get 200 with a body that is not JSON")
    data.add_argument("--hold", type=_hold, action="append", default=[],
                      metavar="DAY[:FRACTION][:SENSOR,...]",
                      help="hold back that share (default all) of the day's records, of the "
                      "sensors named (default every sensor), until POST /_holdings?release=DAY "
                      "(repeatable)")
    data.add_argument("--reprocess", type=_reprocess, action="append", default=[],
                      metavar="DAY[:FRACTION]",
                      help="re-serve that share (default 0.1) of the day's samples as "
                      "reprocessed copies: later createdAt, new id (repeatable)")
    data.add_argument("--warm", type=_day, action="append", default=[],
                      help="render this day before printing the URL (repeatable)")
    behaviour = parser.add_argument_group("behaviour")
    behaviour.add_argument("--cap", type=int, default=ServerConfig.cap,
                           help="records per answer at most")
    behaviour.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    behaviour.add_argument("--rate-limit", type=float, help="requests/s; more get 429")
    behaviour.add_argument("--burst", type=float, help="token bucket size (default 1 s worth)")
    behaviour.add_argument("--auth", help="required Authorization header value")
    behaviour.add_argument("--fault-seed", type=int, default=0)
    behaviour.add_argument("--error-rate", type=float, default=0.0, help="share answered 500")
    behaviour.add_argument("--drop-rate", type=float, default=0.0,
                           help="share of connections closed without an answer")
    behaviour.add_argument("--truncate-rate", type=float, default=0.0,
                           help="share of bodies cut in half")
    behaviour.add_argument("--cut-rate", type=float, default=0.0,
                           help="share of 200 answers whose JSON stops half-way")
    behaviour.add_argument("--memory-records", type=int, default=MEMORY_RECORDS,
                           help="days of more records are rendered into temporary files "
                           "and read back per answer (bounded memory)")
    behaviour.add_argument("--page-shift", type=int, default=0,
                           help="later pages start this many records early")
    return parser


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """The ``ServerConfig`` a parsed command line asks for."""
    return ServerConfig(
        data=SyntheticOptions(
            seed=args.seed, sensor_id=args.sensor_id,
            fractional_seconds=args.fractional_seconds,
            duplicate_fraction=args.duplicate_fraction,
            missing_id_fraction=args.missing_id_fraction,
            gap_fraction=args.gap_fraction, extra_keys=args.extra_keys),
        empty_days=frozenset(args.empty_day), fail_days=tuple(args.fail_day),
        garbage_days=frozenset(args.garbage_day), cap=args.cap, latency_s=args.latency,
        rate_limit=args.rate_limit, burst=args.burst, auth=args.auth,
        fault_seed=args.fault_seed, error_rate=args.error_rate, drop_rate=args.drop_rate,
        truncate_rate=args.truncate_rate, cut_rate=args.cut_rate,
        memory_records=args.memory_records, page_shift=args.page_shift,
        holdings=holdings_from(args.hold, args.reprocess),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Start, render the ``--warm`` days, print the URL, serve until killed.

    SIGTERM (``stop_process``) ends it like Ctrl-C, so the rendered days' files go too.
    """
    args = build_parser().parse_args(argv)
    server = UdlServer(config_from_args(args), args.host, args.port)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for day in args.warm:
            server.warm(day)
        print(server.url, flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
