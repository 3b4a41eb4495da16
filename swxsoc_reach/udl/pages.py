"""One UDL answer page -> the records of its window -> a spool file: the CPU-heavy step.

udl.md "The query", historical-download.md "Chunking and the artifact": an answer
is a JSON array of records (an object is one record, an empty body none); the
records outside the window's half-open range are dropped, and so are those a
previous page of the window already gave (by ``id``). What is left is encoded
(CSV or JSON) straight into the page's spool file, as one zstd frame when the
artifact is compressed (frames concatenate into one valid zstd stream, so
pages are compressed here, in parallel, and the merge only copies them).

Two ways, one result. ``transcode_page`` does it in C (``_transcode.c``) with the
GIL released, in the fetching thread: ~3 us a record (a 9,600-record page: 29 ms
against 180 ms for orjson and ``csvrows``), where decoding every record into Python
objects and encoding them again made a full ALL day (1.1 M records) cost 45 CPU
seconds and the download CPU-bound on 2 cores (issue 11).
It takes the common answer only (canonical ``obTime`` in time order, no escape in
a plain string, ...: the C file lists them) and leaves any other to
``process_page``, which decodes with orjson, decides (sorting, errors, truncation)
and encodes with ``csvrows``. ``process_page`` takes and returns only small
picklable values besides the body, so it runs in a worker process as well as in
the calling thread.

The C path is optional (issue 20): without a compiler at install, or in a source
tree where it was never built, ``transcode_page`` always declines and every page
takes the Python path (``note_decoder`` says so once a process, with the cost).
Either path stays within ``pagebounds``: a page past them is refused as ``UdlError``.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from swxsoc_reach.errors import UdlError
from swxsoc_reach.udl import pagebounds
from swxsoc_reach.udl.chunks import Window
from swxsoc_reach.udl.csvrows import CsvColumns, encode_csv

try:
    from swxsoc_reach.udl._transcode import transcode
except ImportError:  # not built (no compiler at install): the Python path takes every page
    transcode = None

logger = logging.getLogger(__name__)
# benchmarks/page_decode.py, a 9,600-record page (7.5 MB), same run: Python 512 ms against
# C 82 ms for CSV, 370 against 97 ms for JSON
PYTHON_PATH_COST = "about 6x (CSV) or 4x (JSON) the CPU time a page"


@functools.cache
def note_decoder() -> bool:
    """Whether the compiled page decoder is built; says once a process (INFO) when not."""
    if transcode is None:
        logger.info("compiled page decoder (swxsoc_reach.udl._transcode) not built: UDL "
                    "pages are decoded in Python, %s; install with a C compiler to build it",
                    PYTHON_PATH_COST)
    return transcode is not None


@dataclass(frozen=True)
class PageJob:
    """What to do with one answer page besides its body."""

    window: Window
    path: Path  # the spool file to write (only when a record is kept)
    output_format: str
    seen: frozenset[Any] = frozenset()  # ids the window's earlier pages gave
    ids_from: int = 1  # return the kept ids when the answer holds at least this many
    columns: tuple[str, ...] = ()  # the day's CSV columns so far
    nested: frozenset[str] = frozenset()
    compression: str = "none"  # "zstd": the spool is one zstd frame


@dataclass(frozen=True)
class PageOutcome:
    """What a page held: answer size, records kept, and what the caller must merge."""

    answered: int  # records in the answer (paging counts these)
    kept: int  # records written to the spool file
    ids: frozenset[Any] | None  # ids of the kept records, when asked for
    columns: tuple[str, ...] = ()  # the CSV columns the spool file uses
    nested: frozenset[str] = frozenset()
    repeated: int = 0  # records of the window an earlier page already gave


class TruncatedAnswerError(UdlError):
    """A 200 answer whose JSON stops before its end: cut off on the way, worth a retry."""


def decode_answer(body: bytes, label: str) -> list[Any]:
    """A 200 answer's records: a JSON array, one object, or nothing.

    Raises ``TruncatedAnswerError`` when the JSON ends early (the parser ran out of
    text: a transient fault, like a dropped connection) and ``UdlError`` for any
    other body that is not JSON records (a maintenance page: retrying will not help).
    """
    if not body.strip():
        return []
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if exc.pos >= len(body.rstrip()):
            raise TruncatedAnswerError(f"UDL answer for chunk {label} is cut off inside its "
                                       f"JSON after {len(body)} bytes") from None
        raise UdlError(f"UDL answer for chunk {label} is not JSON ({exc}); "
                       f"it starts {body[:40]!r}") from None
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return data
    raise UdlError(f"UDL answer for chunk {label} is a JSON {type(data).__name__}, "
                   "not a list of records")


def transcode_page(body: bytes, job: PageJob) -> PageOutcome | None:
    """``process_page``'s outcome and spool file from the C transcoder, or None when
    the answer is not its common case (then ``process_page`` must take it)."""
    if transcode is None:
        return None
    csv = job.output_format == "csv"
    lo, hi = job.window.udl_bounds
    result = transcode(body, lo, hi, job.columns, job.seen, job.ids_from, csv)
    if result is None:
        return None
    answered, kept, data, id_list, names, nested, repeated = result
    ids = None if id_list is None else frozenset(id_list)
    if not kept:
        return PageOutcome(answered, 0, ids, job.columns, job.nested, repeated)
    job.path.write_bytes(compress(data, job.compression))
    if not csv:
        return PageOutcome(answered, kept, ids, (), frozenset(), repeated)
    return PageOutcome(answered, kept, ids, names, job.nested | frozenset(nested), repeated)


def process_page(body: bytes, job: PageJob) -> PageOutcome:
    """Decode, cut to the window, drop repeats, encode and spool one answer page
    (any answer; raises ``UdlError`` naming the window for one that holds no records
    or is past ``pagebounds``)."""
    answer = decode_answer(body, job.window.label)
    try:
        return _spool_answer(answer, len(body), job)
    except UdlError as exc:
        raise UdlError(f"UDL answer for chunk {job.window.label}: {exc}") from None


def _spool_answer(answer: list[Any], body_bytes: int, job: PageJob) -> PageOutcome:
    kept = job.window.cut(answer)
    in_window = len(kept)
    want_ids = len(answer) >= job.ids_from
    if job.seen or want_ids:
        _check_ids(kept)
    if job.seen:
        kept = [r for r in kept if r.get("id") is None or r["id"] not in job.seen]
    repeated = in_window - len(kept)
    ids = None
    if want_ids:
        ids = frozenset(r["id"] for r in kept if r.get("id") is not None)
    if not kept:
        return PageOutcome(len(answer), 0, ids, job.columns, job.nested, repeated)
    csv = job.output_format == "csv"
    pagebounds.check_columns(kept, job.columns if csv else ())
    pagebounds.check_depth(kept)
    if csv:
        columns = CsvColumns(job.columns, job.nested)
        _, data = encode_csv(kept, columns, body_bytes)
        names, nested = columns.names, columns.nested
    else:
        data, names, nested = orjson.dumps(kept)[1:-1], (), frozenset()
    job.path.write_bytes(compress(data, job.compression))
    return PageOutcome(len(answer), len(kept), ids, names, nested, repeated)


def _check_ids(records: list[dict[str, Any]]) -> None:
    """Raise ``UdlError`` for an ``id`` that cannot be compared with others (UDL's are
    UUID strings; a list or an object cannot even be looked up)."""
    for record in records:
        if type(record.get("id")) in (list, dict):
            raise UdlError(f"a record's id is a JSON {type(record['id']).__name__}, "
                           "not a string")


# Level 1: one ALL page of CSV to 11.1 % at ~480 MB/s; level 3 gave 11.5 % at 175 MB/s
# (measured on a 9,600-record page; each page is its own frame, so higher levels gain
# little from it)
ZSTD_LEVEL = 1


def compress(data: bytes, compression: str) -> bytes:
    """``data`` as one zstd frame for ``zstd``, unchanged for ``none``.

    Each frame carries zstd's content checksum (issue 17): a reader (pyarrow, the
    ``zstd`` tool) then refuses a changed frame instead of returning other bytes.
    pyarrow's codec writes none; the standard library's zstd module (``backports.zstd``
    before Python 3.14) does, at the same speed.
    """
    if compression == "none":
        return data
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
    except ImportError:
        from backports import zstd

    return zstd.compress(data, options={zstd.CompressionParameter.compression_level: ZSTD_LEVEL,
                                        zstd.CompressionParameter.checksum_flag: 1})


def watch_parent(parent_pid: int) -> None:
    """Worker-process initializer: end the worker once its parent is gone.

    A pool worker waits for work on a pipe it also holds the writing end of, so
    it would outlive a parent killed with ``kill -9``; this thread notices.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
