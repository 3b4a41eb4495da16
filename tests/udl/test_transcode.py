"""The C transcoder (``_transcode.c``) against the Python path it stands in for
(historical-download.md "Chunking and the artifact"): whenever ``transcode_page`` takes a
page, its outcome and spool file are ``process_page``'s; whenever it declines, it writes
nothing and ``process_page`` decides (and raises for a bad body, as before)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, replace
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pytest
from transcode_support import assert_same_cells, parsed_rows, spool

from swxsoc_reach.errors import UdlError
from swxsoc_reach.synthetic import SyntheticOptions, iter_records
from swxsoc_reach.udl.chunks import Window, format_udl_time
from swxsoc_reach.udl.pages import (
    PageJob,
    PageOutcome,
    TruncatedAnswerError,
    process_page,
    transcode_page,
)

DAY = dt.date(2026, 1, 1)
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
POOL_S = 40
WINDOW = Window(T0, T0 + dt.timedelta(seconds=POOL_S))  # holds every pool record
SEEDS = range(300)

# strings Python's fast CSV path writes as orjson does (so the bytes compare) ...
SAFE_TEXT = ("", "a,b", "x]", "y}", "null", "a b  c", "(1,2)", "true", "1.5", "-")
# ... strings it may leave to csv.writer (a "],[", an opening bracket outside a nested
# cell while one holds ",[" or ",{"): the same cells
UNSAFE_TEXT = ("],[", "a,[b", "c,{d", "[1],[2]", "[x]", "{y}")
# strings JSON writes with an escape: the C path declines them in a plain CSV cell
ESCAPED_TEXT = ('say "hi"', "back\\slash", "line\nbreak", "tab\there", "\x01", "a/b\"")
NEW_KEYS = ("extraNum", "extraText", "extraFlag", "extraList")  # extraList: always nested


@cache
def pool() -> tuple[dict[str, Any], ...]:
    """Synthetic UDL records of the day's first 40 s, in time order."""
    options = SyntheticOptions(fractional_seconds=True, missing_id_fraction=0.1,
                               extra_keys=True)
    end = T0 + dt.timedelta(seconds=POOL_S - 1)
    return tuple(iter_records(DAY, options, start=T0, end=end))


def base_keys() -> tuple[str, ...]:
    """The day's columns: a full record's keys in order."""
    return tuple(max(pool(), key=len))


def base_nested() -> frozenset[str]:
    """The columns whose values are lists or objects."""
    return frozenset(k for k, v in max(pool(), key=len).items() if isinstance(v, list | dict))


def udl_time(moment: dt.datetime) -> str:
    """UDL's canonical form."""
    return format_udl_time(moment)


# ---- the random pages ------------------------------------------------------------------


@dataclass
class Page:
    """A generated answer page and what the C path must do with it."""

    records: list[dict[str, Any]]
    window: Window
    seen: frozenset[Any]
    ids_from: int
    columns: tuple[str, ...]
    nested: frozenset[str]
    compression: str
    plain: bool  # Python's fast CSV path encodes it: the C bytes compare cell by cell
    broken: bool  # process_page raises (a record without obTime)


def random_number(rng: random.Random) -> int | float:
    """An int or float of every shape, with at most two exponent digits."""
    kind = rng.randrange(5)
    if kind == 0:
        return rng.randint(-1000, 1000)
    if kind == 1:
        return rng.randint(-(2**62), 2**62)
    if kind == 2:
        return round(rng.uniform(-1000, 1000), rng.randint(0, 6))
    if kind == 3:
        return rng.choice((1, -1)) * rng.uniform(1, 10) * 10.0 ** rng.randint(-40, 40)
    return rng.choice((0.0, -0.0, 1e16, 1.5e20, 1e-7, 123456789.125, 5e-5, 2.5e-99))


