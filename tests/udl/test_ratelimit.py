"""AIMD rate control (historical-download.md "Adaptive rate control"): additive increase
per success, multiplicative decrease per 429 / 5xx / connection error, within bounds;
one slot budget shared by every worker; Retry-After defers every slot."""

from __future__ import annotations

import threading
import time

import pytest

from swxsoc_reach.errors import ConfigError
from swxsoc_reach.udl.ratelimit import AimdRateLimiter, RateSettings


def test_rate_settings_defaults_are_the_specs() -> None:
    s = RateSettings()
    assert (s.max_concurrent_requests, s.initial_rate, s.additive_increase,
            s.multiplicative_decrease, s.min_rate, s.max_rate) == (4, 5.0, 1.0, 0.5, 5.0, 25.0)


@pytest.mark.parametrize(("changes", "flag"), [
    ({"min_rate": 30.0}, "--min-rate"),
    ({"initial_rate": 2.0}, "--initial-rate"),
    ({"initial_rate": 40.0}, "--initial-rate"),
    ({"multiplicative_decrease": 1.0}, "--multiplicative-decrease"),
    ({"max_concurrent_requests": 0}, "--max-concurrent-requests"),
])
def test_rate_settings_check_names_the_bad_flag(changes, flag) -> None:
    with pytest.raises(ConfigError, match=flag):
        RateSettings(**changes).check()


def test_aimd_rate_rises_additively_and_falls_multiplicatively_within_bounds() -> None:
    limiter = AimdRateLimiter(RateSettings(initial_rate=5.0, min_rate=2.0, max_rate=8.0,
                                           additive_increase=1.5, multiplicative_decrease=0.5))
    assert limiter.record_success() == 6.5
    assert limiter.record_success() == 8.0  # capped at max
    assert limiter.record_success() is None  # no change, nothing to log
    assert limiter.record_throttle() == 4.0
    assert limiter.record_throttle() == 2.0
    assert limiter.record_throttle() is None  # floored at min
    assert limiter.rate == 2.0


def test_aimd_slots_are_paced_at_the_rate_across_threads() -> None:
    limiter = AimdRateLimiter(RateSettings(initial_rate=20.0, min_rate=1.0, max_rate=20.0))
    began = time.monotonic()
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(4)])
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - began >= 11 / 20 - 0.02  # 12 slots: the first is immediate


def test_aimd_defer_holds_every_slot_back() -> None:
    limiter = AimdRateLimiter(RateSettings(initial_rate=100.0, max_rate=100.0))
    limiter.defer(0.3)
    assert limiter.reserve() >= 0.29
    assert limiter.reserve() >= 0.29  # the next caller too, not only the refused request


def test_aimd_acquire_returns_false_when_stopped_while_waiting() -> None:
    limiter = AimdRateLimiter(RateSettings(initial_rate=5.0))
    limiter.defer(30.0)
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    began = time.monotonic()
    assert limiter.acquire(stop) is False
    assert time.monotonic() - began < 5
