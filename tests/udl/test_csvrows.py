"""Records -> CSV lines: UDL records take the fast orjson path; columns seen by pages
encoded in parallel stay one append-only list (historical-download.md "Chunking and the
artifact")."""

from __future__ import annotations

import datetime as dt

import orjson

from swxsoc_reach.synthetic import SyntheticOptions, iter_records
from swxsoc_reach.udl.csvrows import CsvColumns, _encode_fast, encode_csv


def test_csv_encoding_of_udl_records_takes_the_fast_path() -> None:
    records = list(iter_records(dt.date(2026, 1, 1), SyntheticOptions(sensor_id="REACH-135"),
                                start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                                end=dt.datetime(2026, 1, 1, 0, 1, tzinfo=dt.UTC)))
    columns = CsvColumns()
    width, text = encode_csv(records, columns, len(orjson.dumps(records)))
    assert width == len(records[0])
    assert _encode_fast(records, columns.names, columns.nested) == text
    assert columns.nested == {"seoList", "senPos"}


def test_csv_columns_adopt_a_page_that_extends_them() -> None:
    columns = CsvColumns(("id", "obTime"))
    assert columns.adopt(("id", "obTime", "lat"), frozenset())
    assert columns.adopt(("id",), frozenset({"seoList"}))  # a narrower page is padded later
    assert columns.snapshot() == (("id", "obTime", "lat"), frozenset({"seoList"}))


def test_csv_columns_refuse_a_page_that_diverged_but_learn_its_keys() -> None:
    columns = CsvColumns(("id",))
    assert columns.adopt(("id", "lat"), frozenset())  # one page added lat ...
    assert not columns.adopt(("id", "lon"), frozenset())  # ... another, from ("id",), lon
    assert columns.names == ("id", "lat", "lon")  # encoded again, it will fit
