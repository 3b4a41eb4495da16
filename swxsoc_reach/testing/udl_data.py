"""What a UDL query matches, over ``synthetic`` days: the data side of the local UDL server.

udl.md "The query": ``obTime=A..B`` inclusive at both ends, ``idSensor``
(records without one never match it), ``descriptor``, ``source``, ``dataMode``,
``sort=obTime`` and ``firstResult`` / ``maxResults`` under the server's cap.

Late data (``holdings.Holdings``: held-back records, reprocessed samples) applies
to what a query matches, so the answers, ``/count`` and ``/_ids`` agree.

A day is rendered once (``synthetic.iter_records``, ~70-100 s for all sensors)
into serialized records indexed by ``obTime``, so any window is two binary
searches and a slice. A small day's records stay in memory; a large day's go to
a file in the store's own temporary directory and are read back per answer
(``os.pread``), so the server holds only the index (~45 MB for a full ``ALL``
day) and serves any day at any window size in bounded memory (issue 11.3; it
grew to ~20 GB on a full day before). A short window of a large day not
rendered yet is generated on its own instead (the neighbouring day a boundary
query touches, tests of one hour). A count of a regular day not rendered is
arithmetic (no render), so an audit can count thousands of full days.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import os
import shutil
import tempfile
import threading
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from swxsoc_reach.days import day_window
from swxsoc_reach.mission import ALL_SENSORS, SAMPLES_PER_DAY
from swxsoc_reach.synthetic import SyntheticOptions, count_records, day_sensors, iter_records
from swxsoc_reach.testing.holdings import NO_HOLDINGS, Hold, Holdings
from swxsoc_reach.udl.chunks import format_udl_time

PARAMS = frozenset({"obTime", "idSensor", "source", "dataMode", "descriptor", "sort",
                    "firstResult", "maxResults"})
_SOURCE, _DATA_MODE = "Aerospace", "REAL"  # what every synthetic record carries
_WHOLE_DAY_AT = dt.timedelta(hours=1)  # a query this long renders (and keeps) its whole day
MEMORY_RECORDS = 200_000  # records: days this small are rendered whole, into memory
_KEPT_DAYS = 8  # rendered days kept (index ~45 MB, file ~0.9 GB each for a full ALL day)
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


_TIME_WIDTH, _SENSOR_WIDTH, _ID_WIDTH = 24, 16, 36  # obTime as UDL writes it; uuid text


class Slab:
    """Serialized records sorted by ``obTime``: any range is two searches and a slice.

    The records' bytes live where ``read(start, stop)`` finds them (memory or a file);
    only the index (times, sensors, byte offsets, id keys) is held here.
    """

    def __init__(self, times: np.ndarray, sensors: np.ndarray, offsets: np.ndarray,
                 keys: np.ndarray, read: Callable[[int, int], bytes],
                 ids: Callable[[], np.ndarray]) -> None:
        if len(times) > 1 and not bool(np.all(times[:-1] <= times[1:])):
            raise ValueError("synthetic records are not in obTime order")
        self.times, self.sensors, self.offsets, self.keys = times, sensors, offsets, keys
        self._read, self._ids = read, ids

    @property
    def nbytes(self) -> int:
        """Memory the slab holds (index, and records kept in memory)."""
        return (self.times.nbytes + self.sensors.nbytes + self.offsets.nbytes
                + self.keys.nbytes)

    def ids(self, index: np.ndarray) -> list[str]:
        """The ids of the records at ``index``."""
        return [i.decode() for i in self._ids()[index]]

    def select(self, lo: bytes, hi: bytes, sensor: bytes | None) -> np.ndarray:
        """Indexes of records with ``lo <= obTime <= hi`` (and the sensor, if given)."""
        i = int(np.searchsorted(self.times, lo, "left"))
        j = int(np.searchsorted(self.times, hi, "right"))
        index = np.arange(i, max(i, j))
        return index if sensor is None else index[self.sensors[i:j] == sensor]

    def pieces(self, index: np.ndarray) -> list[bytes]:
        """The serialized records at ``index``, each contiguous run read as one slice."""
        if len(index) == 0:
            return []
        breaks = np.flatnonzero(np.diff(index) != 1) + 1
        starts = np.concatenate(([0], breaks))
        stops = np.concatenate((breaks, [len(index)]))
        offsets = self.offsets
        return [self._read(int(offsets[index[a]]), int(offsets[index[b - 1] + 1]) - 1)
                for a, b in zip(starts, stops, strict=True)]


def render(records: Iterable[dict[str, Any]], path: Path | None = None) -> Slab:
    """Serialize records (in ``obTime`` order) into a slab: in memory, or into ``path``.

    Streams: besides the index, only a buffer of records is held while rendering.
    """
    times, sensors, ids = bytearray(), bytearray(), bytearray()
    sizes = array("q")
    blob = bytearray()
    with contextlib.ExitStack() as stack:
        write = blob.extend
        if path is not None:
            write = stack.enter_context(open(path, "wb", buffering=1 << 22)).write
        for record in records:
            text = orjson.dumps(record) + b","
            write(text)
            sizes.append(len(text))
            times += record["obTime"].encode().ljust(_TIME_WIDTH, b"\0")[:_TIME_WIDTH]
            sensors += (record.get("idSensor") or "").encode().ljust(_SENSOR_WIDTH, b"\0")
            ids += record["id"].encode().ljust(_ID_WIDTH, b"\0")
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(np.frombuffer(sizes, dtype=np.int64), out=offsets[1:])
    time_index = np.frombuffer(bytes(times), dtype=f"S{_TIME_WIDTH}")
    sensor_index = np.frombuffer(bytes(sensors), dtype=f"S{_SENSOR_WIDTH}")
    keys = _id_keys(ids)
    if path is None:
        data, id_array = bytes(blob), np.frombuffer(bytes(ids), dtype=f"S{_ID_WIDTH}")
        return Slab(time_index, sensor_index, offsets, keys, lambda a, b: data[a:b],
                    lambda: id_array)
    id_path = path.with_suffix(".ids")
    id_path.write_bytes(ids)
    return Slab(time_index, sensor_index, offsets, keys, _file_reader(path),
                lambda: np.fromfile(id_path, dtype=f"S{_ID_WIDTH}"))


def _id_keys(ids: bytes | bytearray) -> np.ndarray:
    """The first 32 bits of each id (8 hex digits of a seeded UUID): a uniform draw per
    record that ``Hold`` compares with its fraction."""
    digits = np.frombuffer(bytes(ids), dtype=np.uint8).reshape(-1, _ID_WIDTH)[:, :8]
    values = np.where(digits >= ord("a"), digits - (ord("a") - 10),
                      digits - ord("0")).astype(np.uint32)
    shifts = np.arange(28, -1, -4, dtype=np.uint32)
    return (values << shifts).sum(axis=1, dtype=np.uint32)


def _file_reader(path: Path) -> Callable[[int, int], bytes]:
    """``read(start, stop)`` on a file: each call opens it (an evicted day's file may go)."""

    def read(start: int, stop: int) -> bytes:
        with open(path, "rb", buffering=0) as fh:
            return os.pread(fh.fileno(), stop - start, start)

    return read


Found = list[tuple[Slab, np.ndarray]]


class DayStore:
    """Rendered days (the most recent few kept), each rendered by one thread only.

    Days of more than ``memory_records`` records are rendered into files under a
    private temporary directory, removed by ``close`` (and with an evicted day).
    """

    def __init__(self, memory_records: int = MEMORY_RECORDS) -> None:
        self._memory_records = memory_records
        self._lock = threading.Lock()
        self._days: collections.OrderedDict[Any, tuple[Slab, Path | None]] = (
            collections.OrderedDict())
        self._rendering: dict[Any, threading.Lock] = {}
        self._dir: Path | None = None
        self._serial = 0

    def close(self) -> None:
        """Forget every rendered day and remove their files."""
        with self._lock:
            self._days.clear()
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None

    def find(self, data: SyntheticOptions, query: Query,
             empty_days: frozenset[dt.date] = frozenset(),
             holdings: Holdings = NO_HOLDINGS) -> Found:
        """Every record matching ``query`` and not held back, day by day, in ``obTime`` order."""
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
                slab = self._slab(holdings.options_for(options, day), day,
                                  max(query.lo, start), min(query.hi, end - _ONE_MS))
                found.append((slab, _served(slab, slab.select(lo_key, hi_key, sensor),
                                            holdings.hold_of(day))))
            day += dt.timedelta(days=1)
        return found

    def count(self, data: SyntheticOptions, query: Query,
              empty_days: frozenset[dt.date] = frozenset(),
              holdings: Holdings = NO_HOLDINGS) -> int:
        """How many records ``find`` would give: by arithmetic (``synthetic.count_records``)
        for a regular day not rendered yet, so counting a full ``ALL`` day costs no
        render; from the records for a rendered, held-back or irregular day."""
        if not query.matches_source or query.hi < query.lo:
            return 0
        options = dataclasses.replace(data, descriptor=query.descriptor)
        total = 0
        day = query.lo.date()
        while day <= query.hi.date():
            if day not in empty_days:
                day_options = holdings.options_for(options, day)
                start, end = day_window(day)
                counted = None
                with self._lock:
                    rendered = (day_options, day) in self._days
                if not rendered and holdings.hold_of(day) is None:
                    counted = count_records(day, day_options, query.sensor,
                                            max(query.lo, start), min(query.hi, end))
                if counted is None:
                    single = dataclasses.replace(query, lo=max(query.lo, start),
                                                 hi=min(query.hi, end - _ONE_MS))
                    counted = sum(len(index) for _, index in
                                  self.find(data, single, empty_days, holdings))
                total += counted
            day += dt.timedelta(days=1)
        return total

    def day_ids(self, data: SyntheticOptions, day: dt.date, sensor_id: str,
                holdings: Holdings = NO_HOLDINGS) -> list[str]:
        """Ids of the day's records that an ``idSensor`` (or ALL) query gets, in order."""
        slab = self.whole(holdings.options_for(data, day), day)
        sensor = None if sensor_id == ALL_SENSORS else sensor_id.encode()
        return slab.ids(_served(slab, slab.select(b"", b"\xff", sensor), holdings.hold_of(day)))

    def _slab(self, options: SyntheticOptions, day: dt.date, lo: dt.datetime,
              hi: dt.datetime) -> Slab:
        """The day's records around ``[lo, hi]``: the whole rendered day when it pays."""
        with self._lock:
            if (options, day) in self._days:
                self._days.move_to_end((options, day))
                return self._days[(options, day)][0]
        if hi - lo < _WHOLE_DAY_AT and _day_size(options) > self._memory_records:
            return render(iter_records(day, options, start=lo, end=hi))
        return self.whole(options, day)

    def whole(self, options: SyntheticOptions, day: dt.date) -> Slab:
        """The whole day, rendered now if it is not kept yet."""
        key = (options, day)
        with self._lock:
            gate = self._rendering.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._days:
                    return self._days[key][0]
            path = self._new_file() if _day_size(options) > self._memory_records else None
            slab = render(iter_records(day, options), path)
            with self._lock:
                self._days[key] = (slab, path)
                while len(self._days) > _KEPT_DAYS:
                    _, (_, old) = self._days.popitem(last=False)
                    if old is not None:
                        old.unlink(missing_ok=True)
                        old.with_suffix(".ids").unlink(missing_ok=True)
                self._rendering.pop(key, None)
            return slab

    def _new_file(self) -> Path:
        with self._lock:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix=f"swxsoc-reach-udl-{os.getpid()}-"))
            self._serial += 1
            return self._dir / f"day-{self._serial}.json"


def _served(slab: Slab, index: np.ndarray, hold: Hold | None) -> np.ndarray:
    """``index`` without the records ``hold`` keeps back."""
    return index if hold is None else index[~hold.mask(slab, index)]


def _day_size(options: SyntheticOptions) -> int:
    """Records in a full day of ``options`` (without duplicates)."""
    return 2 * SAMPLES_PER_DAY * len(day_sensors(options.sensor_id))


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
