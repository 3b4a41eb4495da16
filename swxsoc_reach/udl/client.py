"""HTTP access to UDL's ``spaceenvobservation`` API: one pooled session, bounded
retries that feed the adaptive rate, and windows fetched completely.

udl.md "The query" and historical-download.md "Adaptive rate control": a 429
(honouring ``Retry-After``), a 5xx, a dropped connection, a body shorter than
announced or a 200 whose JSON stops mid-way (issue 9.5) is retried up to
``max_retries`` times with exponential back-off and jitter, each one slowing the
rate; any other 4xx fails at once with the server's message, and a 3xx is never
followed (the credential goes to the configured host only). Connection errors
name the URL tried (never the credential, which travels in a header only).
The server's cap on records per answer is not published, so a page that may
have been cut is always followed by the next one (``firstResult``) until an
answer proves the window complete. What a page holds is decided by the caller's
``PageTaker`` (``pages.process_page``: cut to the window, repeats dropped by id).
``count_range`` asks ``/count`` (udl.md) through the same session, rate and retries.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import orjson
import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

from swxsoc_reach import __version__
from swxsoc_reach.errors import ConfigError, UdlError, UdlUnavailableError
from swxsoc_reach.mission import ALL_SENSORS
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.credentials import Credential
from swxsoc_reach.udl.pages import PageOutcome, TruncatedAnswerError
from swxsoc_reach.udl.ratelimit import AimdRateLimiter, RateSettings

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://unifieddatalibrary.com"
ENV_BASE_URL = "UDL_BASE_URL"
API_PATH = "/udl/spaceenvobservation"
COUNT_PATH = API_PATH + "/count"
_COUNT_MAX_BYTES = 32  # a count is at most 20 digits and some white space
PAGE_SIZE = 10_000  # maxResults asked for; the server may cap answers lower
_READ_BLOCK = 1 << 20
_T = TypeVar("_T")


class PageTaker(Protocol):
    """What ``fetch_window`` hands each answer to (``download_day`` binds ``DaySpool.add_page``)."""

    def __call__(self, body: bytes, page: int, seen: frozenset[Any],
                 ids_from: int) -> PageOutcome:
        """Keep the window's records of one answer; report its size and the kept ids."""


class DownloadStopped(UdlError):
    """The window was abandoned because its day is already failing."""


class _AttemptTimeout(Exception):
    """One answer took longer than ``RetryPolicy.attempt_timeout_s``."""


class _TooLongError(Exception):
    """An answer grew past what its endpoint can hold (``_Endpoint.max_bytes``)."""

    def __init__(self, head: bytes) -> None:
        super().__init__("answer too long")
        self.head = head  # what was read of it, for the message


@dataclass(frozen=True)
class _Endpoint:
    """One API path: where it is, what it is told for messages, what it is asked to send."""

    path: str
    url: str  # for messages: never with user-info
    headers: Mapping[str, str]
    max_bytes: int | None = None  # longer answers are refused unread


