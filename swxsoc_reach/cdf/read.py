"""Read one UDL artifact (CSV or JSON array) into parsed columns: l1c-cdf.md step 1, udl.md.

Everything is vectorized (pyarrow): a full day is 1.1 M records and Python costs
~0.4 us per string object here, so no per-record Python runs on the CSV path.
CSV cells of ``seoList`` (only ``seoList[0]`` counts) and ``senPos`` may be JSON or
Python repr; regular expressions that accept both quote styles pull the fields out.
JSON artifacts are rare and parsed with :mod:`json` (correctness first).
Any unreadable or inconsistent input raises ``InputDataError`` naming the file.
"""

from __future__ import annotations

import csv
import json
import re
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from swxsoc_reach.errors import InputDataError

NUMERIC = ("lat", "lon", "alt")
TIMES = ("obTime", "createdAt")
SENSOR_COLUMNS = ("idSensor", "observatoryName")
REQUIRED = ("obTime", "createdAt", "seoList", "senPos", "descriptor", *NUMERIC)
# seoList[0] fields; the first match in a cell is seoList[0]. Quotes may be ' or ".
# (A literal first lets RE2 skip ahead: ~15 % faster than a leading quote class.)
_SEO_PATTERNS = {
    "obValue": r"""obValue['"]\s*:\s*(?P<v>[^,}\s]+)""",
    "obQuality": r"""obQuality['"]\s*:\s*['"]?(?P<v>[^'",}\s]*)""",
    "obDescription": r"""obDescription['"]\s*:\s*['"](?P<v>[^'"]*)['"]""",
}
# In UDL's key order a cell ends with obQuality and obDescription: cut at obQuality,
# the tails take only a few distinct values per block, so those two fields are parsed
# once per distinct tail instead of once per record (captures cost ~0.5 us a row).
_TAIL_FIELDS = ("obQuality", "obDescription")
_MORE_ENTRIES = r"\}\s*,\s*\{"  # a second seoList entry: its tail is not seoList[0]
_NULL_TEXT = ("", "None", "null")  # how JSON, Python repr and CSV spell "no value"
_NULL_WORD = r"^\s*(None|null)?\s*$"  # the same inside seoList text
_NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$|^\s*[+-]?(?i:nan|inf|infinity)\s*$"
_TIMESTAMP = pa.timestamp("ns", tz="UTC")
_CSV_COLUMN = re.compile(r"CSV column #(\d+)")
_BLOCK = 4 << 20  # bytes of CSV per parsed block (~8,000 records)


@dataclass(frozen=True)
class Labels:
    """A dictionary-encoded text column: ``values[codes[i]]``, code -1 when missing."""

    codes: np.ndarray  # int32, one per record
    values: tuple[str, ...]


@dataclass(frozen=True)
class RecordFrame:
    """One artifact's records as parsed columns, one row per input record."""

    path: Path
    ob_time: np.ndarray  # int64 ns since 1970-01-01 UTC
    created_at: np.ndarray  # int64 ns; the oldest possible time when missing
    sensor: Labels  # idSensor
    observatory: Labels  # observatoryName
    description: Labels  # seoList[0].obDescription
    descriptors: tuple[str, ...]  # distinct non-empty ``descriptor`` values
    ob_value: np.ndarray  # float64, NaN when missing
    ob_quality: np.ndarray  # float64, NaN when missing
    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    sen_pos: np.ndarray  # (N, 3) float64 km GEI, NaN when missing

    def __len__(self) -> int:
        return len(self.ob_time)


