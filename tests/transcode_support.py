"""Comparing the C transcoder's spool files with the Python path's (tests/udl): the same
rows of the same cells, numbers compared as numbers (C writes them as UDL did)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa


def spool(path: Path, compression: str = "none") -> bytes | None:
    """A spool file's data (decompressed), or None when none was written."""
    if not path.exists():
        return None
    raw = path.read_bytes()
    if compression == "none":
        return raw
    return pa.CompressedInputStream(pa.BufferReader(raw), compression).read()


def parsed_rows(data: bytes) -> list[list[str]]:
    """A spool's CSV rows as ``csv`` reads them."""
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


def same_cell(c_cell: str, py_cell: str) -> bool:
    """Equal text, or equal as JSON (numbers written verbatim vs orjson's or repr's form)."""
    if c_cell == py_cell:
        return True
    try:
        return bool(orjson.loads(c_cell) == orjson.loads(py_cell))
    except orjson.JSONDecodeError:
        return False


def assert_same_cells(c_data: bytes, py_data: bytes) -> None:
    """Both spools hold the same rows of the same cells."""
    c_rows, py_rows = parsed_rows(c_data), parsed_rows(py_data)
    assert len(c_rows) == len(py_rows)
    for c_row, py_row in zip(c_rows, py_rows, strict=True):
        assert len(c_row) == len(py_row)
        for c_cell, py_cell in zip(c_row, py_row, strict=True):
            assert same_cell(c_cell, py_cell), (c_cell, py_cell)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """``call()``'s result, or the exception it raised, and the seconds it took."""
    began = time.perf_counter()
    try:
        result = call()
    except Exception as exc:  # returned for the caller to check its type
        result = exc
    return result, time.perf_counter() - began
