"""Bad artifacts fail with a one-line InputDataError naming the file and the problem
(l1c-cdf.md "From records to arrays"; udl.md "A REACH record")."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from swxsoc_reach.cdf import process_file
from swxsoc_reach.errors import InputDataError
from swxsoc_reach.synthetic import SyntheticOptions

ONE_SENSOR = SyntheticOptions(sensor_id="REACH-135")


def drop_column(path: Path, column: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(), newline="")))
    keep = [i for i, name in enumerate(rows[0]) if name != column]
    out = io.StringIO(newline="")
    csv.writer(out).writerows([[row[i] for i in keep] for row in rows])
    path.write_text(out.getvalue())


def edit_record(index: int, **changes: object) -> Callable[[list[dict]], list[dict]]:
    def edit(records: list[dict]) -> list[dict]:
        records[index] = {**records[index], **changes}
        return records

    return edit


def edit_observation(index: int, **changes: object) -> Callable[[list[dict]], list[dict]]:
    def edit(records: list[dict]) -> list[dict]:
        seo = records[index]["seoList"][0]
        records[index] = {**records[index], "seoList": [{**seo, **changes}]}
        return records

    return edit


def truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@dataclasses.dataclass(frozen=True)
class Case:
    """How to spoil an artifact, and a word the error message must contain."""

    expect: str
    output_format: str = "csv"
    edit: Callable[[list[dict]], list[dict]] | None = None
    after: Callable[[Path], None] | None = None
    options: SyntheticOptions = ONE_SENSOR
    day: dt.date = dt.date(2026, 1, 1)
    sensor_id: str | None = None


CASES = {
    "empty-file": Case("empty", after=lambda p: p.write_bytes(b"")),
    "blank-file": Case("empty", after=lambda p: p.write_bytes(b" \n\n")),
    "header-only": Case("no records", after=lambda p: p.write_text(
        p.read_text().splitlines()[0] + "\n")),
    "csv-cut-mid-line": Case("truncated", after=lambda p: truncate(p, 0.5)),
    "csv-cut-in-last-line": Case("truncated", after=lambda p: p.write_bytes(
        p.read_bytes()[:-7])),
    "json-cut-mid-array": Case("not valid JSON", output_format="json",
                               after=lambda p: truncate(p, 0.5)),
    "json-empty-array": Case("no records", output_format="json",
                             after=lambda p: p.write_text("[]")),
    "json-not-records": Case("array of record objects", output_format="json",
                             after=lambda p: p.write_text("[1, 2]")),
    "missing-column": Case("missing required column(s): lat",
                           after=lambda p: drop_column(p, "lat")),
    "missing-sensor-columns": Case("idSensor or observatoryName", after=lambda p: (
        drop_column(p, "idSensor"), drop_column(p, "observatoryName"))),
    "json-missing-column": Case("missing required column(s): createdAt", output_format="json",
                                edit=lambda rs: [{k: v for k, v in r.items() if k != "createdAt"}
                                                 for r in rs]),
    "non-numeric-lat": Case("lat", edit=edit_record(3, lat="north")),
    "json-non-numeric-alt": Case("non-numeric alt 'high' in record 4", output_format="json",
                                 edit=edit_record(3, alt="high")),
    "non-numeric-obValue": Case("non-numeric seoList obValue", edit=edit_observation(
        5, obValue="lots")),
    "seoList-not-a-list": Case("seoList has no parseable obValue in record 3",
                               edit=edit_record(2, seoList="not a list")),
    "seoList-empty": Case("seoList", edit=edit_record(2, seoList=None)),
    "seoList-without-description": Case("obDescription", edit=lambda rs: edit_record(
        1, seoList=[{k: v for k, v in rs[1]["seoList"][0].items() if k != "obDescription"}])(rs)),
    "json-seoList-not-a-list": Case("record 2 has no parseable seoList[0]",
                                    output_format="json", edit=edit_record(1, seoList={})),
    "senPos-two-numbers": Case("senPos is not a list of 3 numbers in record 5",
                               edit=edit_record(4, senPos=[1.0, 2.0])),
    "senPos-non-numeric": Case("senPos is not a list of 3 numbers in record 5",
                               edit=edit_record(4, senPos=[1.0, "x", 3.0])),
    "obTime-missing": Case("obTime is missing in record 2", edit=edit_record(1, obTime=None)),
    "obTime-not-a-time": Case("obTime", edit=edit_record(1, obTime="yesterday")),
    "two-descriptors": Case("descriptors PROVISIONAL, QUICKLOOK",
                            edit=edit_record(7, descriptor="PROVISIONAL")),
    "no-record-in-day": Case("no record in day 2026-01-02", day=dt.date(2026, 1, 2)),
    "unnumbered-sensor-in-records": Case("idSensor 'POD-9' is not of the form REACH-<number>",
                                         options=SyntheticOptions(),
                                         edit=edit_record(0, idSensor="POD-9")),
    "unknown-sensor-requested": Case("unknown sensor 'REACH-999'", sensor_id="REACH-999"),
    "other-sensor-in-single-sensor-file": Case(
        "a REACH-135 artifact holds records of REACH-101",
        edit=edit_record(0, idSensor="REACH-101", observatoryName="Iridium-102")),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_process_file_rejects_bad_input_naming_file(case: Case, make_artifact, tmp_path) -> None:
    artifact = make_artifact(case.options, minutes=1, output_format=case.output_format,
                             edit=case.edit)
    if case.after is not None:
        case.after(artifact.path)
    out = tmp_path / "out"
    with pytest.raises(InputDataError) as caught:
        process_file(artifact.path, out, day=case.day, sensor_id=case.sensor_id)
    message = str(caught.value)
    assert str(artifact.path) in message
    assert case.expect in message
    assert "\n" not in message
    assert not out.exists() or not any(out.rglob("*.cdf"))


def test_process_file_rejects_missing_artifact(tmp_path) -> None:
    missing = tmp_path / "REACH-135_20260101T000000_20260102T000000.csv"
    with pytest.raises(InputDataError, match="cannot read artifact"):
        process_file(missing, tmp_path, day=dt.date(2026, 1, 1))