def read_artifact(path: Path) -> RecordFrame:
    """Parse a CSV or JSON-array artifact; bad input raises ``InputDataError``."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(4096)
            fh.seek(max(0, size - 1))
            last = fh.read(1)
    except OSError as exc:
        raise InputDataError(f"{path}: cannot read artifact: {exc.strerror}") from exc
    if not head.strip():
        raise InputDataError(f"{path}: artifact is empty")
    if path.suffix.lower() == ".json" or head.lstrip()[:1] in (b"[", b"{"):
        return _read_json(path)
    if last != b"\n":
        raise InputDataError(f"{path}: CSV is truncated (the last line has no line end)")
    return _read_csv(path)


# ---- CSV -------------------------------------------------------------------------------


def _read_csv(path: Path) -> RecordFrame:
    """Stream the CSV in blocks; workers parse each block while the reader reads on.

    Streaming keeps the peak memory to the parsed columns plus a few blocks of text
    (a full day's seoList text alone is ~200 MB).
    """
    header = _csv_header(path)
    _check_columns(path, header)
    wanted = [c for c in (*REQUIRED, *SENSOR_COLUMNS) if c in header]
    types = {c: pa.string() for c in wanted}
    types.update({c: pa.float64() for c in NUMERIC})
    types.update({c: _TIMESTAMP for c in TIMES})
    convert = pa_csv.ConvertOptions(
        include_columns=wanted, column_types=types, strings_can_be_null=True,
        null_values=list(_NULL_TEXT),
    )
    workers = pa.cpu_count()
    pool_memory = pa.default_memory_pool()
    parts: list[_Part] = []
    pending: deque[Future[_Part]] = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            reader = pa_csv.open_csv(path, read_options=pa_csv.ReadOptions(block_size=_BLOCK),
                                     convert_options=convert)
            offset = 0
            for batch in reader:
                pending.append(pool.submit(_parse_batch, path, batch, offset))
                offset += batch.num_rows
                while len(pending) > 2 * workers:  # bound the text held in memory
                    parts.append(pending.popleft().result())
                    pool_memory.release_unused()  # mimalloc keeps freed blocks otherwise
        except pa.ArrowInvalid as exc:
            for future in pending:
                future.cancel()
            raise InputDataError(f"{path}: {_describe_csv_error(str(exc), header)}") from exc
        parts.extend(future.result() for future in pending)
    if not any(len(part.ob_time) for part in parts):
        raise InputDataError(f"{path}: artifact is empty (a header but no records)")
    frame = _merge(path, parts)
    parts.clear()
    pool_memory.release_unused()
    return frame


def _parse_batch(path: Path, batch: pa.RecordBatch, offset: int) -> _Part:
    columns = {name: batch.column(name) for name in batch.schema.names}
    seo = _extract_seo(path, columns.pop("seoList"), offset)
    return _part(path, columns, seo, offset)


def _csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        line = fh.readline()
    return [name.strip() for name in next(csv.reader([line]), [])]


def _describe_csv_error(message: str, header: Sequence[str]) -> str:
    """One line, naming the column rather than its index, without echoing whole rows."""
    first = message.strip().splitlines()[0] if message.strip() else "unreadable CSV"
    match = _CSV_COLUMN.search(first)
    if match and int(match[1]) < len(header):
        first = _CSV_COLUMN.sub(f"CSV column {header[int(match[1])]!r}", first)
    if "Expected" in first and "columns" in first:
        first = first.split(":")[0] + " (truncated or malformed row)"
    return first[:300]


def _extract_seo(path: Path, seo: pa.Array, offset: int) -> dict[str, pa.Array]:
    """Pull the seoList[0] fields out of every cell of one block."""
    if seo.null_count:
        first = offset + _first(seo.is_null())
        raise InputDataError(f"{path}: seoList is empty in record {first}")
    tails = _distinct_tails(seo)
    several = None if tails is None else pc.match_substring_regex(seo, _MORE_ENTRIES)
    out = {name: _extract(seo, pattern) if name not in _TAIL_FIELDS or tails is None
           else _extract_via_tails(seo, tails, several, pattern)
           for name, pattern in _SEO_PATTERNS.items()}
    for name in ("obValue", "obDescription"):
        if out[name].null_count:
            local = _first(out[name].is_null())
            raise InputDataError(f"{path}: seoList has no parseable {name} in record "
                                 f"{offset + local}: {_excerpt(seo, local)}")
    return out


def _extract(texts: pa.Array, pattern: str) -> pa.Array:
    """The named group of ``pattern`` in each text; null where it does not match."""
    return pc.extract_regex(texts, pattern).flatten()[0]  # flatten keeps no-match nulls


def _distinct_tails(seo: pa.Array) -> pa.DictionaryArray | None:
    """Each cell's end from where the first cell's obQuality key starts, dictionary-encoded;
    None unless the tails repeat a lot (the key order is not UDL's)."""
    if not len(seo):
        return None
    first = seo[0].as_py().encode()
    start = first.find(b"obQuality")
    if start < 1:
        return None
    try:
        tails = pc.binary_slice(pc.cast(seo, pa.binary()), start - 1 - len(first))
        tails = pc.cast(tails, pa.string())
    except pa.ArrowInvalid:  # a cut inside a multi-byte character
        return None
    encoded = pc.dictionary_encode(tails)
    return encoded if len(encoded.dictionary) * 8 <= len(seo) else None


def _extract_via_tails(seo: pa.Array, tails: pa.DictionaryArray, several: pa.Array,
                       pattern: str) -> pa.Array:
    """``_extract`` per distinct tail; cells the tail does not settle (no match there, or
    ``several`` seoList entries) get the full search."""
    field = pc.take(_extract(tails.dictionary, pattern), tails.indices)
    redo = pc.or_(pc.is_null(field), several)
    if not pc.any(redo).as_py():
        return field
    return pc.replace_with_mask(field, redo, _extract(seo.filter(redo), pattern))


# ---- JSON ------------------------------------------------------------------------------


def _read_json(path: Path) -> RecordFrame:
    try:
        records = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise InputDataError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            "truncated?"
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputDataError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if isinstance(records, dict):
        records = [records]  # UDL: an object is one record
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputDataError(f"{path}: JSON artifact must be an array of record objects")
    if not records:
        raise InputDataError(f"{path}: artifact is empty (no records)")
    _check_columns(path, set().union(*(r.keys() for r in records)))
    observations = [_first_observation(path, i, r.get("seoList"))
                    for i, r in enumerate(records, 1)]
    columns = {name: _texts(r.get(name) for r in records)
               for name in ("descriptor", *SENSOR_COLUMNS, *NUMERIC)}
    for name in TIMES:
        columns[name] = _parse_times(path, name, _texts(r.get(name) for r in records))
    columns["senPos"] = _texts(None if r.get("senPos") is None else json.dumps(r["senPos"])
                               for r in records)
    seo = {name: _texts(o.get(name) for o in observations) for name in _SEO_PATTERNS}
    for name in ("obValue", "obDescription"):
        if seo[name].null_count:
            raise InputDataError(f"{path}: seoList[0] has no {name} in record "
                                 f"{_first(seo[name].is_null())}")
    return _merge(path, [_part(path, columns, seo, 0)])


def _first_observation(path: Path, index: int, seo: Any) -> dict[str, Any]:
    if not (isinstance(seo, list) and seo and isinstance(seo[0], dict)):
        raise InputDataError(f"{path}: record {index} has no parseable seoList[0] object")
    return seo[0]


def _texts(values: Iterable[Any]) -> pa.Array:
    """Values as text (``None`` stays null), so JSON and CSV share one numeric parser."""
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def _parse_times(path: Path, name: str, texts: pa.Array) -> pa.Array:
    try:
        return pc.cast(texts, _TIMESTAMP)
    except pa.ArrowInvalid as exc:
        raise InputDataError(f"{path}: {name} is not an ISO 8601 UTC time: "
                             f"{str(exc).splitlines()[0][:200]}") from exc


# ---- shared ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """Parsed columns of one block of records (text columns stay Arrow until merged)."""

    ob_time: np.ndarray
    created_at: np.ndarray
    ob_value: np.ndarray
    ob_quality: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    sen_pos: np.ndarray
    texts: dict[str, pa.DictionaryArray]  # idSensor, observatoryName, obDescription, descriptor


def _check_columns(path: Path, names: Iterable[str]) -> None:
    names = set(names)
    missing = [c for c in REQUIRED if c not in names]
    if not names.intersection(SENSOR_COLUMNS):
        missing.append(" or ".join(SENSOR_COLUMNS))
    if missing:
        raise InputDataError(f"{path}: missing required column(s): {', '.join(missing)}")


def _part(path: Path, cols: dict[str, pa.Array], seo: dict[str, pa.Array], offset: int) -> _Part:
    """Convert one block; ``offset`` turns block rows into file record numbers."""
    ob_time = cols["obTime"]
    if ob_time.null_count:
        raise InputDataError(f"{path}: obTime is missing in record "
                             f"{offset + _first(ob_time.is_null())}")
    oldest = np.iinfo(np.int64).min  # a record without createdAt loses every tie
    texts = {name: cols[name] for name in (*SENSOR_COLUMNS, "descriptor") if name in cols}
    texts["obDescription"] = seo["obDescription"]
    texts = {name: pc.dictionary_encode(pc.utf8_trim_whitespace(column))
             for name, column in texts.items()}  # a few distinct values: small to keep
    return _Part(
        ob_time=_as_int64(ob_time),
        created_at=_as_int64(cols["createdAt"], missing=oldest),
        ob_value=_to_float(path, "seoList obValue", seo["obValue"], offset),
        ob_quality=_to_float(path, "seoList obQuality", seo["obQuality"], offset),
        lat=_to_float(path, "lat", cols["lat"], offset),
        lon=_to_float(path, "lon", cols["lon"], offset),
        alt=_to_float(path, "alt", cols["alt"], offset),
        sen_pos=_positions(path, cols["senPos"], offset),
        texts=texts,
    )


def _merge(path: Path, parts: Sequence[_Part]) -> RecordFrame:
    def joined(name: str) -> np.ndarray:
        return np.concatenate([getattr(part, name) for part in parts])

    def labels(name: str) -> Labels:
        if name not in parts[0].texts:
            return Labels(np.full(len(ob_time), -1, np.int32), ())
        return _labels([part.texts[name] for part in parts])

    ob_time = joined("ob_time")
    descriptor = labels("descriptor")
    return RecordFrame(
        path=path,
        ob_time=ob_time,
        created_at=joined("created_at"),
        sensor=labels("idSensor"),
        observatory=labels("observatoryName"),
        description=labels("obDescription"),
        descriptors=tuple(sorted(v for v in descriptor.values if v)),
        ob_value=joined("ob_value"),
        ob_quality=joined("ob_quality"),
        lat=joined("lat"),
        lon=joined("lon"),
        alt=joined("alt"),
        sen_pos=joined("sen_pos"),
    )


def _labels(blocks: Sequence[pa.DictionaryArray]) -> Labels:
    """Merge per-block dictionaries into one code space (-1 = missing)."""
    index: dict[str, int] = {}
    codes = []
    for block in blocks:
        to_global = [index.setdefault(v, len(index)) for v in block.dictionary.to_pylist()]
        lookup = np.array([*to_global, -1], dtype=np.int32)  # a null index (-1) hits the last
        codes.append(lookup[_as_int64(block.indices, missing=-1)])
    return Labels(np.concatenate(codes), tuple(index))


def _to_float(path: Path, name: str, texts: pa.Array, offset: int) -> np.ndarray:
    """Text -> float64 (NaN for null/None); a non-numeric value raises naming the record."""
    if pa.types.is_floating(texts.type):
        return _as_float(texts)
    try:
        return _as_float(pc.cast(texts, pa.float64()))
    except pa.ArrowInvalid:
        pass  # rare: spelled-out nulls inside seoList, or a bad value to report
    cleaned = pc.replace_substring_regex(texts, _NULL_WORD, "nan")
    try:
        return _as_float(pc.cast(cleaned, pa.float64()))
    except pa.ArrowInvalid as exc:
        local = _first(pc.invert(pc.match_substring_regex(cleaned, _NUMBER)))  # null: fine
        raise InputDataError(f"{path}: non-numeric {name} {cleaned[local - 1].as_py()!r} "
                             f"in record {offset + local}") from exc


def _positions(path: Path, texts: pa.Array, offset: int) -> np.ndarray:
    """``[x, y, z]`` text (JSON or repr alike) -> (N, 3) float64; null -> NaN row."""
    out = np.full((len(texts), 3), np.nan)
    present = _as_bool(pc.is_valid(texts))
    inner = pc.split_pattern(pc.utf8_trim(pc.drop_null(texts), "[]() \t"), ",")
    lengths = _as_int64(pc.list_value_length(inner))
    parts = pc.utf8_trim_whitespace(pc.list_flatten(inner))
    bad = lengths != 3
    if not bad.any():
        try:
            out[present] = _as_float(pc.cast(parts, pa.float64())).reshape(-1, 3)
            return out
        except pa.ArrowInvalid:
            numeric = _as_bool(pc.match_substring_regex(parts, _NUMBER))
            bad = ~numeric.reshape(-1, 3).all(axis=1)
    local = int(np.flatnonzero(present)[np.argmax(bad)]) + 1
    raise InputDataError(f"{path}: senPos is not a list of 3 numbers in record "
                         f"{offset + local}: {_excerpt(texts, local)}")


# Arrow -> numpy through the buffers: Array.to_numpy and Python scalars make pyarrow
# import pandas (0.3 s), which every single-day process would pay for nothing.


def _valid(array: pa.Array) -> np.ndarray | None:
    """Validity per row, or None when the array has no nulls."""
    if array.null_count == 0:
        return None
    return _bits(array.buffers()[0], array.offset, len(array))


def _bits(buffer: pa.Buffer | None, offset: int, length: int) -> np.ndarray:
    if not length:
        return np.zeros(0, dtype=bool)
    packed = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(packed, bitorder="little")[offset:offset + length].astype(bool)


def _values(array: pa.Array, dtype: type) -> np.ndarray:
    if not len(array):
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(array.buffers()[1], dtype=dtype,
                         count=array.offset + len(array))[array.offset:]


def _as_float(column: pa.Array) -> np.ndarray:
    """float64 values, NaN where null."""
    values = _values(pc.cast(column, pa.float64()), np.float64)
    valid = _valid(column)
    return values.copy() if valid is None else np.where(valid, values, np.nan)


def _as_int64(column: pa.Array, missing: int = 0) -> np.ndarray:
    """int64 values (timestamps as ns); nulls become ``missing``."""
    values = _values(pc.cast(column, pa.int64()), np.int64)
    valid = _valid(column)
    return values.copy() if valid is None else np.where(valid, values, missing)


def _as_bool(column: pa.Array) -> np.ndarray:
    """Booleans, null as False."""
    values = _bits(column.buffers()[1], column.offset, len(column))
    valid = _valid(column)
    return values if valid is None else values & valid


def _first(mask: pa.Array) -> int:
    """1-based number of the first true row of a boolean column."""
    return int(np.argmax(_as_bool(mask))) + 1


def _excerpt(texts: pa.Array, row: int) -> str:
    value = texts[row - 1].as_py()
    return repr(value if value is None or len(value) <= 80 else value[:77] + "...")
