"""Read one UDL artifact (CSV or JSON array) into parsed columns: l1c-cdf.md step 1, udl.md.

A CSV is streamed in blocks that worker threads parse (``cells``) while the reader
reads on, so no per-record Python runs and the peak memory stays near the parsed
columns. JSON artifacts are rare and parsed with :mod:`json` (correctness first).
Any unreadable or inconsistent input raises ``InputDataError`` naming the file.

Given a ``digest`` (a ``hashlib`` object), every byte of the file as stored (compressed
or not) passes through it exactly once on the way to the parser, so ``process`` checks
the artifact against its recorded SHA-256 without a second read (issue 17).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from swxsoc_reach.cdf.cells import (
    SEO_PATTERNS,
    SEO_REQUIRED,
    as_int64,
    first_true,
    numbers,
    positions,
    seo_fields,
)
from swxsoc_reach.cdf.values import ValueNotes, other_frame, qualities
from swxsoc_reach.errors import InputDataError

NUMERIC = ("lat", "lon", "alt")
TIMES = ("obTime", "createdAt")
SENSOR_COLUMNS = ("idSensor", "observatoryName")
FRAME = "senReferenceFrame"  # optional; absent or null means J2000 (values.py)
REQUIRED = ("obTime", "createdAt", "seoList", "senPos", "descriptor", *NUMERIC)
_NULL_TEXT = ("", "None", "null")  # how JSON, Python repr and CSV spell "no value"
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
    sen_pos: np.ndarray  # (N, 3) float64 km GEI, NaN when missing or in another frame
    notes: ValueNotes  # obQuality words and other frames met (values.py)

    def __len__(self) -> int:
        return len(self.ob_time)


class _Digesting(io.RawIOBase):
    """A file read once, front to back, each block handed to a digest on a thread of its
    own (hashlib releases the GIL), so hashing runs beside the parser instead of before
    it: the parser's reads are not held up by the SHA-256 of the block they take."""

    _AHEAD = 4  # blocks read but not yet digested, at most (bounded memory)

    def __init__(self, path: Path, digest: Any) -> None:
        super().__init__()
        self._raw = open(path, "rb", buffering=0)  # noqa: SIM115 (closed with this object)
        self._digest = digest
        self._hasher = ThreadPoolExecutor(1, thread_name_prefix="digest")  # keeps the order
        self._queued: deque[Future[None]] = deque()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        block = self._raw.read(size) if size >= 0 else self._raw.readall()
        self._hand_on(block or b"")
        return block or b""

    def readinto(self, buffer: Any) -> int:
        block = self.read(len(buffer))
        buffer[:len(block)] = block
        return len(block)

    def _hand_on(self, block: bytes) -> None:
        if block:
            self._queued.append(self._hasher.submit(self._digest.update, block))
            while len(self._queued) > self._AHEAD:
                self._queued.popleft().result()

    def drain(self) -> None:
        """Digest what the parser left unread (it stops at the data's end, not the file's),
        and wait for every block to be digested."""
        while block := self._raw.read(1 << 20):
            self._hand_on(block)
        while self._queued:
            self._queued.popleft().result()

    def close(self) -> None:
        self._hasher.shutdown(wait=True)
        self._raw.close()
        super().close()


def read_artifact(path: Path, digest: Any = None) -> RecordFrame:
    """Parse a CSV or JSON-array artifact, plain or zstd (``.zst``); bad input raises
    ``InputDataError``. ``digest``, when given, is fed every byte of the file."""
    path = Path(path)
    compressed = path.suffix.lower() == ".zst"
    try:
        if compressed:  # a cut-off stream fails to decompress: no last-byte check needed
            with _open_binary(path) as fh:
                head, last = fh.read(4096), b"\n"
        else:
            size = path.stat().st_size
            with open(path, "rb") as fh:
                head = fh.read(4096)
                fh.seek(max(0, size - 1))
                last = fh.read(1)
    except OSError as exc:
        raise InputDataError(f"{path}: cannot read artifact: "
                             f"{exc.strerror or exc}") from exc
    if not head.strip():
        raise InputDataError(f"{path}: artifact is empty")
    inner = path.with_suffix("") if compressed else path
    if inner.suffix.lower() == ".json" or head.lstrip()[:1] in (b"[", b"{"):
        return _read_json(path, digest)
    if last != b"\n":
        raise InputDataError(f"{path}: CSV is truncated (the last line has no line end)")
    return _read_csv(path, digest)


def _open_binary(path: Path) -> Any:
    """The artifact's bytes as a file object, decompressed when it is ``.zst``."""
    if path.suffix.lower() == ".zst":
        return pa.CompressedInputStream(pa.OSFile(str(path)), "zstd")
    return open(path, "rb")


