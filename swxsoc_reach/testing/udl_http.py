"""The local UDL server's HTTP side: each request answered from its ``ServerState``.

udl.md "The query": ``GET /udl/spaceenvobservation`` (a JSON array of records)
and ``/count`` (text/plain), with the config's misbehaviour applied in order:
the ``Authorization`` check (401), the rate limit (429 with ``Retry-After``),
latency, a seeded fault (500, a dropped connection, a body cut short), failing,
garbage and hostile days, then the answer from ``udl_data``. The test helpers
``/_stats``, ``/_ids``, ``/_warm`` and ``/_holdings`` (GET, and POST to change
the late data) are answered here too.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from swxsoc_reach.mission import ALL_SENSORS
from swxsoc_reach.testing.holdings import HoldingsError
from swxsoc_reach.testing.hostile_pages import blow_up_page
from swxsoc_reach.testing.udl_data import BadQueryError, page, parse_query
from swxsoc_reach.testing.udl_state import ServerState
from swxsoc_reach.udl.chunks import format_udl_time
from swxsoc_reach.udl.client import API_PATH

COUNT_PATH = API_PATH + "/count"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a client's pool expects
    server: UdlHttpServer

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

    def _api(self, path: str, query: dict[str, list[str]], state: ServerState, epoch: int) -> None:
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

    def _answer(self, state: ServerState, entry: dict[str, Any], status: int,
                body: bytes | dict[str, str], content_type: str = "application/json", *,
                headers: dict[str, str] | None = None, truncate: str | None = None) -> None:
        """Log an API request with its status, then send the answer (a dict as JSON)."""
        entry["status"] = status
        state.record(entry)
        if isinstance(body, dict):
            body = orjson.dumps(body)
        self._send(status, body, content_type, headers=headers, truncate=truncate)

    def _helper(self, path: str, query: dict[str, list[str]], state: ServerState) -> None:
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


class UdlHttpServer(ThreadingHTTPServer):
    """A thread per connection, each request answered by ``_Handler`` from ``state``."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: ServerState) -> None:
        super().__init__(address, _Handler)
        self.state = state
