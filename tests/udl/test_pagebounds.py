"""Any UDL answer page in bounded time and memory, and every bad one a ``UdlError`` (issue
20): the four reproducers of the differential fuzz, and the bounds of ``pagebounds``
(the same in ``_transcode.c``: the C path declines past them, Python refuses)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
from transcode_support import timed

from swxsoc_reach.cli import main
from swxsoc_reach.errors import UdlError
from swxsoc_reach.paths import artifact_name
from swxsoc_reach.synthetic import iter_records
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import DEFAULT_NAME as TELEMETRY_NAME
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.hostile_pages import (
    OB_TIME,
    hostile_pages,
    key_names,
    tiny_records,
    wide_record,
)
from swxsoc_reach.udl import pagebounds, pages
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.pages import PageJob, process_page, transcode_page

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
WINDOW = Window(T0, T0 + dt.timedelta(seconds=40))
T_IN = OB_TIME  # inside WINDOW
BOUND_S = 2.0  # generous: each of these takes milliseconds; main took 15-305 s in C


def assert_refused(body: bytes, job: PageJob, words: str) -> None:
    """The C path declines and writes nothing, Python raises a one-line ``UdlError``
    naming the window and ``words``; each in under BOUND_S."""
    outcome, c_s = timed(lambda: transcode_page(body, job))
    assert outcome is None
    assert not job.path.exists()
    error, py_s = timed(lambda: process_page(body, job))
    assert type(error) is UdlError, repr(error)
    message = str(error)
    assert "\n" not in message and len(message) < 300, message
    assert f"chunk {WINDOW.label}" in message and words in message, message
    assert not job.path.exists()
    assert c_s < BOUND_S and py_s < BOUND_S, (c_s, py_s)


HOSTILE = {name: (body, columns) for name, body, columns in hostile_pages()}


@pytest.mark.parametrize("output_format", ["csv", "json"])
def test_page_with_65000_keys_in_one_record_is_refused_at_once(
        tmp_path: Path, output_format: str) -> None:
    """Reproducer 1: one 780 KB record of 65,000 keys took 23 s in C (a scan of the columns
    for each field); now past MAX_COLUMNS, declined and refused in milliseconds."""
    body, _ = HOSTILE["65,000 keys, 1 record"]
    assert_refused(body, PageJob(WINDOW, tmp_path / "s", output_format), "keys (columns)")


def test_records_with_reversed_keys_and_the_days_columns_are_refused_at_once(
        tmp_path: Path) -> None:
    """Reproducer 1 (305 s in C on main): 8 records of 65,000 keys in reverse order, the
    day's columns given in forward order."""
    body, columns = HOSTILE["8 records, keys reversed"]
    assert_refused(body, PageJob(WINDOW, tmp_path / "s", "csv", columns=columns),
                   "keys (columns)")


def test_reversed_keys_within_the_column_bound_cost_one_lookup_a_field(
        tmp_path: Path) -> None:
    """Keys in another order than the columns (every hint missing) are taken by C, with
    Python's bytes: the hash finds each column."""
    body = b"[" + b",".join(wide_record(250, reverse=True) for _ in range(8)) + b"]"
    columns = ("obTime", *key_names(250))
    c_job = PageJob(WINDOW, tmp_path / "c", "csv", columns=columns)
    py_job = PageJob(WINDOW, tmp_path / "py", "csv", columns=columns)
    outcome = transcode_page(body, c_job)
    assert outcome is not None and outcome.kept == 8
    assert outcome == process_page(body, py_job)
    assert c_job.path.read_bytes() == py_job.path.read_bytes()


@pytest.mark.parametrize("keys", [65000, pagebounds.MAX_COLUMNS - 1])
def test_page_whose_csv_would_blow_up_is_refused_before_writing(tmp_path: Path,
                                                                keys: int) -> None:
    """Reproducer 2: one wide record then many tiny ones wrote a cell a column a row (98
    MB of CSV from 723 KB, 28.6 s in C): refused, by the columns or by the cells bound."""
    body = b"[" + wide_record(keys) + tiny_records(500) + b"]"
    words = "keys (columns)" if keys > pagebounds.MAX_COLUMNS else "bytes of CSV cells"
    assert_refused(body, PageJob(WINDOW, tmp_path / "s", "csv"), words)


def page_at_the_cells_bound(extra: int) -> bytes:
    """A 200-key record then tiny records: as many as the cells bound allows, plus
    ``extra``."""
    tiny = tiny_records(1)
    wide = wide_record(199)
    columns = 200
    size = len(wide) + 2  # the brackets
    # kept x (3 x columns + 1) <= ratio x size: each tiny record adds to both sides
    per_row, per_byte = 3 * columns + 1, pagebounds.MAX_OUTPUT_RATIO
    fits = (per_byte * size + pagebounds.OUTPUT_ALLOWANCE - per_row) // (
        per_row - per_byte * len(tiny))
    return b"[" + wide + tiny * (fits + extra) + b"]"