@dataclass(frozen=True)
class RetryPolicy:
    """How long one request may take, and how failed ones are retried."""

    max_retries: int = 5
    backoff_base_s: float = 0.5  # first retry waits 0.25-0.5 s, then doubling
    backoff_cap_s: float = 30.0
    retry_after_cap_s: float = 120.0  # a larger Retry-After is taken as this
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0  # silence on the socket
    attempt_timeout_s: float = 300.0  # one whole answer, first byte to last

    def backoff(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (0-based): half fixed, half random."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2**retry)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class UdlQuery:
    """What one download asks UDL for (besides the time window)."""

    sensor_id: str = ALL_SENSORS
    descriptor: str = "QUICKLOOK"
    source: str = "Aerospace"
    data_mode: str = "REAL"

    def params(self, window: Window, first: int, max_results: int) -> dict[str, str]:
        """The query string of one page of ``window``."""
        return {**self.filters(window), "sort": "obTime", "firstResult": str(first),
                "maxResults": str(max_results)}

    def filters(self, window: Window) -> dict[str, str]:
        """What selects the records of ``window`` (a page's and a count's parameters)."""
        params = {
            "obTime": window.query_range,
            "source": self.source,
            "dataMode": self.data_mode,
            "descriptor": self.descriptor,
        }
        if self.sensor_id != ALL_SENSORS:
            params["idSensor"] = self.sensor_id
        return params


def resolve_base_url(flag: str | None, environ: Mapping[str, str] | None = None, *,
                     allow_insecure: bool = False) -> str:
    """``--udl-url``, else ``UDL_BASE_URL``, else the public UDL; checked to be http(s).

    Plain ``http://`` would carry the credential in clear text, so it is refused for
    any host but a loopback one (the local UDL server of the tests and the sandbox)
    unless ``allow_insecure`` (``--allow-insecure-udl-url``) says otherwise.
    """
    env = os.environ if environ is None else environ
    url = (flag or env.get(ENV_BASE_URL) or DEFAULT_BASE_URL).strip().rstrip("/")
    parsed = urllib3.util.parse_url(url)
    if parsed.scheme not in ("http", "https") or not parsed.host or parsed.query:
        raise ConfigError(f"UDL base URL {url!r} is not of the form http(s)://host[:port][/path]")
    if parsed.scheme == "http" and not allow_insecure and not _is_loopback(parsed.host):
        raise ConfigError(
            f"UDL base URL {url!r} is plain http to {parsed.host}, which is not a loopback "
            "host: the UDL credential would travel in clear text; use https:// (or "
            "--allow-insecure-udl-url if this network is trusted)")
    return url


def _is_loopback(host: str) -> bool:
    """Whether ``host`` (as urllib3 parses it) is this machine: ``localhost``, 127.0.0.0/8
    or ::1. Other spellings that resolve there (``127.1``) are not recognised: refused."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _PageCap:
    """What is known of the server's unpublished cap on records per answer.

    An answer may have been cut when it is as long as the cap proven so far or,
    before any cap is proven, longer than every answer proven complete. Learning
    both makes a steady run ask one extra page only while sizes still grow.
    """

    def __init__(self, requested: int) -> None:
        self._requested = requested
        self._lock = threading.Lock()
        self._cap: int | None = None
        self._complete = 0

    def proven(self) -> int | None:
        """The cap shown by an answer that more records followed, if any."""
        with self._lock:
            return self._cap

    def threshold(self) -> int:
        """The smallest answer that may have been cut."""
        with self._lock:
            bound = self._cap if self._cap is not None else self._complete + 1
            return max(1, min(self._requested, bound))

    def learn(self, size: int, more_followed: bool) -> None:
        """Record what the page after an answer of ``size`` records showed."""
        with self._lock:
            if more_followed:
                self._cap = size if self._cap is None else min(self._cap, size)
            else:
                self._complete = max(self._complete, size)


class UdlClient:
    """A pooled, rate-controlled session against one UDL base URL (thread-safe)."""

    def __init__(self, base_url: str, credential: Credential, rate: RateSettings,
                 policy: RetryPolicy = RetryPolicy(), page_size: int = PAGE_SIZE) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.rate = AimdRateLimiter(rate)
        self._policy = policy
        self._page_size = page_size
        self._cap = _PageCap(page_size)
        self._slots = threading.BoundedSemaphore(rate.max_concurrent_requests)
        parsed = urllib3.util.parse_url(base_url)
        prefix = (parsed.path or "").rstrip("/")
        # for messages: no user-info, even if someone put a password in the URL
        site = f"{parsed.scheme}://{(parsed.netloc or '').rpartition('@')[2]}"
        self._pool = urllib3.connection_from_url(
            base_url, maxsize=rate.max_concurrent_requests, block=True)
        headers = {
            "Authorization": credential.header_value,
            "Accept": "application/json",
            "User-Agent": f"swxsoc_reach/{__version__}",
        }
        self._query = _Endpoint(prefix + API_PATH, site + prefix + API_PATH, headers)
        self._count = _Endpoint(prefix + COUNT_PATH, site + prefix + COUNT_PATH,
                                {**headers, "Accept": "text/plain"}, _COUNT_MAX_BYTES)
        self._timeout = urllib3.Timeout(connect=policy.connect_timeout_s,
                                        read=policy.read_timeout_s)
        self._count_lock = threading.Lock()
        self.throttled = 0  # answers 429 (the progress bar shows them)

    def page_size(self) -> int:
        """Records one answer holds at most, as far as known: ``maxResults`` or the
        server's smaller cap once proven (windows are sized from it)."""
        cap = self._cap.proven()
        return self._page_size if cap is None else min(cap, self._page_size)

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.close()

    def __enter__(self) -> UdlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch_window(self, window: Window, query: UdlQuery, take: PageTaker,
                     stop: threading.Event | None = None) -> int:
        """Hand every answer page of ``window`` to ``take``; return the records it kept.

        Pages on (``firstResult``) while an answer may have been cut by the
        server's cap, passing ``take`` the ids earlier pages gave. Raises
        ``UdlError`` (``DownloadStopped`` once ``stop`` is set).
        """
        stop = stop or threading.Event()
        seen: frozenset[Any] = frozenset()
        kept = offset = previous = page = 0
        while True:
            threshold = self._cap.threshold()

            def accept(body: bytes, page: int = page, seen: frozenset[Any] = seen,
                       threshold: int = threshold) -> PageOutcome:
                return take(body, page, seen, threshold)

            outcome = self._get(self._query, query.params(window, offset, self._page_size),
                                f"chunk {window.label}", stop, accept)
            if page:
                self._cap.learn(previous, more_followed=outcome.answered > 0)
                threshold = self._cap.threshold()  # the page before may have proven a cap
            kept += outcome.kept
            if outcome.answered < threshold:
                return kept
            if page and not outcome.kept and outcome.repeated:  # only repeats: no progress
                raise UdlError(f"chunk {window.label}: the page at firstResult={offset} "
                               "repeats earlier records only; UDL seems to ignore firstResult")
            seen |= outcome.ids or frozenset()
            logger.debug("chunk %s: answer of %d records at offset %d may be cut; asking for "
                         "more", window.label, outcome.answered, offset)
            previous = outcome.answered
            offset += outcome.answered
            page += 1

    def count_range(self, window: Window, query: UdlQuery,
                    stop: threading.Event | None = None) -> int:
        """UDL's count of the records ``query`` matches in ``window.query_range`` (both
        ends inclusive, as UDL reads ``A..B``): one ``/count`` request, retried like a page.

        Raises ``UdlError`` when the answer is not a whole number of records (not
        retried: the server said something, just not a count), ``DownloadStopped``
        once ``stop`` is set.
        """
        subject = f"count {window.query_range}"

        def accept(body: bytes) -> int:
            return parse_count(body, subject)

        return self._get(self._count, query.filters(window), subject,
                         stop or threading.Event(), accept)

    def _get(self, endpoint: _Endpoint, params: dict[str, str], subject: str,
             stop: threading.Event, accept: Callable[[bytes], _T]) -> _T:
        """What ``accept`` makes of one 200 answer, retried on 429, 5xx, connection
        trouble and answers cut off inside their JSON; ``UdlError``."""
        policy = self._policy
        for retry in range(policy.max_retries + 1):
            if not self.rate.acquire(stop):
                raise DownloadStopped(f"{subject}: stopped")
            retry_after = None
            try:
                with self._slots:
                    status, headers, body = self._send(endpoint, params)
            except _TooLongError as exc:
                raise UdlError(f"{subject}: UDL's answer is not a count of records (longer than "
                               f"{endpoint.max_bytes} bytes): {_message(exc.head)}") from None
            except (Urllib3Error, OSError, _AttemptTimeout) as exc:
                problem = f"connection error ({type(exc).__name__}) for {endpoint.url}"
                unreachable = True
            else:
                unreachable = False
                if status == 200:
                    try:
                        accepted = accept(body)
                    except TruncatedAnswerError as exc:
                        problem = str(exc)
                    else:
                        rate = self.rate.record_success()
                        if rate is not None:
                            logger.debug("%s: HTTP 200; rate up to %.2f req/s", subject,
                                         rate)
                        return accepted
                elif 300 <= status < 400:
                    # never followed (``redirect=False``): the credential goes to the
                    # configured host only, and a moved UDL is every day's problem
                    raise UdlUnavailableError(
                        f"UDL answered HTTP {status} for {subject}, redirecting to "
                        f"{_location(headers.get('Location'), endpoint.url)}: redirects are not "
                        "followed (the credential is sent to the --udl-url host only); point "
                        "--udl-url at the new address if it is UDL's")
                elif status != 429 and status < 500:
                    # 401/403: the credential is refused, for this day and every other
                    refused = UdlUnavailableError if status in (401, 403) else UdlError
                    raise refused(f"UDL answered HTTP {status} for {subject}: "
                                   f"{_message(body)}")
                else:
                    problem = f"HTTP {status}"
                if status == 429:
                    with self._count_lock:
                        self.throttled += 1
                    retry_after = _retry_after(headers.get("Retry-After"), policy)
            rate = self.rate.record_throttle()
            if retry == policy.max_retries:
                break
            delay = policy.backoff(retry)
            if retry_after is not None:
                self.rate.defer(retry_after)
                delay = max(delay, retry_after)
            logger.debug("%s: %s; retry %d/%d in %.2f s; rate %.2f req/s%s", subject,
                         problem, retry + 1, policy.max_retries, delay, self.rate.rate,
                         "" if rate is None else " (lowered)")
            if stop.wait(delay):
                raise DownloadStopped(f"{subject}: stopped")
        still = UdlUnavailableError if unreachable else UdlError
        raise still(f"{subject}: UDL still failing after {policy.max_retries} "
                       f"retries: {problem}")

    def _send(self, endpoint: _Endpoint, params: dict[str, str]) -> tuple[int, Any, bytes]:
        """One request; the whole body read within ``attempt_timeout_s`` (and, for an
        endpoint with ``max_bytes``, no more than that read)."""
        deadline = time.monotonic() + self._policy.attempt_timeout_s
        response = self._pool.request(
            "GET", endpoint.path, fields=params, headers=endpoint.headers,
            timeout=self._timeout, retries=False, redirect=False, preload_content=False)
        complete = False
        limit = endpoint.max_bytes
        try:
            blocks, size = [], 0
            for block in response.stream(_READ_BLOCK if limit is None else limit + 1):
                blocks.append(block)
                size += len(block)
                if time.monotonic() > deadline:
                    raise _AttemptTimeout
                if limit is not None and size > limit and response.status == 200:
                    raise _TooLongError(b"".join(blocks)[:limit])
            complete = True
            return response.status, response.headers, b"".join(blocks)
        finally:
            if not complete:
                response.close()  # the connection is in an unknown state: never reuse it
            response.release_conn()


def parse_count(body: bytes, subject: str) -> int:
    """The whole number of records a ``/count`` answer holds; ``UdlError`` otherwise."""
    text = body.decode("ascii", errors="replace").strip()
    if text.isascii() and text.isdigit():
        return int(text)
    if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        raise UdlError(f"{subject}: UDL answered a negative count ({text})")
    raise UdlError(f"{subject}: UDL's answer is not a count of records: {_message(body)}")


def _message(body: bytes) -> str:
    """The server's error message on one short line."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    else:
        if isinstance(data, dict):
            text = str(data.get("message") or data.get("error") or text)
    text = " ".join(text.split())
    return (text[:300] + "...") if len(text) > 300 else text or "(empty answer)"


def _location(value: str | None, base: str) -> str:
    """Where a redirect points, as scheme://host[:port] only (a path or query may hold
    anything); relative locations are on ``base``'s host."""
    if not value:
        return "no Location"
    try:
        parsed = urllib3.util.parse_url(value.strip())
    except urllib3.exceptions.LocationParseError:
        return "an unparseable Location"
    if not parsed.host:
        parsed = urllib3.util.parse_url(base)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme or 'http'}://{parsed.host}{port}"[:200]


def _retry_after(value: str | None, policy: RetryPolicy) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(policy.retry_after_cap_s, max(0.0, seconds))
