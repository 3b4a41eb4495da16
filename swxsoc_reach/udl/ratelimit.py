"""Adaptive request rate for UDL: additive increase, multiplicative decrease (AIMD).

historical-download.md "Adaptive rate control": the rate starts at
``--initial-rate``, gains ``--additive-increase`` requests/s after each success
and is multiplied by ``--multiplicative-decrease`` on a 429, a 5xx or a
connection error, always kept within ``[--min-rate, --max-rate]``. Requests are
paced one slot at a time, so concurrent workers share one budget; a server's
``Retry-After`` defers every slot, not just the request that was refused.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from swxsoc_reach.errors import ConfigError


@dataclass(frozen=True)
class RateSettings:
    """The six rate-control flags, with the spec's defaults."""

    max_concurrent_requests: int = 4
    initial_rate: float = 5.0
    additive_increase: float = 1.0
    multiplicative_decrease: float = 0.5
    min_rate: float = 5.0
    max_rate: float = 25.0

    def check(self) -> RateSettings:
        """Reject values that cannot work together; return self for chaining."""
        if self.max_concurrent_requests < 1:
            raise ConfigError("--max-concurrent-requests must be at least 1")
        if not 0 < self.min_rate <= self.max_rate:
            raise ConfigError(f"--min-rate {self.min_rate:g} must be above 0 and not above "
                              f"--max-rate {self.max_rate:g}")
        if not self.min_rate <= self.initial_rate <= self.max_rate:
            raise ConfigError(f"--initial-rate {self.initial_rate:g} must lie between --min-rate "
                              f"{self.min_rate:g} and --max-rate {self.max_rate:g}")
        if not 0 < self.multiplicative_decrease < 1:
            raise ConfigError(f"--multiplicative-decrease {self.multiplicative_decrease:g} "
                              "must lie between 0 and 1 (exclusive)")
        if self.additive_increase < 0:
            raise ConfigError("--additive-increase must not be negative")
        return self


class AimdRateLimiter:
    """Hands out request slots at the current rate and adapts the rate to the answers.

    Thread-safe. ``acquire`` blocks until the caller's slot; ``record_success`` and
    ``record_throttle`` move the rate and return it when it changed (for logging).
    """

    def __init__(self, settings: RateSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings.check()
        self._clock = clock
        self._lock = threading.Lock()
        self._rate = settings.initial_rate
        self._next_slot = clock()

    @property
    def rate(self) -> float:
        """The current rate in requests/s."""
        return self._rate

    def reserve(self) -> float:
        """Take the next free slot; return how many seconds until it starts."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self._rate
            return slot - now

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Wait for a slot; False when ``stop`` was set while waiting."""
        wait = self.reserve()
        if stop is None:
            time.sleep(wait)
            return True
        return not stop.wait(wait)

    def record_success(self) -> float | None:
        """Additive increase; the new rate, or None when it did not change."""
        with self._lock:
            return self._set(self._rate + self._settings.additive_increase)

    def record_throttle(self) -> float | None:
        """Multiplicative decrease (429, 5xx, connection error); the new rate or None."""
        with self._lock:
            return self._set(self._rate * self._settings.multiplicative_decrease)

    def defer(self, seconds: float) -> None:
        """Start no slot within ``seconds`` from now (the server's ``Retry-After``)."""
        with self._lock:
            self._next_slot = max(self._next_slot, self._clock() + seconds)

    def _set(self, rate: float) -> float | None:
        s = self._settings
        rate = min(s.max_rate, max(s.min_rate, rate))
        if rate == self._rate:
            return None
        self._rate = rate
        return rate