def random_nested(rng: random.Random, rough: bool) -> tuple[Any, bool]:
    """A list or object, and whether Python's fast CSV path encodes it (only when not
    ``rough``)."""
    text = rng.choice(SAFE_TEXT)
    choices: list[tuple[Any, bool]] = [
        ([], True), ({}, True), ([1, 2.5, None, True, False], True),
        ({"a": text, "b": [1, {"c": "]"}], "d": None}, True),
        (["{", "}", "[", "]", ",", text], True),
        ([{"k": text, "v": random_number(rng)}, {"k": "", "v": []}], True),
    ]
    if rough:
        choices += [
            ([[1], [2]], False),  # "],[" inside the cell
            ({"s": rng.choice(UNSAFE_TEXT)}, False),
            ([rng.choice(ESCAPED_TEXT)], False),  # an escape inside a nested value
        ]
    return rng.choice(choices)


@cache
def random_page(seed: int) -> Page:
    """Pool records around a random window, then mutated: always in ways the C path
    takes and Python's fast CSV path encodes; on ``rough`` pages in ways Python leaves
    to ``csv.writer``; on ``odd`` pages in ways the C path declines (some of them)."""
    rng = random.Random(seed)
    rough, odd = rng.random() < 0.3, rng.random() < 0.25
    start = T0 + dt.timedelta(seconds=rng.randint(3, 28), milliseconds=rng.choice((0, 0, 137)))
    end = start + dt.timedelta(seconds=rng.choice((1, 2, 5, 10)))
    window = Window(start, end)
    lo, hi = window.udl_bounds
    around = (udl_time(start - dt.timedelta(seconds=3)), udl_time(end + dt.timedelta(seconds=3)))
    candidates = [r for r in pool() if around[0] <= r["obTime"] <= around[1]]
    picked = sorted(rng.sample(range(len(candidates)), min(rng.randint(0, 30), len(candidates))))
    records = [dict(candidates[i]) for i in picked]
    plain, broken = True, False

    columns: tuple[str, ...] = ()
    nested: frozenset[str] = frozenset()
    if rng.random() < 0.4:
        columns = base_keys()[: rng.randint(0, len(base_keys()))]
        nested = frozenset(columns) & base_nested()
        if nested and rough and rng.random() < 0.5:
            nested = frozenset()  # nested values in a column not marked nested
            plain = False

    scalar_keys = [k for k in base_keys() if k not in base_nested() | {"id", "obTime"}]
    for record in records:
        if rng.random() < 0.1:
            record["obTime"] = lo
        elif rng.random() < 0.1:
            record["obTime"] = hi
        if rng.random() < 0.2:
            for key in rng.sample(sorted(record.keys() - {"obTime"}), rng.randint(1, 3)):
                del record[key]
        present = [k for k in scalar_keys if k in record] or ["lat"]
        for _ in range(rng.choice((0, 0, 1, 3))):
            key, roll = rng.choice(present), rng.random()
            if roll < 0.25:
                record[key] = None
            elif roll < 0.4:
                record[key] = rng.choice((True, False))
            elif roll < 0.7:
                record[key] = random_number(rng)
            elif roll < 0.9 or not rough:
                record[key] = rng.choice(SAFE_TEXT)
            else:
                record[key] = rng.choice(UNSAFE_TEXT)
                plain = False
        if rng.random() < 0.1:  # a nested column's value replaced
            key = rng.choice(sorted(base_nested()))
            if rng.random() < 0.5:
                record[key], fast = random_nested(rng, rough)
                plain = plain and fast
            elif rough or key in nested:  # else its first sight may be no container
                record[key] = rng.choice((None, 1, "text"))
        if rough and rng.random() < 0.1:  # a container in a plain column
            record[rng.choice(present)], _ = random_nested(rng, rough)
            plain = False
        if rng.random() < 0.25:  # a new key, anywhere
            key = rng.choice(NEW_KEYS)
            value: Any
            if key == "extraList":
                value, fast = random_nested(rng, rough)
                plain = plain and fast
            elif key == "extraNum":
                value = random_number(rng)
            elif key == "extraText":
                value = rng.choice(SAFE_TEXT)
            else:
                value = rng.choice((True, False, None))
            items = list(record.items())
            items.insert(rng.randint(0, len(items)), (key, value))
            record.clear()
            record.update(items)
        if rng.random() < 0.05:
            record["id"] = None
        if not odd:
            continue
        if rng.random() < 0.05:  # an escape in a plain string: the C path declines CSV
            record[rng.choice(present)] = rng.choice(ESCAPED_TEXT)
        if rng.random() < 0.05:
            record["id"] = rng.randint(0, 10**6)  # declined when ids are looked at
        if rng.random() < 0.02:  # same instant, not UDL's form: the C path declines
            record["obTime"] = record["obTime"][:23] + "000Z"
        if rng.random() < 0.01:
            del record["obTime"]
            broken = True
    records.sort(key=lambda r: str(r.get("obTime")))
    for i in range(len(records)):  # ids and records given twice
        if rng.random() < 0.08:
            records[i]["id"] = rng.choice(records).get("id")
        if rng.random() < 0.04:
            records.insert(i, dict(records[i]))
    if odd and rng.random() < 0.2:
        rng.shuffle(records)  # declined when the window's records come out of order

    seen: frozenset[Any] = frozenset()
    if rng.random() < 0.35:
        ids = [r["id"] for r in records if isinstance(r.get("id"), str)]
        seen = frozenset([*rng.sample(ids, len(ids) // 2), "not-in-this-page"])
    ids_from = rng.choice((0, 1, len(records), len(records) + 1, 10**9))
    compression = "zstd" if rng.random() < 0.15 else "none"
    return Page(records, window, seen, ids_from, columns, nested, compression, plain, broken)


def needs_escape(text: str) -> bool:
    """JSON writes ``text`` with a backslash escape."""
    return orjson.dumps(text) != b'"' + text.encode() + b'"'


def c_declines(page: Page, output_format: str) -> bool:
    """What ``_transcode.c``'s top comment says it leaves to Python, for these records."""
    times = [r.get("obTime") for r in page.records]
    if any(not isinstance(t, str) or len(t) != 24 or t[19] != "." or t[23] != "Z"
           for t in times):
        return True
    lo, hi = page.window.udl_bounds
    kept = [r for r in page.records if lo <= r["obTime"] < hi]
    if any(a["obTime"] > b["obTime"] for a, b in pairwise(kept)):
        return True
    if page.seen or len(page.records) >= page.ids_from:
        ids = [r["id"] for r in kept if r.get("id") is not None]
        if any(not isinstance(i, str) or needs_escape(i) for i in ids):
            return True
        kept = [r for r in kept if r.get("id") not in page.seen]
    return output_format == "csv" and any(
        isinstance(v, str) and needs_escape(v) for r in kept for v in r.values())


# ---- comparing the two paths -----------------------------------------------------------


def raw_cells(line: bytes) -> list[bytes]:
    """A CSV line's cells as written (quotes kept)."""
    cells, start, quoted = [], 0, False
    for i, byte in enumerate(line):
        if byte == ord('"'):
            quoted = not quoted
        elif byte == ord(",") and not quoted:
            cells.append(line[start:i])
            start = i + 1
    cells.append(line[start:])
    return cells


def run_c(body: bytes, job: PageJob, path: Path) -> tuple[PageOutcome | None, bytes | None]:
    """The C path's outcome and spool data."""
    job = replace(job, path=path)
    return transcode_page(body, job), spool(path, job.compression)


def assert_page_matches(page: Page, output_format: str, tmp_path: Path, tally: Counter[str],
                        tag: str) -> None:
    """Both paths on the page, its body compact and pretty-printed."""
    job = PageJob(page.window, tmp_path / f"{tag}-py", output_format, page.seen, page.ids_from,
                  page.columns, page.nested, page.compression)
    compact = orjson.dumps(page.records)
    pretty = orjson.dumps(page.records, option=orjson.OPT_INDENT_2)
    c_compact = run_c(compact, job, tmp_path / f"{tag}-c")
    c_pretty = run_c(pretty, job, tmp_path / f"{tag}-cp")
    assert c_pretty == c_compact  # whitespace changes nothing
    outcome, c_data = c_compact
    if c_declines(page, output_format):
        assert outcome is None
        assert c_data is None
        tally["declined"] += 1
        if page.broken:
            with pytest.raises(UdlError):
                process_page(compact, job)
        else:
            process_page(compact, job)
        return
    assert outcome is not None, f"declined a common page (seed {tag})"
    tally["taken"] += 1
    py = process_page(compact, job)
    py_data = spool(job.path, job.compression)
    assert outcome == py
    assert (c_data is None) == (py_data is None) == (py.kept == 0)
    if c_data is None or py_data is None:
        tally["taken_empty"] += 1
        return
    tally[f"taken_{page.compression}"] += 1
    tally["repeated"] += outcome.repeated > 0
    tally["ids"] += outcome.ids is not None
    if output_format == "json":
        assert c_data == py_data
        tally["json_identical"] += 1
        return
    tally["grew"] += len(outcome.columns) > len(page.columns)
    tally["nested_grew"] += bool(outcome.nested - page.nested)
    assert_same_cells(c_data, py_data)
    if page.plain:  # Python's fast path: the very same bytes
        assert c_data == py_data
        tally["csv_plain"] += 1


def test_transcode_page_matches_process_page_on_random_pages(tmp_path: Path) -> None:
    """300 seeded pages, CSV and JSON: declined exactly when documented, else the same."""
    tally: Counter[str] = Counter()
    for seed in SEEDS:
        page = random_page(seed)
        for output_format in ("csv", "json"):
            assert_page_matches(page, output_format, tmp_path, tally, f"{seed}-{output_format}")
    print(dict(tally))
    assert tally["taken"] > 1.5 * len(SEEDS)  # the common case is the C path's
    assert tally["declined"] >= 20
    assert tally["taken_empty"] >= 10
    assert tally["taken_zstd"] >= 20
    assert tally["csv_plain"] >= 100
    assert tally["json_identical"] >= 100
    assert tally["repeated"] >= 20
    assert tally["ids"] >= 50
    assert tally["grew"] >= 50
    assert tally["nested_grew"] >= 50


def test_random_pages_cover_the_awkward_cases() -> None:
    """The generator does produce each case the comparison is meant to meet."""
    pages = [random_page(seed) for seed in SEEDS]
    records = [r for page in pages for r in page.records]
    values = [v for r in records for v in r.values()]
    assert any(not page.records for page in pages)
    assert sum(not page.plain for page in pages) >= 30
    assert sum(page.broken for page in pages) >= 1
    assert sum(page.seen != frozenset() for page in pages) >= 50
    assert sum(page.ids_from > len(page.records) for page in pages) >= 50
    assert sum(page.ids_from <= len(page.records) for page in pages) >= 50
    assert sum(page.columns == () for page in pages) >= 50
    assert sum(0 < len(page.columns) < len(base_keys()) for page in pages) >= 30
    times = [(r.get("obTime", ""), *p.window.udl_bounds) for p in pages for r in p.records]
    assert sum(when == lo for when, lo, _ in times) >= 20
    assert sum(when == hi for when, _, hi in times) >= 20
    assert sum(when < lo for when, lo, _ in times) >= 200
    assert sum(when >= hi for when, _, hi in times) >= 200
    for kind in (bool, int, float, list, dict, type(None)):
        assert sum(type(v) is kind for v in values) >= 20, kind
    assert sum(type(v) is float and "e" in orjson.dumps(v).decode() for v in values) >= 20
    assert sum(isinstance(v, int) and not isinstance(v, bool) and v < 0 for v in values) >= 20
    for text in (*SAFE_TEXT, *UNSAFE_TEXT):
        assert text in values, text
    assert sum(isinstance(v, str) and needs_escape(v) for v in values) >= 10
    assert sum(k in r for k in NEW_KEYS for r in records) >= 100
    assert sum(isinstance(r.get("id"), int) for r in records) >= 20


# ---- declines ----------------------------------------------------------------------


def record(**fields: Any) -> bytes:
    """A small record in UDL's shape, as compact JSON (``fields`` override or add)."""
    base: dict[str, Any] = {"id": "a", "obTime": "2026-01-01T00:00:01.000Z", "lat": 1.5,
                            "name": "x", "seoList": [{"v": 1}]}
    return orjson.dumps({**base, **fields})


def page_of(*records: bytes) -> bytes:
    """A JSON array of the records given."""
    return b"[" + b",".join(records) + b"]"


def with_raw(name_value: bytes) -> bytes:
    """A one-record page whose ``name`` field is ``name_value`` exactly (raw JSON)."""
    return page_of(record().replace(b'"name":"x"', name_value))


def deep(levels: int) -> bytes:
    """A one-record page with ``levels`` nested arrays in a value."""
    return page_of(record(seoList=None).replace(b'"seoList":null',
                                                b'"seoList":' + b"[" * levels + b"]" * levels))


LATER = record(id="b", obTime="2026-01-01T00:00:02.000Z")
DECLINED: list[tuple[str, bytes, dict[str, Any], bool]] = [  # name, body, job, Python raises
    ("object", record(), {}, False),
    ("empty_body", b"", {}, False),
    ("blank_body", b" \n\t", {}, False),
    ("fraction_of_6_digits", page_of(record(obTime="2026-01-01T00:00:01.000000Z")), {}, False),
    ("no_z", page_of(record(obTime="2026-01-01T00:00:01.000")), {}, False),
    ("offset_zone", page_of(record(obTime="2026-01-01T00:00:01.000+00:00")), {}, False),
    ("non_canonical_outside_window",
     page_of(record(obTime="2025-12-31T23:59:59.000000Z"), LATER), {}, False),
    ("unsorted", page_of(LATER, record()), {}, False),
    ("escaped_key", with_raw(b'"na\\u006de":"x"'), {}, False),
    ("duplicate_key", with_raw(b'"name":"x","name":"y"'), {}, False),
    ("duplicate_obtime_key_last_in_window",
     page_of(record(obTime="2027-01-01T00:00:00.000Z").replace(
         b'"name":"x"', b'"obTime":"2026-01-01T00:00:03.000Z"')), {}, False),
    ("raw_utf8", with_raw('"name":"é"'.encode()), {}, False),
    ("raw_utf8_outside_window", page_of(record(obTime="2025-01-01T00:00:00.000Z", name="é"),
                                        LATER), {}, False),
    ("numeric_id_with_seen", page_of(record(id=5)), {"seen": frozenset({"b"})}, False),
    ("numeric_id_with_ids_asked", page_of(record(id=5)), {"ids_from": 1}, False),
    ("true_id_with_ids_asked", page_of(record(id=True)), {"ids_from": 0}, False),
    ("escaped_id_with_ids_asked", page_of(record(id='a"b')), {"ids_from": 1}, False),
    ("lone_surrogate", with_raw(b'"name":"\\ud800"'), {}, True),
    ("paired_surrogate", with_raw(b'"name":"\\ud83d\\ude00"'), {}, False),
    ("surrogate_in_nested", page_of(record(seoList=None).replace(
        b'"seoList":null', b'"seoList":["\\uDBFF\\uDFFF"]')), {}, False),
    ("huge_exponent", with_raw(b'"name":1e400'), {}, True),
    ("three_exponent_digits", with_raw(b'"name":1e-400'), {}, False),
    ("long_number", with_raw(b'"name":' + b"1" * 70), {}, False),
    ("nan", with_raw(b'"name":NaN'), {}, True),
    ("infinity", with_raw(b'"name":-Infinity'), {}, True),
    ("leading_zero", with_raw(b'"name":01'), {}, True),
    ("bare_fraction", with_raw(b'"name":.5'), {}, True),
    ("plus_sign", with_raw(b'"name":+1'), {}, True),
    ("trailing_garbage", page_of(record()) + b" x", {}, True),
    ("two_arrays", page_of(record()) + page_of(record()), {}, True),
    ("extra_bracket", page_of(record()) + b"]", {}, True),
    ("trailing_comma", page_of(record(), b""), {}, True),
    ("deeper_than_16", deep(17), {}, True),  # pagebounds.MAX_DEPTH
    ("far_deeper", deep(1000), {}, True),
    ("not_objects", b"[1,2]", {}, True),
    ("record_and_number", page_of(record(), b"3"), {}, True),
    ("no_obtime", page_of(record().replace(b'"obTime":"2026-01-01T00:00:01.000Z",', b"")),
     {}, True),
    ("null_obtime", page_of(record(obTime=None)), {}, True),
    ("number_obtime", page_of(record(obTime=5)), {}, True),
    ("escaped_obtime", page_of(record().replace(b'01.000Z"', b'01.000\\u005a"')), {}, False),
    ("control_character", with_raw(b'"name":"a\x01b"'), {}, True),
    ("form_feed_between_tokens", b"[\x0c" + record() + b"]", {}, True),
    ("long_key", with_raw(b'"' + b"k" * 300 + b'":1'), {}, False),
    ("misspelt_word", with_raw(b'"name":tru'), {}, True),
]
CSV_ONLY: list[tuple[str, bytes, dict[str, Any], bool]] = [  # JSON: taken (see below)
    ("newline_escape", with_raw(b'"name":"a\\nb"'), {}, False),
    ("quote_escape", with_raw(b'"name":"a\\"b"'), {}, False),
    ("backslash_escape", with_raw(b'"name":"a\\\\b"'), {}, False),
    ("unicode_escape", with_raw(b'"name":"\\u00e9"'), {}, False),
    ("solidus_escape", with_raw(b'"name":"a\\/b"'), {}, False),
    ("escape_in_the_id_not_looked_at", page_of(record(id='a"b')), {"ids_from": 2}, False),
]
CASES = [pytest.param(*c[1:], fmt, id=f"{c[0]}-{fmt}")
         for fmt in ("csv", "json") for c in DECLINED]
CASES += [pytest.param(*c[1:], "csv", id=c[0]) for c in CSV_ONLY]


@pytest.mark.parametrize(("body", "fields", "raises", "output_format"), CASES)
def test_transcode_page_declines_and_writes_nothing_when_not_the_common_case(
        tmp_path: Path, body: bytes, fields: dict[str, Any], raises: bool,
        output_format: str) -> None:
    """None and no spool file; ``process_page`` then decides as it always did."""
    job = replace(PageJob(WINDOW, tmp_path / "c", output_format), **fields)
    assert transcode_page(body, job) is None
    assert not job.path.exists()
    job = replace(job, path=tmp_path / "py")
    if raises:
        with pytest.raises(UdlError):
            process_page(body, job)
    else:
        process_page(body, job)


@pytest.mark.parametrize("pretty", [False, True])
def test_transcode_page_declines_every_cut_of_a_page(tmp_path: Path, pretty: bool) -> None:
    """A body cut at any byte is declined (the whole one taken), and Python finds it cut."""
    body = orjson.dumps(list(pool()[:3]), option=orjson.OPT_INDENT_2 if pretty else None)
    if pretty:
        body += b"\n"
    job = PageJob(WINDOW, tmp_path / "c", "csv", ids_from=0)
    whole = process_page(body, replace(job, path=tmp_path / "py"))
    taken = 0
    for cut in range(len(body) + 1):
        prefix = body[:cut]
        outcome = transcode_page(prefix, job)
        if prefix.rstrip() == body.rstrip():
            assert outcome == whole
            job.path.unlink()
            taken += 1
            continue
        assert outcome is None, cut
        assert not job.path.exists()
        if prefix:
            with pytest.raises(TruncatedAnswerError):
                process_page(prefix, job)
    assert taken == (2 if pretty else 1)


@pytest.mark.parametrize("body", [b"[]", b" [ ]\n", b"\r\n[\t]"])
@pytest.mark.parametrize("ids_from", [0, 1])
@pytest.mark.parametrize("output_format", ["csv", "json"])
def test_transcode_page_takes_an_empty_array_as_process_page_does(
        tmp_path: Path, body: bytes, ids_from: int, output_format: str) -> None:
    """No record: answered 0, the given columns back, ids only when asked for."""
    job = PageJob(WINDOW, tmp_path / "c", output_format, ids_from=ids_from,
                  columns=("id", "obTime", "seoList"), nested=frozenset({"seoList"}))
    outcome = transcode_page(body, job)
    assert outcome == process_page(body, replace(job, path=tmp_path / "py"))
    assert outcome == PageOutcome(0, 0, frozenset() if ids_from == 0 else None,
                                  job.columns, job.nested)
    assert not job.path.exists()
    assert not (tmp_path / "py").exists()


# ---- taken, with documented differences -------------------------------------------------


def both(body: bytes, job: PageJob, tmp_path: Path) -> tuple[PageOutcome, bytes, bytes]:
    """Both paths' (equal) outcome and their spool files."""
    c_job, py_job = replace(job, path=tmp_path / "c"), replace(job, path=tmp_path / "py")
    outcome = transcode_page(body, c_job)
    assert outcome is not None
    assert outcome == process_page(body, py_job)
    c_data, py_data = spool(c_job.path, job.compression), spool(py_job.path, job.compression)
    return outcome, c_data or b"", py_data or b""


TAKEN = [
    ("escapes_in_json", with_raw(b'"name":"a\\nb\\"c\\\\d\\u00e9\\/e\\u0001"'), "json", {}),
    ("escape_outside_window",
     page_of(record(obTime="2025-01-01T00:00:00.000Z", name='a"b'), LATER), "csv", {}),
    ("escape_in_a_seen_record", page_of(record(name='a"b'), LATER), "csv",
     {"seen": frozenset({"a"})}),
    ("duplicate_key_outside_window",
     page_of(record(obTime="2027-01-01T00:00:00.000Z").replace(b'"name":"x"',
                                                               b'"name":"x","name":"y"'),
             LATER), "csv", {}),
    ("duplicate_obtime_key_last_outside_window",
     page_of(record().replace(b'"name":"x"', b'"obTime":"2027-01-01T00:00:00.000Z"'), LATER),
     "csv", {}),
    ("numeric_ids_not_looked_at", page_of(record(id=5), LATER.replace(b'"b"', b"7")), "csv",
     {"ids_from": 3}),
    ("null_id_with_seen", page_of(record(id=None), LATER), "csv",
     {"seen": frozenset({"b"}), "ids_from": 0}),
    ("same_id_twice", page_of(record(), record(obTime="2026-01-01T00:00:02.000Z")), "csv",
     {"ids_from": 0}),
    ("depth_16", deep(16), "csv", {}),
    ("odd_whitespace",
     orjson.dumps(orjson.loads(page_of(record(name="a  b"), LATER)),
                  option=orjson.OPT_INDENT_2).replace(b"\n", b"\r\n\t "), "csv", {}),
    ("raw_del_byte", with_raw(b'"name":"a\x7fb"'), "csv", {}),
    ("garbage_canonical_time", page_of(record(obTime="2026-01-01 00:00:01.000Z"), LATER),
     "csv", {}),
    ("window_edges", page_of(record(obTime=udl_time(WINDOW.start)),
                             record(id="b", obTime=udl_time(WINDOW.end))), "csv", {}),
    ("integers_beyond_64_bits", with_raw(b'"name":-123456789012345678901234567890'), "csv",
     {}),
    ("zstd", page_of(record(), LATER), "csv", {"compression": "zstd"}),
]


@pytest.mark.parametrize(("body", "output_format", "fields"), [
    pytest.param(*c[1:], id=c[0]) for c in TAKEN])
def test_transcode_page_takes_a_page_as_process_page_does(
        tmp_path: Path, body: bytes, output_format: str, fields: dict[str, Any]) -> None:
    """Taken: the same outcome, and the same records or cells in the spool."""
    job = replace(PageJob(WINDOW, tmp_path, output_format), **fields)
    outcome, c_data, py_data = both(body, job, tmp_path)
    assert outcome.kept > 0
    if output_format == "json":
        assert orjson.loads(b"[" + c_data + b"]") == orjson.loads(b"[" + py_data + b"]")
    else:
        assert_same_cells(c_data, py_data)
    assert outcome.kept == len(parsed_rows(c_data) if output_format == "csv"
                               else orjson.loads(b"[" + c_data + b"]"))


def test_transcode_page_zstd_spool_holds_the_uncompressed_data(tmp_path: Path) -> None:
    """A zstd spool is one frame of what the uncompressed spool holds."""
    body = orjson.dumps(list(pool()[:20]))
    plain = PageJob(WINDOW, tmp_path / "none", "csv")
    packed = replace(plain, path=tmp_path / "zstd", compression="zstd")
    assert transcode_page(body, plain) == transcode_page(body, packed)
    assert packed.path.read_bytes() != plain.path.read_bytes()
    assert spool(packed.path, "zstd") == plain.path.read_bytes()


def test_transcode_page_keeps_escapes_inside_nested_values_when_csv(tmp_path: Path) -> None:
    """Nested values with escapes stay in C (one quoted JSON cell), as Python's csv writes."""
    seo = [{"obDescription": 'say "hi", \\ [ok]', "n": "a\nb", "u": "\x01"}, "],["]
    body = page_of(record(seoList=seo), record(id="b", obTime="2026-01-01T00:00:02.000Z",
                                               lat={"x": 'q"'}))
    body = body.replace(b'"\\u0001"', b'"\\u00e9\\u0001"')  # ASCII, escaped
    seo[0]["u"] = "\u00e9\x01"
    job = PageJob(WINDOW, tmp_path, "csv", columns=("id", "obTime"))
    outcome, c_data, py_data = both(body, job, tmp_path)
    assert outcome.nested == {"seoList", "lat"}
    assert c_data != py_data  # csv.writer's form for Python: unquoted plain strings
    assert_same_cells(c_data, py_data)
    c_rows, py_rows = parsed_rows(c_data), parsed_rows(py_data)
    column = outcome.columns.index("seoList")
    assert orjson.loads(c_rows[0][column]) == orjson.loads(py_rows[0][column]) == seo
    column = outcome.columns.index("lat")
    assert orjson.loads(c_rows[1][column]) == orjson.loads(py_rows[1][column]) == {"x": 'q"'}


def test_transcode_page_writes_numbers_verbatim(tmp_path: Path) -> None:
    """``1.50`` and ``1E5`` stay as written in C, orjson writes ``1.5`` and ``100000.0``:
    the same numbers."""
    body = page_of(record().replace(b'"lat":1.5', b'"lat":1.50,"alt":1E5,"neg":-0'))
    job = PageJob(WINDOW, tmp_path, "csv")
    outcome, c_data, py_data = both(body, job, tmp_path)
    (c_row,), (py_row,) = parsed_rows(c_data), parsed_rows(py_data)
    at = {name: outcome.columns.index(name) for name in ("lat", "alt", "neg")}
    assert [c_row[at["lat"]], c_row[at["alt"]], c_row[at["neg"]]] == ["1.50", "1E5", "-0"]
    assert [py_row[at["lat"]], py_row[at["alt"]], py_row[at["neg"]]] == ["1.5", "100000.0", "0"]
    json_job = replace(job, output_format="json")
    _, c_json, py_json = both(body, json_job, tmp_path)
    assert b'"lat":1.50,"alt":1E5' in c_json
    assert orjson.loads(c_json) == orjson.loads(py_json)


def test_transcode_page_grows_given_columns_in_order_of_first_sight(tmp_path: Path) -> None:
    """New keys extend ``job.columns`` as each record first shows them, as in Python."""
    first = orjson.dumps({"obTime": "2026-01-01T00:00:01.000Z", "lat": 1, "id": "a",
                          "senPos": [1, 2]})
    second = orjson.dumps({"zeta": None, "id": "b", "obTime": "2026-01-01T00:00:02.000Z",
                           "alpha": "x", "lat": 2})
    job = PageJob(WINDOW, tmp_path, "csv", columns=("id", "obTime"))
    outcome, c_data, py_data = both(page_of(first, second), job, tmp_path)
    assert outcome.columns == ("id", "obTime", "lat", "senPos", "zeta", "alpha")
    assert outcome.nested == {"senPos"}
    assert_same_cells(c_data, py_data)
    assert parsed_rows(c_data) == [["a", "2026-01-01T00:00:01.000Z", "1", "[1,2]", "", ""],
                                   ["b", "2026-01-01T00:00:02.000Z", "2", "", "", "x"]]


def test_transcode_page_writes_null_cells_as_process_page_does(tmp_path: Path) -> None:
    """Byte for byte: a null and an absent value."""
    body = (b'[{"id":"a","obTime":"2026-01-01T00:00:01.000Z","x":1,"y":null},'
            b'{"id":"b","obTime":"2026-01-01T00:00:02.000Z","x":2}]')
    _, c_data, py_data = both(body, PageJob(WINDOW, tmp_path, "csv"), tmp_path)
    assert c_data == py_data