def test_page_at_the_cells_bound_is_taken_alike_and_one_record_more_refused(
        tmp_path: Path) -> None:
    """At the bound both paths write the page, the same bytes; one more row is refused."""
    body = page_at_the_cells_bound(0)
    c_job, py_job = PageJob(WINDOW, tmp_path / "c", "csv"), PageJob(WINDOW, tmp_path / "p", "csv")
    outcome = transcode_page(body, c_job)
    assert outcome is not None and outcome == process_page(body, py_job)
    assert c_job.path.read_bytes() == py_job.path.read_bytes()
    assert_refused(page_at_the_cells_bound(1), PageJob(WINDOW, tmp_path / "s", "csv"),
                   "bytes of CSV cells")


def deep_value(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


ODD_BODIES = [  # reproducer 3: bodies that raised TypeError or RecursionError on main
    ("id_array_with_seen", orjson.dumps([{"id": [1], "obTime": T_IN}]),
     {"seen": frozenset({"x"})}, "id is a JSON list"),
    ("id_object_with_ids_asked", orjson.dumps([{"id": {"a": 1}, "obTime": T_IN}]),
     {"ids_from": 0}, "id is a JSON dict"),
    ("nested_300_deep", b'[{"obTime":"' + T_IN.encode() + b'","v":' + b"[" * 300 + b"]" * 300
     + b"}]", {}, "levels deep"),
    ("obtime_1000_deep_list", b'[{"obTime":' + b"[" * 1000 + b"]" * 1000 + b"}]", {},
     "unreadable obTime of type list"),
    ("obtime_offset_out_of_range", orjson.dumps([{"obTime": "2026-01-01T00:00:01+99:00"}]),
     {}, "unreadable obTime '2026-01-01T00:00:01+99:00'"),
    ("obtime_no_such_day", orjson.dumps([{"obTime": "2026-02-31T00:00:01+01:00"}]), {},
     "unreadable obTime"),
    ("obtime_long_string", orjson.dumps([{"obTime": "x" * 100000}]), {}, "'xxxx"),
]


@pytest.mark.parametrize("output_format", ["csv", "json"])
@pytest.mark.parametrize(("body", "fields", "words"),
                         [pytest.param(*c[1:], id=c[0]) for c in ODD_BODIES])
def test_odd_body_is_a_one_line_udl_error(tmp_path: Path, body: bytes, fields: dict[str, Any],
                                          words: str, output_format: str) -> None:
    """Never a TypeError or RecursionError at the day's failure boundary."""
    job = PageJob(WINDOW, tmp_path / "s", output_format, **fields)
    assert_refused(body, job, words)


def test_bounds_are_the_c_transcoders() -> None:
    """pagebounds and ``_transcode.c`` refuse and decline past the same numbers."""
    if pages.transcode is None:
        pytest.skip("the C extension is not built")
    from swxsoc_reach.udl import _transcode

    for name in ("MAX_COLUMNS", "MAX_DEPTH", "MAX_OUTPUT_RATIO", "OUTPUT_ALLOWANCE"):
        assert getattr(_transcode, name) == getattr(pagebounds, name), name


def test_page_of_real_records_is_far_within_the_bounds() -> None:
    """A real-shaped page's CSV cells are a small part of what the bound allows, and
    would be with the columns of UDL's whole record model (about 50)."""
    records = list(iter_records(T0.date(), start=T0, end=T0 + dt.timedelta(seconds=60)))
    body = orjson.dumps(records)
    cells = len(records) * (3 * 50 + 1)
    assert cells * 10 < pagebounds.MAX_OUTPUT_RATIO * len(body)
    assert max(map(len, records)) * 6 < pagebounds.MAX_COLUMNS


def test_download_of_a_hostile_answer_fails_the_day_at_once_naming_the_chunk(
        udl_server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Through the real CLI: the local UDL server answers every query of the day with the
    blow-up page; the day ends FAILED in seconds, one line naming the chunk, nothing
    written under the artifact's name (on main: ~30 s a chunk and ~100 MB of CSV each)."""
    day = dt.date(2026, 1, 1)
    udl_server.configure(hostile_days=frozenset({day}))
    (status, seconds) = timed(lambda: main(
        ["download", "--start-date", day.isoformat(), "--end-date", day.isoformat(),
         "--sensor-id", "REACH-135", "--output-dir", str(tmp_path), "--udl-url",
         udl_server.url]))
    assert status == 1
    assert seconds < 30  # generous: the refusal itself takes milliseconds
    [row] = [r for r in TelemetryStore(tmp_path / TELEMETRY_NAME).read()
             if r.status is Status.FAILED]
    assert row.error_type == "UdlError"
    assert row.error_message.startswith(f"UDL answer for chunk {day}T00:00:00Z: its records "
                                         "hold 65001 or more keys")
    failed = [line for line in capsys.readouterr().err.splitlines() if "FAILED" in line]
    assert len(failed) == 1 and "Traceback" not in failed[0]
    assert not (tmp_path / artifact_name(day, "REACH-135", "csv")).exists()
