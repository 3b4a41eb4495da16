"""The day's artifact from spooled answer pages (historical-download.md "Chunking and the
artifact"): time order whatever the arrival order, one CSV header covering every key,
nested values as JSON text, any string value surviving, the same bytes whether pages are
decoded in worker processes or not, nothing under the final name before it is complete."""

from __future__ import annotations

import csv
import datetime as dt
import errno
import hashlib
import json
import os
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import orjson
import pytest

from swxsoc_reach.udl import artifact, pages
from swxsoc_reach.udl.artifact import DaySpool, copy_file
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.day import open_decoders

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


DAY_WINDOW = Window(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC))


def spool_day(tmp_path: Path, windows: list[list[dict[str, Any]]], fmt: str,
              order: list[int] | None = None, decoders: Executor | None = None) -> Path:
    """Each list of records is one window's answer, added (and done) in ``order``."""
    final = tmp_path / f"day.{fmt}"
    with DaySpool(final, fmt, decoders) as spool:
        for index in order or range(len(windows)):
            spool.add_page(orjson.dumps(windows[index]), DAY_WINDOW, index, 0)
            spool.window_done(index)
        spool.merge()
    return final


def test_day_spool_writes_complete_windows_in_time_order_before_the_merge(tmp_path) -> None:
    """A window is appended to the temporary copy once every window before it is done
    (the day's writing overlaps its download); a later one waits for its turn."""
    final = tmp_path / "day.csv"
    windows = [records_with(["a", "b"]), records_with(["c"]), records_with(["d", "e"])]
    with DaySpool(final, "csv") as spool:
        for index in (1, 2):
            spool.add_page(orjson.dumps(windows[index]), DAY_WINDOW, index, 0)
            spool.window_done(index)
        assert not list(tmp_path.glob(".day.csv.spool-*/artifact"))  # window 0 not in yet
        spool.add_page(orjson.dumps(windows[0]), DAY_WINDOW, 0, 0)
        spool.window_done(0)
        (copy,) = tmp_path.glob(".day.csv.spool-*/artifact")
        written = copy.read_bytes()
        assert written.count(b"\n") == 1 + 5  # header and the three windows, before merge
        spool.merge()
    assert final.read_bytes() == written
    assert [row["id"] for row in read_csv(final)] == ["id-0", "id-1", "id-0", "id-0", "id-1"]


@pytest.mark.parametrize("value", TRICKY)
def test_csv_artifact_keeps_any_string_value(tmp_path, value) -> None:
    records = records_with([value, "plain"])
    rows = read_csv(spool_day(tmp_path, [records], "csv"))
    assert len(rows) == 2
    for row, record in zip(rows, records, strict=True):
        assert_same(row, record)


def shifting_windows() -> list[list[dict[str, Any]]]:
    first = records_with(["a", "b"])
    second = [{**r, "extra": [1, {"k": "v"}], "late": "x", "id": "c"}
              for r in records_with(["c"])]
    del second[0]["satNo"]
    third = [{"obTime": "2026-01-01T00:10:00.000Z", "id": "last", "text": "d", "extra": None}]
    return [first, second, third]


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 0, 1], [1, 2, 0]])
def test_csv_artifact_header_covers_every_key_and_rows_do_not_shift(tmp_path, order) -> None:
    windows = shifting_windows()
    path = spool_day(tmp_path, windows, "csv", order=order)  # arrival order differs
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


def test_day_spool_in_worker_processes_writes_the_same_bytes(tmp_path) -> None:
    windows = [*shifting_windows(), records_with(TRICKY)]
    decoders = open_decoders(2)
    assert decoders is not None
    with decoders:
        pooled = spool_day(tmp_path / "pooled", windows, "csv", decoders=decoders)
    alone = spool_day(tmp_path / "alone", windows, "csv")
    assert pooled.read_bytes() == alone.read_bytes()


def test_json_artifact_is_one_array_in_window_order(tmp_path) -> None:
    windows = [records_with(["a", "b"]), [], records_with(['c "q"'])]
    path = spool_day(tmp_path, windows, "json", order=[2, 1, 0])
    assert orjson.loads(path.read_bytes()) == windows[0] + windows[2]


def test_day_spool_leaves_no_file_but_the_artifact(tmp_path) -> None:
    stale = tmp_path / ".day.csv.spool-killed"
    stale.mkdir(parents=True)
    (stale / "000001").write_bytes(b"left by a killed run")
    spool_day(tmp_path, [records_with(["a"])], "csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.csv"]


