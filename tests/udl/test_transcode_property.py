"""Differential property test of the page decoder (issue 20.7): hypothesis builds and
mutates answer pages from real-shaped ones (``synthetic``), and on every page the C path
(``transcode_page``) either agrees with the Python path (``process_page``) or declines;
Python either takes the page or raises ``UdlError``; no call takes over BOUND_S.

About 30 s on an idle machine (1,500 examples); ``REACH_FUZZ_EXAMPLES=20000`` for a
longer hunt, ``REACH_FUZZ_SHRINK=1`` to shrink a failing page.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from transcode_support import assert_same_cells, spool, timed

from swxsoc_reach.errors import UdlError
from swxsoc_reach.synthetic import SyntheticOptions, iter_records
from swxsoc_reach.udl import pagebounds
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.pages import PageJob, PageOutcome, process_page, transcode_page

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
BOUND_S = 2.0  # a call's time, measured (the slowest page here takes ~50 ms)
EXAMPLES = int(os.environ.get("REACH_FUZZ_EXAMPLES", "1500"))
# shrinking a failure can take minutes on a loaded machine: the unshrunk page is printed
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + (
    [Phase.shrink] if os.environ.get("REACH_FUZZ_SHRINK") else [])


@cache
def pool() -> tuple[bytes, ...]:
    """Real-shaped records of the day's first 30 s (each as JSON)."""
    options = SyntheticOptions(fractional_seconds=True, missing_id_fraction=0.1,
                               extra_keys=True)
    end = T0 + dt.timedelta(seconds=29)
    return tuple(orjson.dumps(r) for r in iter_records(T0.date(), options, start=T0, end=end))


def keys_of_a_record() -> tuple[str, ...]:
    return tuple(max((orjson.loads(r) for r in pool()), key=len))


# ---- strategies -------------------------------------------------------------------------

ODD_TIMES = [
    "2026-01-01T00:00:05.000000Z", "2026-01-01T00:00:05.000", "2026-01-01T00:00:05+00:00",
    "2026-01-01T01:00:05+01:00", "2026-01-01T00:00:05+99:00", "2026-02-31T00:00:05+01:00",
    "2026-01-01 00:00:05.000Z", "2026-01-01T00:00:05Z", "2026-01-01", "yesterday", "",
    "2026-01-01T00:00:05.000\u00e9", "\u0662\u0660\u0662\u0666-01-01T00:00:05Z", 5, 1.5, None,
    True, [], {}, ["2026-01-01T00:00:05.000Z"], "9999-12-31T23:59:59.999Z",
]
scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=8)
RAW_SNIPPETS = [  # byte-level: escapes, surrogates, odd numbers, bytes, structure
    b'"\\ud800"', b'"\\ud83d\\ude00"', b'"\\u0000"', b'"a\\"b"', b'"\\/"', b"1e400", b"1E5",
    b"-0", b"1.50", b"NaN", b"01", b"1" * 80, b'"\xc3\xa9"', b"\xff", b"\x00", b'"', b"[",
    b"{", b"}", b"]", b",", b":", b" ", b'"obTime"', b'"id":[1]', b'"id":{"a":1}',
]