@contextlib.contextmanager
def _digested(path: Path, digest: Any) -> Iterator[Any]:
    """The artifact as a pyarrow stream (decompressed when ``.zst``) whose stored bytes
    pass through ``digest``; on a clean exit the digest has had every byte of the file."""
    raw = _Digesting(path, digest)
    try:
        yield pa.CompressedInputStream(pa.PythonFile(raw, mode="r"), "zstd") \
            if path.suffix.lower() == ".zst" else raw
        raw.drain()
    finally:
        raw.close()


# ---- CSV -------------------------------------------------------------------------------


def _read_csv(path: Path, digest: Any = None) -> RecordFrame:
    """Stream the CSV in blocks; workers parse each block while the reader reads on.

    Streaming keeps the peak memory to the parsed columns plus a few blocks of text
    (a full day's seoList text alone is ~200 MB).
    """
    header = _csv_header(path)
    _check_columns(path, header)
    wanted = [c for c in (*REQUIRED, *SENSOR_COLUMNS, FRAME) if c in header]
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
    with ThreadPoolExecutor(max_workers=workers) as pool, contextlib.ExitStack() as stack:
        try:
            # pyarrow opens a plain path itself (its fastest read); with a digest, through it
            source = path if digest is None else stack.enter_context(_digested(path, digest))
            reader = pa_csv.open_csv(source, read_options=pa_csv.ReadOptions(block_size=_BLOCK),
                                     convert_options=convert)
            offset = 0
            for batch in reader:
                pending.append(pool.submit(_parse_batch, path, batch, offset))
                offset += batch.num_rows
                while len(pending) > 2 * workers:  # bound the text held in memory
                    parts.append(pending.popleft().result())
                    pool_memory.release_unused()  # mimalloc keeps freed blocks otherwise
        except (pa.ArrowInvalid, OSError) as exc:  # OSError: a cut-off .zst stream
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
    seo = seo_fields(path, columns.pop("seoList"), offset)
    return _part(path, columns, seo, offset)


def _csv_header(path: Path) -> list[str]:
    with _open_binary(path) as fh:  # a header line is far shorter than 64 KiB
        line = fh.read(1 << 16).split(b"\n", 1)[0].decode("utf-8-sig")
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


# ---- JSON ------------------------------------------------------------------------------


def _read_json(path: Path, digest: Any = None) -> RecordFrame:
    try:
        with _open_binary(path) if digest is None else _digested(path, digest) as fh:
            records = json.loads(fh.read())
    except OSError as exc:
        raise InputDataError(f"{path}: cannot read artifact: {exc}") from exc
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
               for name in ("descriptor", *SENSOR_COLUMNS, *NUMERIC, FRAME)}
    for name in TIMES:
        columns[name] = _parse_times(path, name, _texts(r.get(name) for r in records))
    columns["senPos"] = _texts(None if r.get("senPos") is None else json.dumps(r["senPos"])
                               for r in records)
    seo = {name: _texts(o.get(name) for o in observations) for name in SEO_PATTERNS}
    for name in SEO_REQUIRED:
        if seo[name].null_count:
            raise InputDataError(f"{path}: seoList[0] has no {name} in record "
                                 f"{first_true(seo[name].is_null())}")
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
    notes: ValueNotes


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
                             f"{offset + first_true(ob_time.is_null())}")
    oldest = np.iinfo(np.int64).min  # a record without createdAt loses every tie
    texts = {name: cols[name] for name in (*SENSOR_COLUMNS, "descriptor") if name in cols}
    texts["obDescription"] = seo["obDescription"]
    texts = {name: pc.dictionary_encode(pc.utf8_trim_whitespace(column))
             for name, column in texts.items()}  # a few distinct values: small to keep
    notes = ValueNotes()
    sen_pos = positions(path, cols["senPos"], offset)
    elsewhere = other_frame(cols.get(FRAME), notes)
    if elsewhere is not None:
        sen_pos[elsewhere] = np.nan  # not GEI: left out of the position variables
    return _Part(
        ob_time=as_int64(ob_time),
        created_at=as_int64(cols["createdAt"], missing=oldest),
        ob_value=numbers(path, "seoList obValue", seo["obValue"], offset),
        ob_quality=qualities(seo["obQuality"], notes),
        lat=numbers(path, "lat", cols["lat"], offset),
        lon=numbers(path, "lon", cols["lon"], offset),
        alt=numbers(path, "alt", cols["alt"], offset),
        sen_pos=sen_pos,
        texts=texts,
        notes=notes,
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
    notes = ValueNotes()
    for part in parts:
        notes.add(part.notes)
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
        notes=notes,
    )


def _labels(blocks: Sequence[pa.DictionaryArray]) -> Labels:
    """Merge per-block dictionaries into one code space (-1 = missing)."""
    index: dict[str, int] = {}
    codes = []
    for block in blocks:
        to_global = [index.setdefault(v, len(index)) for v in block.dictionary.to_pylist()]
        lookup = np.array([*to_global, -1], dtype=np.int32)  # a null index (-1) hits the last
        codes.append(lookup[as_int64(block.indices, missing=-1)])
    return Labels(np.concatenate(codes), tuple(index))
