"""The most one answer page may cost the Python path: columns, nesting, bytes written.

A UDL answer is untrusted bytes (issue 20). ``_transcode.c`` declines a page past
these bounds (its top comment says where the numbers come from: a REACH record,
udl.md "A REACH record", has 25-40 keys and nests 2 deep); ``pages.process_page``
then refuses it here with one ``UdlError`` instead of spending minutes or
gigabytes on it. The numbers are the C file's (a test compares them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from swxsoc_reach.errors import UdlError

MAX_COLUMNS = 256  # columns a page (CSV: the day's so far plus the page's new keys)
MAX_DEPTH = 16  # levels of arrays and objects inside a record (seoList's object: 2)
# CSV cells of a page, kept x (3 x columns + 1) bytes, at most this times the body plus
# OUTPUT_ALLOWANCE: a real page writes 0.65 times its size in all (benchmarks/page_decode.py),
# records holding only their obTime under 40 columns 3.2 times
MAX_OUTPUT_RATIO = 8
OUTPUT_ALLOWANCE = 65536

_CONTAINERS = (list, dict)


def check_columns(records: Sequence[dict[str, Any]], given: Sequence[str]) -> None:
    """Raise ``UdlError`` when ``given`` and the records' keys make over MAX_COLUMNS."""
    if len(given) > MAX_COLUMNS or any(len(record) > MAX_COLUMNS for record in records):
        count = max([len(given), *map(len, records)])
    else:
        count = len(set(given).union(*records))
    if count > MAX_COLUMNS:
        raise UdlError(f"its records hold {count} or more keys (columns), over the "
                       f"{MAX_COLUMNS} a page may have (a REACH record has about 30)")


def check_cells(kept: int, columns: int, body_bytes: int) -> None:
    """Raise ``UdlError`` when ``kept`` CSV rows of ``columns`` cells would write more
    than the bound for a body of ``body_bytes`` (checked before anything is written)."""
    cells = kept * (3 * columns + 1)
    if cells > MAX_OUTPUT_RATIO * body_bytes + OUTPUT_ALLOWANCE:
        raise UdlError(f"{kept} rows of {columns} columns would write {cells} bytes of CSV "
                       f"cells from a {body_bytes}-byte answer, over {MAX_OUTPUT_RATIO} "
                       "times its size")


def check_depth(records: Iterable[dict[str, Any]]) -> None:
    """Raise ``UdlError`` when a record's arrays and objects nest over MAX_DEPTH levels.

    Plain loops (faster here than passes through ``itertools``): about 12 ms for a
    9,600-record page, 6 % of the Python path.
    """
    for record in records:
        for value in record.values():
            if type(value) in _CONTAINERS and _too_deep(value, 1):
                raise UdlError(f"a record nests arrays and objects over {MAX_DEPTH} levels "
                               "deep (a REACH record: 2)")


def _too_deep(container: list[Any] | dict[str, Any], level: int) -> bool:
    """``container`` sits at ``level``: does it or anything in it pass MAX_DEPTH?"""
    if level > MAX_DEPTH:
        return True
    for member in container.values() if type(container) is dict else container:
        if type(member) in _CONTAINERS and _too_deep(member, level + 1):
            return True
    return False