@st.composite
def records(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Pool records, mutated at the value level."""
    chosen = draw(st.lists(st.sampled_from(pool()), min_size=1, max_size=40))
    out = [orjson.loads(r) for r in sorted(chosen, key=lambda r: orjson.loads(r)["obTime"])]
    names = keys_of_a_record()
    for record in out:
        mutation = draw(st.integers(0, 40))  # 0-7: a mutation, else none
        if mutation == 0:
            record[draw(st.sampled_from(names))] = draw(json_values)
        elif mutation == 1:
            record["obTime"] = draw(st.sampled_from(ODD_TIMES))
        elif mutation == 2:
            record["id"] = draw(json_values)
        elif mutation == 3:  # nesting around the bound (far past it: edit 4 of pages)
            levels = draw(st.sampled_from([pagebounds.MAX_DEPTH - 1, pagebounds.MAX_DEPTH,
                                           pagebounds.MAX_DEPTH + 1, 40]))
            value: Any = draw(scalars)
            for _ in range(levels):
                value = [value] if draw(st.booleans()) else {"k": value}
            record[draw(st.sampled_from(names))] = value
        elif mutation == 4:  # many keys, around the column bound
            count = draw(st.sampled_from([10, pagebounds.MAX_COLUMNS - len(record),
                                          pagebounds.MAX_COLUMNS, 3000]))
            record.update((f"x{i}", i) for i in range(count))
        elif mutation == 5:  # long keys
            record["k" * draw(st.sampled_from([254, 255, 256, 1000]))] = 1
        elif mutation == 6:
            del record["obTime"]
        elif mutation == 7:  # keys in another order
            items = list(record.items())
            record.clear()
            record.update(reversed(items))
    if draw(st.integers(0, 9)) == 0:
        out.reverse()
    return out


@st.composite
def pages(draw: st.DrawFn) -> tuple[bytes, PageJob]:
    """A body and a job: pool pages mutated as values, then as bytes."""
    recs = draw(records())
    if draw(st.integers(0, 4)) == 0 and recs:  # many tiny records after a wide one: the CSV blow-up
        recs[0].update((f"w{i}", 0) for i in range(draw(st.integers(100, 300))))
        recs += [{"obTime": recs[0].get("obTime")}] * draw(st.integers(0, 600))
    body = orjson.dumps(recs, option=orjson.OPT_INDENT_2 if draw(st.booleans()) else None)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2, 3]))):
        at = draw(st.integers(0, len(body)))
        edit = draw(st.integers(0, 4))
        if edit == 0:
            body = body[:at]  # truncated
        elif edit == 1:
            body = body[:at] + draw(st.sampled_from(RAW_SNIPPETS)) + body[at:]
        elif edit == 2:
            body = body[:at] + body[at + draw(st.integers(1, 40)):]
        elif edit == 3 and b'"lat":' in body:  # a key twice in a record
            body = body.replace(b'"lat":', b'"lat":1,"lat":', 1)
        elif edit == 4 and b"{" in body:  # objects deep at the record's start
            levels = draw(st.integers(1, 1100))
            body = body.replace(b"{", b'{"deep":' + b"[" * levels + b"]" * levels + b",", 1)
    start = T0 + dt.timedelta(seconds=draw(st.integers(0, 25)))
    window = Window(start, start + dt.timedelta(seconds=draw(st.sampled_from([30, 30, 2]))))
    ids = [r.get("id") for r in recs if isinstance(r, dict) and isinstance(r.get("id"), str)]
    seen = frozenset(draw(st.lists(st.sampled_from(ids), max_size=3))) if ids else frozenset()
    columns: tuple[str, ...] = draw(st.sampled_from(
        [(), keys_of_a_record()[:5], keys_of_a_record(),
         tuple(f"c{i}" for i in range(pagebounds.MAX_COLUMNS + 1))]))
    job = PageJob(window, Path("unused"), draw(st.sampled_from(["csv", "json"])), seen,
                  draw(st.sampled_from([0, 1, 10**9])), columns,
                  frozenset(columns) & {"seoList", "senPos"})
    return body, job


# ---- the property -------------------------------------------------------------------------


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, phases=PHASES, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pages())
def test_c_path_agrees_with_python_or_declines_in_bounded_time(page: tuple[bytes, PageJob],
                                                               ) -> None:
    body, job = page
    with tempfile.TemporaryDirectory() as tmp:
        c_job = PageJob(job.window, Path(tmp, "c"), *_rest(job))
        py_job = PageJob(job.window, Path(tmp, "py"), *_rest(job))
        c_outcome, c_s = timed(lambda: transcode_page(body, c_job))
        py_outcome, py_s = timed(lambda: process_page(body, py_job))
        assert c_s < BOUND_S and py_s < BOUND_S, (c_s, py_s)
        assert c_outcome is None or isinstance(c_outcome, PageOutcome), repr(c_outcome)
        assert py_outcome is None or isinstance(py_outcome, PageOutcome | UdlError), (
            repr(py_outcome))
        if isinstance(py_outcome, UdlError):
            assert "\n" not in str(py_outcome)
        c_did = "declined" if c_outcome is None else "took"
        event(f"python {type(py_outcome).__name__}, C {c_did}")
        if c_outcome is None:
            assert not c_job.path.exists()  # declined: nothing written
            return
        assert c_outcome == py_outcome
        c_data, py_data = spool(c_job.path), spool(py_job.path)
        assert (c_data is None) == (py_data is None)
        event("C took, spool: " + ("none" if c_data is None else
                                   "identical" if c_data == py_data else "same cells"))
        if c_data is None or py_data is None or c_data == py_data:
            return
        if job.output_format == "json":
            assert orjson.loads(b"[" + c_data + b"]") == orjson.loads(b"[" + py_data + b"]")
        else:
            assert_same_cells(c_data, py_data)


def _rest(job: PageJob) -> tuple[Any, ...]:
    return (job.output_format, job.seen, job.ids_from, job.columns, job.nested)
