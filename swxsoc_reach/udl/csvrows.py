"""Records -> CSV lines for the day's artifact (historical-download.md "Chunking and the
artifact"): one header covering every key seen that day, in order of first sight;
nested values (``seoList``, ``senPos``) as JSON text; null as an empty cell. Rows
of records whose keys differ never shift columns.

The common case is encoded by orjson (a JSON array row without escapes is a
valid CSV line), checked, and otherwise left to ``csv``.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import orjson

from swxsoc_reach.udl import pagebounds

_CONTAINERS = (list, dict)
# In a fast-encoded CSV text every nested value is a quoted cell; a bracket
# opening a cell means a container slipped into a plain column.
_CELL_OPENS_CONTAINER = (b",[", b",{", b"\n[", b"\n{")


class _NewKeysError(Exception):
    """A record holds keys the column list does not have yet."""


class CsvColumns:
    """The day's columns (append-only, order of first sight) and which hold nested values."""

    def __init__(self, names: tuple[str, ...] = (),
                 nested: frozenset[str] = frozenset()) -> None:
        self._lock = threading.Lock()
        self.names = names
        self.nested = nested

    def snapshot(self) -> tuple[tuple[str, ...], frozenset[str]]:
        """The columns and nested columns as they stand (consistent with each other)."""
        with self._lock:
            return self.names, self.nested

    def adopt(self, names: tuple[str, ...], nested: frozenset[str]) -> bool:
        """Take up columns a page was encoded with; False when they diverged from ours.

        A page's columns extend a snapshot of ours; when another page extended ours
        differently meanwhile, its new keys are added here and it must be encoded
        again (the spool's columns must be a prefix of the day's).
        """
        with self._lock:
            self.nested |= nested
            if names[: len(self.names)] == self.names:
                self.names = names
                return True
            if self.names[: len(names)] == names:
                return True
            known = set(self.names)
            self.names += tuple(name for name in names if name not in known)
            return False

    def add(self, records: Sequence[dict[str, Any]]) -> None:
        """Append the keys of ``records`` not seen before, in order of first sight."""
        with self._lock:
            known = set(self.names)
            names, nested = list(self.names), set(self.nested)
            for record in records:
                if known.issuperset(record):
                    continue
                new = [key for key in record if key not in known]
                known.update(new)
                names += new
                nested.update(key for key in new if isinstance(record[key], _CONTAINERS))
            self.names, self.nested = tuple(names), frozenset(nested)

    def mark_nested(self, names: set[str]) -> None:
        """Remember columns found holding lists or objects (keeps later windows fast)."""
        with self._lock:
            self.nested |= names

    def header(self) -> bytes:
        """The CSV header line."""
        return _csv_line(self.names)


def encode_csv(records: Sequence[dict[str, Any]], columns: CsvColumns,
               body_bytes: int) -> tuple[int, bytes]:
    """Encode records as CSV lines; return the number of columns used and the bytes.

    New keys are added to ``columns`` first (all of them at the first record that
    has one, so the records are encoded at most twice), so the column count names a
    prefix of the day's final column list. Raises ``UdlError`` before encoding when
    the rows' cells would pass ``pagebounds`` for an answer of ``body_bytes``.
    """
    pagebounds.check_cells(len(records), len(columns.names), body_bytes)
    try:
        text = _encode_fast(records, columns.names, columns.nested)
    except _NewKeysError:
        columns.add(records)
        pagebounds.check_cells(len(records), len(columns.names), body_bytes)
        text = _encode_fast(records, columns.names, columns.nested)
    if text is None:
        text = _encode_slow(records, columns.names, columns)
    return len(columns.names), text


def _encode_fast(records: Sequence[dict[str, Any]], names: tuple[str, ...],
                 nested: frozenset[str]) -> bytes | None:
    """CSV lines from orjson rows; None when the window needs ``csv``'s care.

    The window's rows dumped as JSON arrays are CSV lines once the brackets
    are dropped, provided no string needed an escape (quotes, backslashes, control
    characters: checked on the whole text at once) and no plain column held a
    list or an object (checked by counting brackets). Nested values go in as
    ready CSV cells (``orjson.Fragment``), so their quotes need no escape.
    """
    n = len(names)
    if n == 0:
        raise _NewKeysError
    getter = itemgetter(*names) if n > 1 else (lambda record: (record[names[0]],))
    name_set = frozenset(names)
    nested_at = [i for i, name in enumerate(names) if name in nested]
    dumps, fragment = orjson.dumps, orjson.Fragment
    rows = []
    cells = []  # every nested cell, to tell their brackets from any others
    for record in records:
        try:
            row: Any = getter(record)
        except KeyError:
            if not record.keys() <= name_set:
                raise _NewKeysError from None
            row = [record.get(name) for name in names]
        else:
            if len(record) != n:
                raise _NewKeysError
        if nested_at:
            row = list(row)
            for i in nested_at:
                if type(row[i]) in _CONTAINERS:
                    cell = b'"' + dumps(row[i]).replace(b'"', b'""') + b'"'
                    cells.append(cell)
                    row[i] = fragment(cell)
        rows.append(row)
    text = dumps(rows)
    if b"null" in text:  # a None (or the word inside a string): empty cells for None
        rows = [["" if v is None else v for v in row] if None in row else row for row in rows]
        text = dumps(rows)
    # "[[a,b],[c,d]]" -> "a,b\nc,d"; a raw newline only ever separates rows
    text = text[2:-2].replace(b"],[", b"\n")
    if text.count(b"\n") != len(rows) - 1:
        return None  # "],[" inside a value
    if b"\\" in text:
        return None  # a string needed an escape: csv quotes it instead
    inside = b"".join(cells)
    if (text.count(b"[") != inside.count(b"[") or text.count(b"{") != inside.count(b"{")) and (
            text.startswith((b"[", b"{")) or any(m in text for m in _CELL_OPENS_CONTAINER)):
        return None  # a list or object in a plain column (brackets in strings are fine)
    return text + b"\n"


def _encode_slow(records: Sequence[dict[str, Any]], names: tuple[str, ...],
                 columns: CsvColumns) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    nested: set[str] = set()
    for record in records:
        row = []
        for name in names:
            value = record.get(name)
            if isinstance(value, (*_CONTAINERS, bool)):
                if not isinstance(value, bool):
                    nested.add(name)
                value = orjson.dumps(value).decode()
            row.append("" if value is None else value)
        writer.writerow(row)
    columns.mark_nested(nested - columns.nested)
    return buffer.getvalue().encode("utf-8")


def _csv_line(cells: Sequence[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue().encode("utf-8")


