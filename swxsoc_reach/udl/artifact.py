"""A day's artifact built from windows that arrive in any order, one spool file each.

historical-download.md "Chunking and the artifact": each window's records are
encoded and spooled to a temporary file as soon as they arrive (memory holds a
few windows, never the day), then the spools are concatenated in time order
into the artifact, which appears under its final name only when complete
(``fsutil.atomic_write``). Spools live in a private directory beside the
artifact; one left by a killed run is removed when the day is next attempted.

CSV: one header covering every key seen that day, in order of first sight;
nested values (``seoList``, ``senPos``) as JSON text; null as an empty cell.
The common case is encoded by orjson (a JSON array row is a valid CSV line once
its escaped quotes are doubled), checked, and otherwise left to ``csv``.
JSON: one array of the records as UDL sent them.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import threading
from collections.abc import Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from swxsoc_reach.fsutil import atomic_write

FORMATS = ("csv", "json")
_CONTAINERS = (list, dict)
# In a fast-encoded CSV text every nested value is a quoted string; a bracket
# opening a cell means a container slipped into a plain column.
_CELL_OPENS_CONTAINER = (b",[", b",{", b"\n[", b"\n{")


class _NewKeysError(Exception):
    """A record holds keys the column list does not have yet."""

    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__("new keys")
        self.record = record


class CsvColumns:
    """The day's columns (append-only, order of first sight) and which hold nested values."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.names: tuple[str, ...] = ()
        self.nested: frozenset[str] = frozenset()

    def add(self, record: dict[str, Any]) -> None:
        """Append the keys of ``record`` not seen before."""
        with self._lock:
            known = set(self.names)
            new = tuple(key for key in record if key not in known)
            self.names += new
            self.nested |= {key for key in new if isinstance(record[key], _CONTAINERS)}

    def mark_nested(self, names: set[str]) -> None:
        """Remember columns found holding lists or objects (keeps later windows fast)."""
        with self._lock:
            self.nested |= names

    def header(self) -> bytes:
        """The CSV header line."""
        return _csv_line(self.names)


def encode_csv(records: Sequence[dict[str, Any]], columns: CsvColumns) -> tuple[int, bytes]:
    """Encode records as CSV lines; return the number of columns used and the bytes.

    New keys are added to ``columns`` first, so the column count names a prefix
    of the day's final column list.
    """
    while True:
        names, nested = columns.names, columns.nested
        try:
            text = _encode_fast(records, names, nested)
        except _NewKeysError as exc:
            columns.add(exc.record)
            continue
        if text is None:
            text = _encode_slow(records, names, columns)
        return len(names), text


def _encode_fast(records: Sequence[dict[str, Any]], names: tuple[str, ...],
                 nested: frozenset[str]) -> bytes | None:
    """orjson rows turned into CSV lines; None when the text needs ``csv``'s care."""
    n = len(names)
    if n == 0:
        raise _NewKeysError(records[0])
    getter = itemgetter(*names) if n > 1 else (lambda record: (record[names[0]],))
    name_set = frozenset(names)
    nested_at = [i for i, name in enumerate(names) if name in nested]
    dumps = orjson.dumps
    lines = []
    for record in records:
        try:
            row: Any = getter(record)
        except KeyError:
            if not record.keys() <= name_set:
                raise _NewKeysError(record) from None
            row = [record.get(name) for name in names]
        else:
            if len(record) != n:
                raise _NewKeysError(record)
        if nested_at:
            row = list(row)
            for i in nested_at:
                if type(row[i]) in _CONTAINERS:
                    row[i] = dumps(row[i]).decode()
        line = dumps(row)
        if b"null" in line:  # a None (or the word inside a string): empty cells for None
            line = dumps(["" if value is None else value for value in row])
        lines.append(line)
    # rows are "[a,b]"; joined: "[a,b]\n[c,d]"; a raw newline only ever separates rows
    text = b"\n".join(lines)[1:-1].replace(b"]\n[", b"\n")
    if text.count(b"\\") != text.count(b'\\"'):
        return None  # escapes other than \" (newlines, backslashes) need csv's quoting
    if text.startswith((b"[", b"{")) or any(mark in text for mark in _CELL_OPENS_CONTAINER):
        return None
    return text.replace(b'\\"', b'""') + b"\n"


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


class DaySpool:
    """Spool files of one day's windows, merged in window order into the artifact."""

    def __init__(self, final: Path, output_format: str) -> None:
        if output_format not in FORMATS:
            raise ValueError(f"output format {output_format!r} is not one of {FORMATS}")
        self.final = Path(final)
        self._format = output_format
        self._columns = CsvColumns()
        self._lock = threading.Lock()
        self._parts: dict[int, tuple[Path, int]] = {}  # window index -> (spool, columns)
        self._dir: Path | None = None

    def __enter__(self) -> DaySpool:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.final.parent.glob(f".{self.final.name}.spool-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed run of this day
        self._dir = Path(tempfile.mkdtemp(prefix=f".{self.final.name}.spool-",
                                          dir=self.final.parent))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def write(self, index: int, records: Sequence[dict[str, Any]]) -> None:
        """Spool the records of window number ``index`` (thread-safe)."""
        if not records:
            return
        assert self._dir is not None, "DaySpool used outside its with block"
        if self._format == "csv":
            width, data = encode_csv(records, self._columns)
        else:
            width, data = 0, orjson.dumps(records)[1:-1]
        path = self._dir / f"{index:06d}"
        path.write_bytes(data)
        with self._lock:
            self._parts[index] = (path, width)

    def merge(self) -> int:
        """Write the artifact from the spools in window order; return its size in bytes."""
        with atomic_write(self.final) as out:
            if self._format == "csv":
                out.write(self._columns.header())
            else:
                out.write(b"[")
            width = len(self._columns.names)
            for number, index in enumerate(sorted(self._parts)):
                path, spool_width = self._parts[index]
                if self._format == "json" and number:
                    out.write(b",")
                if spool_width == width:
                    with open(path, "rb") as spool:
                        shutil.copyfileobj(spool, out, 1 << 20)
                else:
                    _pad_rows(path, out, width - spool_width)
            if self._format == "json":
                out.write(b"]")
        return self.final.stat().st_size


def _pad_rows(spool: Path, out: BinaryIO, missing: int) -> None:
    """Copy CSV rows written before later windows added columns, adding empty cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    padding = [""] * missing
    with open(spool, newline="", encoding="utf-8") as text:
        for row in csv.reader(text):
            writer.writerow(row + padding)
            if buffer.tell() > 1 << 20:
                out.write(buffer.getvalue().encode("utf-8"))
                buffer.seek(0)
                buffer.truncate()
    out.write(buffer.getvalue().encode("utf-8"))
