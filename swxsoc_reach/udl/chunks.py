"""A query window of a UTC day, and the cut that gives every record to exactly one window.

historical-download.md "Chunking and the artifact", udl.md "The query": a day
``[D, D+1)`` is cut into adjacent windows (their lengths: ``sizing``). UDL's
``obTime=A..B`` is inclusive at both ends and timestamps may carry any fraction
of a second, so each window is asked for ``start..end`` (its end is the next
window's start) and the answer is cut here to the half-open ``[start, end)``: a
record stamped exactly on a boundary is kept by the later window only, and no
gap can open between windows whatever the precision.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from swxsoc_reach.errors import UdlError

# UDL's form, 2025-09-04T00:00:05.000Z: same-length strings compare as times
_CANONICAL_LEN = 24
_ISO = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$"
)


def format_udl_time(moment: dt.datetime) -> str:
    """Format an aware time the way UDL writes it (milliseconds, ``Z``)."""
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def time_key(text: object) -> str:
    """A string that sorts as the instant ``text`` names, at any sub-second precision.

    ``YYYY-MM-DDTHH:MM:SS.fffffffff`` in UTC (nine fraction digits). Raises
    ``UdlError`` for anything that is not an ISO 8601 time.
    """
    match = _ISO.match(text) if isinstance(text, str) else None
    if match is None:
        raise UdlError(f"record with an unreadable obTime {_describe(text)}")
    date, clock, fraction, zone = match.groups()
    digits = ((fraction or "") + "000000000")[:9]
    if zone not in (None, "Z", "+00:00", "+0000", "-00:00", "-0000"):
        try:
            moment = dt.datetime.fromisoformat(f"{date}T{clock}{zone}").astimezone(dt.UTC)
        except (ValueError, OverflowError):  # no such date, time or offset
            raise UdlError(f"record with an unreadable obTime {_describe(text)}") from None
        date, clock = moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S")
    return f"{date}T{clock}.{digits}"


def _describe(value: object) -> str:
    """A short one-line account of an untrusted value (a string's first 40 characters; of
    anything else its type only: a list 1,000 deep has no repr)."""
    if isinstance(value, str):
        return repr(value[:40]) + ("..." if len(value) > 40 else "")
    return f"of type {type(value).__name__}"


def _is_canonical(text: str) -> bool:
    return len(text) == _CANONICAL_LEN and text[19] == "." and text[23] == "Z"


@dataclass(frozen=True)
class Window:
    """One query window ``[start, end)`` (aware UTC)."""

    start: dt.datetime
    end: dt.datetime
    _bounds: tuple[str, str, str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lo, hi = format_udl_time(self.start), format_udl_time(self.end)
        object.__setattr__(self, "_bounds", (lo, hi, time_key(lo), time_key(hi)))

    @property
    def label(self) -> str:
        """A short name for logs: the window's start."""
        return self.start.strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def udl_bounds(self) -> tuple[str, str]:
        """Start and end in UDL's form (``format_udl_time``): the cut compares these."""
        return self._bounds[0], self._bounds[1]

    @property
    def query_range(self) -> str:
        """The ``obTime`` value asking for this window: ``start..end``, both inclusive."""
        return f"{self._bounds[0]}..{self._bounds[1]}"

    def cut(self, records: Iterable[Any]) -> list[dict[str, Any]]:
        """Keep the records with ``start <= obTime < end``, in time order.

        UDL is asked to sort by ``obTime``; an answer that is not sorted is sorted
        here so the artifact stays in time order. Raises ``UdlError`` for a record
        that is not an object or has no readable ``obTime``.
        """
        lo, hi, key_lo, key_hi = self._bounds
        kept: list[dict[str, Any]] = []
        keep = kept.append
        previous = ""
        ordered = True
        for record in records:
            try:
                when = record.get("obTime")
            except AttributeError:
                kind = type(record).__name__
                raise UdlError(f"UDL answer holds a {kind}, not a record") from None
            if type(when) is str and _is_canonical(when):  # the fast path: one string compare
                if lo <= when < hi:
                    keep(record)
                    ordered = ordered and previous <= when
                    previous = when
            elif key_lo <= time_key(when) < key_hi:
                keep(record)
                ordered = False  # mixed precisions: let the sort below decide
        if not ordered:
            kept.sort(key=lambda record: time_key(record["obTime"]))
        return kept
