"""What the local UDL server holds and how it misbehaves: the state its handler threads share.

``ServerConfig`` is the behaviour asked for (the data served, the faults, the
late data); ``ServerState`` is that config in force with what it needs while
serving: the rendered days (``udl_data.DayStore``), the rate limit's token
bucket, the seeded fault stream and the counters and request log ``/_stats``
reports. ``udl_http`` answers requests from it; ``udl_server`` runs it.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from swxsoc_reach.synthetic import SyntheticOptions
from swxsoc_reach.testing.holdings import Holdings
from swxsoc_reach.testing.udl_data import MEMORY_RECORDS, DayStore


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


class ServerState:
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
