"""Text cells of an artifact -> values, vectorized (udl.md "A REACH record").

The ``seoList[0]`` fields and ``senPos`` come as JSON or Python repr text; numbers may
be spelled ``None``/``null``. Every function works on a whole Arrow block (a full day
is 1.1 M records and Python costs ~0.4 us per string object here), and reports a bad
cell by its record number in the file. Arrow -> numpy goes through the buffers:
``Array.to_numpy`` and Python scalars make pyarrow import pandas (0.3 s), which every
single-day process would pay for nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from swxsoc_reach.errors import InputDataError

# seoList[0] fields; the first match in a cell is seoList[0]. Quotes may be ' or ".
# (A literal first lets RE2 skip ahead: ~15 % faster than a leading quote class.)
SEO_PATTERNS = {
    "obValue": r"""obValue['"]\s*:\s*(?P<v>[^,}\s]+)""",
    "obQuality": r"""obQuality['"]\s*:\s*['"]?\s*(?P<v>[^'",}\s]*)""",  # a number or a word
    "obDescription": r"""obDescription['"]\s*:\s*['"](?P<v>[^'"]*)['"]""",
}
SEO_REQUIRED = ("obValue", "obDescription")  # obQuality may be absent: fill
# In UDL's key order a cell ends with obQuality and obDescription: cut at obQuality,
# the tails take only a few distinct values per block, so those two fields are parsed
# once per distinct tail instead of once per record (captures cost ~0.5 us a row).
_TAIL_FIELDS = ("obQuality", "obDescription")
_MORE_ENTRIES = r"\}\s*,\s*\{"  # a second seoList entry: its tail is not seoList[0]
_NULL_WORD = r"^\s*(None|null)?\s*$"  # "no value" inside seoList text
NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$|^\s*[+-]?(?i:nan|inf|infinity)\s*$"


def seo_fields(path: Path, seo: pa.Array, offset: int) -> dict[str, pa.Array]:
    """The seoList[0] fields (text) of every cell of one block; ``offset`` numbers records."""
    if seo.null_count:
        first = offset + first_true(seo.is_null())
        raise InputDataError(f"{path}: seoList is empty in record {first}")
    tails = _distinct_tails(seo)
    several = None if tails is None else pc.match_substring_regex(seo, _MORE_ENTRIES)
    out = {name: _extract(seo, pattern) if name not in _TAIL_FIELDS or tails is None
           else _extract_via_tails(seo, tails, several, pattern)
           for name, pattern in SEO_PATTERNS.items()}
    for name in SEO_REQUIRED:
        if out[name].null_count:
            local = first_true(out[name].is_null())
            raise InputDataError(f"{path}: seoList has no parseable {name} in record "
                                 f"{offset + local}: {excerpt(seo, local)}")
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


def numbers(path: Path, name: str, texts: pa.Array, offset: int) -> np.ndarray:
    """Text -> float64 (NaN for null/None); a non-numeric value raises naming the record."""
    if pa.types.is_floating(texts.type):
        return as_float(texts)
    try:
        return as_float(pc.cast(texts, pa.float64()))
    except pa.ArrowInvalid:
        pass  # rare: spelled-out nulls inside seoList, or a bad value to report
    cleaned = null_words(texts)
    try:
        return as_float(pc.cast(cleaned, pa.float64()))
    except pa.ArrowInvalid as exc:
        local = first_true(pc.invert(pc.match_substring_regex(cleaned, NUMBER)))
        raise InputDataError(f"{path}: non-numeric {name} {cleaned[local - 1].as_py()!r} "
                             f"in record {offset + local}") from exc


def null_words(texts: pa.Array) -> pa.Array:
    """``None``/``null``/blank spelled inside seoList text -> ``nan`` (nulls stay null)."""
    return pc.replace_substring_regex(texts, _NULL_WORD, "nan")



def positions(path: Path, texts: pa.Array, offset: int) -> np.ndarray:
    """``[x, y, z]`` text (JSON or repr alike) -> (N, 3) float64; null -> NaN row."""
    out = np.full((len(texts), 3), np.nan)
    present = as_bool(pc.is_valid(texts))
    inner = pc.split_pattern(pc.utf8_trim(pc.drop_null(texts), "[]() \t"), ",")
    lengths = as_int64(pc.list_value_length(inner))
    parts = pc.utf8_trim_whitespace(pc.list_flatten(inner))
    bad = lengths != 3
    if not bad.any():
        try:
            out[present] = as_float(pc.cast(parts, pa.float64())).reshape(-1, 3)
            return out
        except pa.ArrowInvalid:
            numeric = as_bool(pc.match_substring_regex(parts, NUMBER))
            bad = ~numeric.reshape(-1, 3).all(axis=1)
    local = int(np.flatnonzero(present)[np.argmax(bad)]) + 1
    raise InputDataError(f"{path}: senPos is not a list of 3 numbers in record "
                         f"{offset + local}: {excerpt(texts, local)}")


def as_float(column: pa.Array) -> np.ndarray:
    """float64 values, NaN where null."""
    values = _values(pc.cast(column, pa.float64()), np.float64)
    valid = _valid(column)
    return values.copy() if valid is None else np.where(valid, values, np.nan)


def as_int64(column: pa.Array, missing: int = 0) -> np.ndarray:
    """int64 values (timestamps as ns); nulls become ``missing``."""
    values = _values(pc.cast(column, pa.int64()), np.int64)
    valid = _valid(column)
    return values.copy() if valid is None else np.where(valid, values, missing)


def as_bool(column: pa.Array) -> np.ndarray:
    """Booleans, null as False."""
    values = _bits(column.buffers()[1], column.offset, len(column))
    valid = _valid(column)
    return values if valid is None else values & valid


def first_true(mask: pa.Array) -> int:
    """1-based number of the first true row of a boolean column."""
    return int(np.argmax(as_bool(mask))) + 1


def excerpt(texts: pa.Array, row: int) -> str:
    """A short repr of the text in 1-based ``row``, for an error message."""
    value = texts[row - 1].as_py()
    return repr(value if value is None or len(value) <= 80 else value[:77] + "...")


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
