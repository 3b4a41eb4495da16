"""UTC days: parsing operator dates and the half-open window ``[D, D+1)`` of a day."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from swxsoc_reach.errors import ConfigError

ONE_DAY = dt.timedelta(days=1)


_DATE_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str, *, what: str = "date") -> dt.date:
    """Parse ``YYYY-MM-DD`` strictly; anything else is a usage error naming the value.

    A value of the right form that names no day (``2025-02-30``) is told as such:
    the operator needs to fix the day, not the format.
    """
    if not isinstance(text, str) or not _DATE_FORM.fullmatch(text):
        raise ConfigError(f"{what} {text!r} is not a date of the form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{what} {text!r} is not a real date ({exc})") from None


def check_range(start: dt.date, end: dt.date) -> None:
    """Reject an inclusive range whose end precedes its start."""
    if end < start:
        raise ConfigError(f"end date {end.isoformat()} is before start date {start.isoformat()}")


def iter_days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Yield every day of the inclusive range, in order."""
    check_range(start, end)
    day = start
    while day <= end:
        yield day
        day += ONE_DAY


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Return the aware UTC window ``[day 00:00, day+1 00:00)`` (end exclusive)."""
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return start, start + ONE_DAY


def utc_now() -> dt.datetime:
    """The current time, aware UTC (telemetry timestamps)."""
    return dt.datetime.now(dt.UTC)


def iso_utc(moment: dt.datetime) -> str:
    """Format an aware time as ISO 8601 with a ``Z`` suffix, microseconds kept."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
