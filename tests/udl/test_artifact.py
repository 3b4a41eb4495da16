"""The day's artifact from spooled windows (historical-download.md "Chunking and the
artifact"): time order whatever the arrival order, one CSV header covering every key,
nested values as JSON text, any string value surviving, nothing under the final name
before the artifact is complete."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from swxsoc_reach.synthetic import SyntheticOptions, iter_records
from swxsoc_reach.udl.artifact import CsvColumns, DaySpool, _encode_fast, encode_csv

TRICKY = [
    'say "hi"', "comma, inside", "line\nbreak", "back\\slash", 'end\\"', "tab\there",
    "ünïcødé ✓", "", "null", "a,null,b", "[1, 2]", ",[", "\\", '"', "\r\n",
]


def records_with(values: list[Any]) -> list[dict[str, Any]]:
    return [{"id": f"id-{i}", "obTime": f"2026-01-01T00:00:{i:02d}.000Z", "text": value,
             "lat": 1.5 * i, "satNo": i, "flag": i % 2 == 0, "maybe": None if i % 3 else i,
             "seoList": [{"obValue": 1e-7 * i, "obDescription": f"DOSE {value}"}],
             "senPos": [1.0, -2.5, 3.25]}
            for i, value in enumerate(values)]


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def expected_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def assert_same(row: dict[str, str], record: dict[str, Any]) -> None:
    for key, value in record.items():
        cell = row[key]
        if isinstance(value, list | dict):
            assert json.loads(cell) == value, key
        elif isinstance(value, float | int) and not isinstance(value, bool):
            assert float(cell) == value, key
        else:
            assert cell == expected_cell(value), key


def spool_day(tmp_path: Path, windows: list[list[dict[str, Any]]], fmt: str,
              order: list[int] | None = None) -> Path:
    final = tmp_path / f"day.{fmt}"
    with DaySpool(final, fmt) as spool:
        for index in order or range(len(windows)):
            spool.write(index, windows[index])
        spool.merge()
    return final


@pytest.mark.parametrize("value", TRICKY)
def test_csv_artifact_keeps_any_string_value(tmp_path, value) -> None:
    records = records_with([value, "plain"])
    rows = read_csv(spool_day(tmp_path, [records], "csv"))
    assert len(rows) == 2
    for row, record in zip(rows, records, strict=True):
        assert_same(row, record)


def test_csv_artifact_header_covers_every_key_and_rows_do_not_shift(tmp_path) -> None:
    first = records_with(["a", "b"])
    second = [{**r, "extra": [1, {"k": "v"}], "late": "x"} for r in records_with(["c"])]
    del second[0]["satNo"]
    third = [{"obTime": "2026-01-01T00:10:00.000Z", "id": "last", "text": "d", "extra": None}]
    windows = [first, second, third]
    path = spool_day(tmp_path, windows, "csv", order=[2, 0, 1])  # arrival order differs
    header = path.read_text().splitlines()[0].split(",")
    assert set(header) == {key for w in windows for r in w for key in r}
    assert len(header) == len(set(header))
    rows = read_csv(path)
    records = [r for w in windows for r in w]
    assert [row["id"] for row in rows] == [r["id"] for r in records]
    for row, record in zip(rows, records, strict=True):
        assert_same(row, record)
        for key in set(header) - set(record):
            assert row[key] == ""


def test_csv_artifact_of_a_container_in_a_plain_column_is_json_text(tmp_path) -> None:
    records = records_with(["a", "b"])
    records[1]["text"] = {"nested": ["x", "y"]}  # "text" was classified plain by record 0
    rows = read_csv(spool_day(tmp_path, [records[:1], records[1:]], "csv"))
    assert json.loads(rows[1]["text"]) == {"nested": ["x", "y"]}


def test_csv_encoding_of_udl_records_takes_the_fast_path() -> None:
    records = list(iter_records(dt.date(2026, 1, 1), SyntheticOptions(sensor_id="REACH-135"),
                                start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                                end=dt.datetime(2026, 1, 1, 0, 1, tzinfo=dt.UTC)))
    columns = CsvColumns()
    width, text = encode_csv(records, columns)
    assert width == len(records[0])
    assert _encode_fast(records, columns.names, columns.nested) == text
    assert columns.nested == {"seoList", "senPos"}


def test_json_artifact_is_one_array_in_window_order(tmp_path) -> None:
    windows = [records_with(["a", "b"]), [], records_with(['c "q"'])]
    path = spool_day(tmp_path, windows, "json", order=[2, 1, 0])
    assert orjson.loads(path.read_bytes()) == windows[0] + windows[2]


def test_day_spool_leaves_no_file_but_the_artifact(tmp_path) -> None:
    stale = tmp_path / ".day.csv.spool-killed"
    stale.mkdir()
    (stale / "000001").write_bytes(b"left by a killed run")
    spool_day(tmp_path, [records_with(["a"])], "csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.csv"]


def test_day_spool_failure_leaves_nothing_under_the_final_name(tmp_path) -> None:
    final = tmp_path / "day.csv"
    with pytest.raises(RuntimeError), DaySpool(final, "csv") as spool:
        spool.write(0, records_with(["a"]))
        raise RuntimeError("a window failed")
    assert list(tmp_path.iterdir()) == []
