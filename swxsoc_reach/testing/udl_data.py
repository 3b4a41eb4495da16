"""What a UDL query matches, over ``synthetic`` days: the data side of the local UDL server.

udl.md "The query": ``obTime=A..B`` inclusive at both ends, ``idSensor``
(records without one never match it), ``descriptor``, ``source``, ``dataMode``,
``sort=obTime`` and ``firstResult`` / ``maxResults`` under the server's cap.

A day is rendered once (``synthetic.iter_records``, ~70 s for all sensors) into
one serialized blob indexed by ``obTime``, so any window is two binary searches
and a slice. A short window of a large day not rendered yet is generated on its
own instead (the neighbouring day a boundary query touches, tests of one hour).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from swxsoc_reach.days import day_window
from swxsoc_reach.mission import ALL_SENSORS, SAMPLES_PER_DAY
from swxsoc_reach.synthetic import SyntheticOptions, day_sensors, iter_records
from swxsoc_reach.udl.chunks import format_udl_time

PARAMS = frozenset({"obTime", "idSensor", "source", "dataMode", "descriptor", "sort",
                    "firstResult", "maxResults"})
_SOURCE, _DATA_MODE = "Aerospace", "REAL"  # what every synthetic record carries
_WHOLE_DAY_AT = dt.timedelta(hours=1)  # a query this long renders (and keeps) its whole day
_SMALL_DAY = 200_000  # records: days this small are always rendered whole
_KEPT_BYTES = 2 * 1024**3  # rendered days kept while they fit (a full ALL day is ~0.9 GB)
_ONE_MS = dt.timedelta(milliseconds=1)


class BadQueryError(ValueError):
    """The query cannot be answered (HTTP 400)."""


@dataclass(frozen=True)
class Query:
    """A parsed ``spaceenvobservation`` query."""

    lo: dt.datetime
    hi: dt.datetime
    sensor: str | None
    descriptor: str
    matches_source: bool  # source and dataMode are those of the synthetic records
    first: int
    limit: int  # maxResults, capped


def parse_query(params: Mapping[str, str], *, descriptor: str, cap: int) -> Query:
    """Check and parse the query parameters (the last value of each); ``BadQueryError``."""
    unknown = sorted(set(params) - PARAMS)
    if unknown:
        raise BadQueryError(f"unknown query parameter(s): {', '.join(unknown)}")
    if ".." not in params.get("obTime", ""):
        raise BadQueryError("obTime must be a range A..B")
    lo_text, hi_text = params["obTime"].split("..", 1)
    sort = params.get("sort", "obTime")
    if sort.lower() not in ("obtime", "obtime,asc"):
        raise BadQueryError(f"unsupported sort {sort!r}")
    try:
        first = int(params.get("firstResult", "0"))
        limit = int(params.get("maxResults", str(cap)))
    except ValueError:
        raise BadQueryError("firstResult and maxResults must be whole numbers") from None
    if first < 0 or limit < 0:
        raise BadQueryError("firstResult and maxResults must not be negative")
    return Query(
        lo=_parse_time(lo_text), hi=_parse_time(hi_text), sensor=params.get("idSensor"),
        descriptor=params.get("descriptor", descriptor),
        matches_source=(params.get("source", _SOURCE) == _SOURCE
                        and params.get("dataMode", _DATA_MODE) == _DATA_MODE),
        first=first, limit=min(limit, cap),
    )


def _parse_time(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadQueryError(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise BadQueryError(f"{text!r} has no time zone")
    return moment.astimezone(dt.UTC)


def _ms_key(moment: dt.datetime, *, up: bool) -> bytes:
    """The synthetic ``obTime`` (whole ms) at or after (``up``) / at or before ``moment``."""
    extra = moment.microsecond % 1000
    if extra:
        moment += dt.timedelta(microseconds=(1000 - extra) if up else -extra)
    return format_udl_time(moment).encode()


class Slab:
    """Serialized records sorted by ``obTime``: any range is two searches and a slice."""

    def __init__(self, records: Iterable[dict[str, Any]]) -> None:
        parts, times, sensors, ids = [], [], [], []
        for record in records:
            parts.append(orjson.dumps(record))
            times.append(record["obTime"])
            sensors.append(record.get("idSensor") or "")
            ids.append(record["id"])
        self.times = np.array(times, dtype="S")
        if len(times) > 1 and not bool(np.all(self.times[:-1] <= self.times[1:])):
            raise ValueError("synthetic records are not in obTime order")
        self.sensors = np.array(sensors, dtype="S")
        self.ids = ids
        self.offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(part) + 1 for part in parts], out=self.offsets[1:])
        self.blob = b",".join(parts) + b","  # record k is blob[offsets[k]:offsets[k+1]-1]

    def select(self, lo: bytes, hi: bytes, sensor: bytes | None) -> np.ndarray:
        """Indexes of records with ``lo <= obTime <= hi`` (and the sensor, if given)."""
        i = int(np.searchsorted(self.times, lo, "left"))
        j = int(np.searchsorted(self.times, hi, "right"))
        index = np.arange(i, max(i, j))
        return index if sensor is None else index[self.sensors[i:j] == sensor]

    def pieces(self, index: np.ndarray) -> list[bytes]:
        """The serialized records at ``index``, a contiguous run as one slice."""
        if len(index) == 0:
            return []
        if index[-1] - index[0] + 1 == len(index):
            return [self.blob[self.offsets[index[0]]:self.offsets[index[-1] + 1] - 1]]
        return [self.blob[self.offsets[k]:self.offsets[k + 1] - 1] for k in index]


Found = list[tuple[Slab, np.ndarray]]


class DayStore:
    """Rendered days (the most recent few kept), each rendered by one thread only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._days: collections.OrderedDict[Any, Slab] = collections.OrderedDict()
        self._rendering: dict[Any, threading.Lock] = {}

    def find(self, data: SyntheticOptions, query: Query,
             empty_days: frozenset[dt.date] = frozenset()) -> Found:
        """Every record matching ``query``, day by day, in ``obTime`` order."""
        if not query.matches_source or query.hi < query.lo:
            return []
        options = dataclasses.replace(data, descriptor=query.descriptor)
        lo_key, hi_key = _ms_key(query.lo, up=True), _ms_key(query.hi, up=False)
        sensor = query.sensor.encode() if query.sensor is not None else None
        found = []
        day = query.lo.date()
        while day <= query.hi.date():
            if day not in empty_days:
                start, end = day_window(day)
                slab = self._slab(options, day, max(query.lo, start),
                                  min(query.hi, end - _ONE_MS))
                found.append((slab, slab.select(lo_key, hi_key, sensor)))
            day += dt.timedelta(days=1)
        return found

    def day_ids(self, data: SyntheticOptions, day: dt.date, sensor_id: str) -> list[str]:
        """Ids of the day's records that an ``idSensor`` (or ALL) query gets, in order."""
        slab = self.whole(data, day)
        sensor = None if sensor_id == ALL_SENSORS else sensor_id.encode()
        return [slab.ids[k] for k in slab.select(b"", b"\xff", sensor)]

    def _slab(self, options: SyntheticOptions, day: dt.date, lo: dt.datetime,
              hi: dt.datetime) -> Slab:
        """The day's records around ``[lo, hi]``: the whole rendered day when it pays."""
        with self._lock:
            if (options, day) in self._days:
                self._days.move_to_end((options, day))
                return self._days[(options, day)]
        per_day = 2 * SAMPLES_PER_DAY * len(day_sensors(options.sensor_id))
        if hi - lo < _WHOLE_DAY_AT and per_day > _SMALL_DAY:
            return Slab(iter_records(day, options, start=lo, end=hi))
        return self.whole(options, day)

    def whole(self, options: SyntheticOptions, day: dt.date) -> Slab:
        """The whole day, rendered now if it is not kept yet."""
        key = (options, day)
        with self._lock:
            gate = self._rendering.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._days:
                    return self._days[key]
            slab = Slab(iter_records(day, options))
            with self._lock:
                self._days[key] = slab
                while (len(self._days) > 1
                       and sum(len(kept.blob) for kept in self._days.values()) > _KEPT_BYTES):
                    self._days.popitem(last=False)
                self._rendering.pop(key, None)
            return slab


def page(found: Sequence[tuple[Slab, np.ndarray]], first: int,
         limit: int) -> tuple[list[bytes], int]:
    """The serialized records ``first .. first+limit-1`` of an answer, and their number."""
    pieces: list[bytes] = []
    left = limit
    for slab, index in found:
        if left <= 0:
            break
        if first >= len(index):
            first -= len(index)
            continue
        taken = index[first:first + left]
        pieces += slab.pieces(taken)
        left -= len(taken)
        first = 0
    return pieces, limit - left
