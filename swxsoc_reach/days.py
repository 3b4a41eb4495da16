"""UTC days: parsing operator dates and the half-open window ``[D, D+1)`` of a day.

archive-sync.md "Nightly operation": a date may be given relative to the current
UTC day (``today``, ``yesterday``, ``today-N``), so one config serves every night.
``SWXSOC_REACH_TODAY=YYYY-MM-DD`` fixes "today" for tests only (a testing hook:
an operator never sets it).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping

from swxsoc_reach.errors import ConfigError

ONE_DAY = dt.timedelta(days=1)
TODAY_ENV = "SWXSOC_REACH_TODAY"  # testing hook: the UTC day "today" names

_DATE_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RELATIVE = re.compile(r"today(?:-([0-9]{1,6}))?|yesterday")
DATE_FORMS = "YYYY-MM-DD, today, yesterday or today-N (N days before today, UTC)"
# the same forms, for the workflow's JSON schema (kept equal by a test)
DATE_PATTERN = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}|today|yesterday|today-[0-9]{1,6})$"


def parse_date(text: str, *, what: str = "date",
               environ: Mapping[str, str] | None = None) -> dt.date:
    """Parse ``YYYY-MM-DD``, ``today``, ``yesterday`` or ``today-N`` (UTC) strictly;
    anything else is a usage error naming the value and the forms accepted.

    A value of the right form that names no day (``2025-02-30``) is told as such:
    the operator needs to fix the day, not the format.
    """
    if isinstance(text, str) and (relative := _RELATIVE.fullmatch(text)):
        back = 1 if text == "yesterday" else int(relative[1] or 0)
        try:
            return today(environ) - dt.timedelta(days=back)
        except OverflowError:
            raise ConfigError(f"{what} {text!r} lies before year 1") from None
    if not isinstance(text, str) or not _DATE_FORM.fullmatch(text):
        raise ConfigError(f"{what} {text!r} is not a date: give {DATE_FORMS}")
    return _real_date(text, what)


def _real_date(text: str, what: str) -> dt.date:
    """A ``YYYY-MM-DD`` string as a day, or the error that it names none (``2025-02-30``)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{what} {text!r} is not a real date ({exc})") from None


def today(environ: Mapping[str, str] | None = None) -> dt.date:
    """The current UTC day, or the day ``SWXSOC_REACH_TODAY`` fixes (tests)."""
    env = os.environ if environ is None else environ
    fixed = env.get(TODAY_ENV)
    if not fixed:
        return utc_now().date()
    if not _DATE_FORM.fullmatch(fixed):
        raise ConfigError(f"{TODAY_ENV} {fixed!r} is not a date of the form YYYY-MM-DD "
                          "(a testing hook: unset it)")
    return _real_date(fixed, TODAY_ENV)


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