def test_day_spool_failure_leaves_nothing_under_the_final_name(tmp_path) -> None:
    final = tmp_path / "day.csv"
    with pytest.raises(RuntimeError), DaySpool(final, "csv") as spool:
        spool.add_page(orjson.dumps(records_with(["a"])), DAY_WINDOW, 0, 0)
        raise RuntimeError("a window failed")
    assert list(tmp_path.iterdir()) == []


def test_copy_file_falls_back_to_read_write_where_the_kernel_call_stops(tmp_path,
                                                                        monkeypatch) -> None:
    """A file system without ``copy_file_range`` (EXDEV part-way, as older NFS answers):
    the rest is copied by read/write, nothing lost or doubled."""
    source, target = tmp_path / "spool", tmp_path / "artifact"
    data = bytes(range(256)) * 4096  # 1 MiB
    source.write_bytes(data)
    kernel_copy = os.copy_file_range
    calls = []

    def copy_a_block_then_refuse(src: int, dst: int, count: int, offset_src: int) -> int:
        calls.append(offset_src)
        if len(calls) > 1:
            raise OSError(errno.EXDEV, "cross-device")
        return kernel_copy(src, dst, min(count, 1000), offset_src)

    monkeypatch.setattr(os, "copy_file_range", copy_a_block_then_refuse)
    with open(source, "rb") as spool, open(target, "wb") as out:
        out.write(b"header\n")
        out.flush()
        copy_file(spool, out)
        out.write(b"after\n")
    assert calls == [0, 1000]
    assert target.read_bytes() == b"header\n" + data + b"after\n"


@pytest.mark.parametrize(("fmt", "compression"), [("csv", "none"), ("json", "none"),
                                                  ("csv", "zstd")])
def test_day_spool_takes_the_artifacts_sha256_as_it_writes_it(tmp_path, fmt,
                                                              compression) -> None:
    """Issue 17.1: the digest is of exactly the bytes under the final name, including the
    padded rewrite when a later window adds columns (the extra ``late`` key here), and a
    zstd artifact carries zstd's own content checksum in every frame."""
    windows = [records_with(["a", "b"]), records_with(["c"]),
               [dict(r, late=1) for r in records_with(["d"])]]
    final = tmp_path / f"day.{fmt}" if compression == "none" else tmp_path / f"day.{fmt}.zst"
    with DaySpool(final, fmt, compression=compression) as spool:
        for index in (1, 0, 2):
            spool.add_page(orjson.dumps(windows[index]), DAY_WINDOW, index, 0)
            spool.window_done(index)
        spool.merge()
    assert spool.sha256 == hashlib.sha256(final.read_bytes()).hexdigest()
    if compression == "zstd":
        frames = final.read_bytes()
        assert frames[:4] == b"\x28\xb5\x2f\xfd" and frames[4] & 0b100  # Content_Checksum_flag


def test_day_spool_gives_a_page_c_declined_to_python_only_when_columns_diverge(
        tmp_path, monkeypatch) -> None:
    """Issue 20: a page the C path declined is encoded again, when another page changed
    the day's columns meanwhile, by Python only: a hostile page never pays C twice."""
    calls: list[int] = []
    real_transcode, real_process = pages.transcode, artifact.process_page
    assert real_transcode is not None, "the C extension is not built"

    def counting_transcode(*args: Any) -> Any:
        calls.append(1)
        return real_transcode(*args)

    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    window = Window(start, start + dt.timedelta(seconds=10))
    body = orjson.dumps([{"id": "a", "obTime": "2026-01-01T00:00:01.000Z",
                          "name": 'say "hi"'}])  # an escape in a plain cell: C declines CSV
    with DaySpool(tmp_path / "day.csv", "csv") as spool:

        def process_while_another_page_lands(body: bytes, job: Any) -> Any:
            if len(calls) == 1:  # another thread's page adopts other columns meanwhile
                spool._columns.adopt(("other",), frozenset())
            return real_process(body, job)

        monkeypatch.setattr(pages, "transcode", counting_transcode)
        monkeypatch.setattr(artifact, "process_page", process_while_another_page_lands)
        outcome = spool.add_page(body, window, 0, 0)
    assert outcome.kept == 1
    assert outcome.columns == ("other", "id", "obTime", "name")  # encoded again, in Python
    assert len(calls) == 1
