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

This module runs the server: ``UdlServer`` on a thread of this process,
``UdlServerProcess`` as a subprocess. Its parts: ``udl_state`` (``ServerConfig``
and the state shared by the handler threads), ``udl_http`` (the answers),
``udl_data`` (the records a query matches), ``udl_cli`` (the command line):

    python -m swxsoc_reach.testing.udl_server --port 0 [--warm 2026-01-01] ...

prints its base URL on stdout once it is ready, then serves until killed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

from swxsoc_reach.mission import ALL_SENSORS
from swxsoc_reach.testing.holdings import (
    DEFAULT_REPROCESS_FRACTION,
    Hold,
    Holdings,
    holdings_from_json,
)
from swxsoc_reach.testing.processes import stop_process
from swxsoc_reach.testing.udl_http import UdlHttpServer
from swxsoc_reach.testing.udl_state import ServerConfig, ServerState

__all__ = ["HOST", "TEST_CREDENTIAL", "ServerConfig", "UdlServer", "UdlServerProcess",
           "start_udl_server_process"]

HOST = "127.0.0.1"
# A dummy UDL credential for tests: they search every output for it.
TEST_CREDENTIAL = "Basic dWRsLXRlc3Q6bm90LWEtcmVhbC1wYXNzd29yZC0xMjM0NQ=="


class UdlServer:
    """The server on a thread of this process; tests read and change its state directly."""

    def __init__(self, config: ServerConfig = ServerConfig(),  # noqa: B008 (frozen dataclass)
                 host: str = HOST, port: int = 0) -> None:
        self._state = ServerState(config)
        self._httpd = UdlHttpServer((host, port), self._state)
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


if __name__ == "__main__":
    from swxsoc_reach.testing.udl_cli import main

    sys.exit(main())
