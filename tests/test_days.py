"""Operator dates (days.py; archive-sync.md "Nightly operation"): ``YYYY-MM-DD`` and the
relative forms ``today``, ``yesterday``, ``today-N`` in UTC, with clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from swxsoc_reach.days import DATE_PATTERN, TODAY_ENV, parse_date, today
from swxsoc_reach.errors import ConfigError

FIXED = {TODAY_ENV: "2026-01-05"}
SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


@pytest.mark.parametrize(("text", "day"), [
    ("2025-09-04", dt.date(2025, 9, 4)),
    ("today", dt.date(2026, 1, 5)),
    ("yesterday", dt.date(2026, 1, 4)),
    ("today-0", dt.date(2026, 1, 5)),
    ("today-5", dt.date(2025, 12, 31)),
    ("today-366", dt.date(2025, 1, 4)),
])
def test_parse_date_reads_absolute_and_relative_days(text, day) -> None:
    assert parse_date(text, environ=FIXED) == day


@pytest.mark.parametrize("text", ["today-x", "Today", "today+1", "tomorrow", "yesterday-1",
                                  " today", "today-", "2025-9-4", "", "today-1234567"])
def test_parse_date_names_the_forms_it_accepts(text) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_date(text, what="start date", environ=FIXED)
    assert str(caught.value) == (f"start date {text!r} is not a date: give YYYY-MM-DD, today, "
                                 "yesterday or today-N (N days before today, UTC)")


def test_parse_date_before_year_one_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"end date 'today-999999' lies before year 1"):
        parse_date("today-999999", what="end date", environ={TODAY_ENV: "0100-01-01"})


def test_today_is_the_utc_day_unless_the_testing_hook_fixes_it() -> None:
    before = dt.datetime.now(dt.UTC).date()
    assert before <= today({}) <= dt.datetime.now(dt.UTC).date()
    assert today({TODAY_ENV: ""}) >= before  # empty: not set
    assert today(FIXED) == dt.date(2026, 1, 5)
    for bad in ("2026-1-5", "2026-02-30"):
        with pytest.raises(ConfigError, match=f"{TODAY_ENV} '{bad}'"):
            today({TODAY_ENV: bad})
    with pytest.raises(ConfigError, match=f"{TODAY_ENV} '2026-02-30' is not a real date"):
        today({TODAY_ENV: "2026-02-30"})


def test_workflow_schema_takes_the_forms_parse_date_takes() -> None:
    properties = yaml.safe_load(SCHEMA.read_text())["properties"]
    assert properties["start_date"]["pattern"] == properties["end_date"]["pattern"] == DATE_PATTERN
