"""Deterministic synthetic UDL records for any day: tests, benchmarks, the demo and the
local UDL server all draw from here, so they agree on what a day holds.

Every value is a pure function of (seed, day, sensor, time index), so any time
window can be generated on its own (the UDL server answers windows) and two calls
give identical records. A day's numeric fields are computed with numpy per sensor
and cached; records are produced lazily so a full day (1,105,920 records) streams
to disk without being held in memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from swxsoc_reach.days import day_window
from swxsoc_reach.fsutil import atomic_write
from swxsoc_reach.mission import ALL_SENSORS, SAMPLE_PERIOD_S, SAMPLES_PER_DAY, Sensor, get_sensor
from swxsoc_reach.mission import sensors as all_sensors
from swxsoc_reach.paths import artifact_name
from swxsoc_reach.udl.chunks import format_udl_time

EARTH_RADIUS_KM = 6371.0
IRIDIUM_ALT_KM = 780.0
IRIDIUM_INCLINATION_DEG = 86.4
IRIDIUM_PERIOD_S = 6027.0  # ~100.5 min
_PER_HOUR = 3600 / SAMPLE_PERIOD_S  # samples an hour
EXTRA_KEYS = ("msgType", "srcIds", "origin", "senReferenceFrame", "updatedAt", "updatedBy")


@dataclass(frozen=True)
class SyntheticOptions:
    """How a synthetic day departs from a perfect one (all off by default)."""

    seed: int = 0
    sensor_id: str = ALL_SENSORS
    descriptor: str = "QUICKLOOK"
    duplicate_fraction: float = 0.0  # records re-served with a later createdAt and new value
    missing_id_fraction: float = 0.0  # records without idSensor (imputable from observatoryName)
    gap_fraction: float = 0.0  # samples a sensor did not deliver
    fractional_seconds: bool = False  # per-sensor millisecond offsets on obTime
    nested_style: Literal["json", "repr"] = "json"  # how CSV serializes seoList/senPos
    extra_keys: bool = False  # newer UDL answers carry more keys
    shuffle_columns: bool = False  # CSV columns in a seeded random order
    absent: tuple[tuple[str, float, float], ...] = ()  # (sensor, from hour, to hour): silent


@dataclass(frozen=True)
class _SensorDay:
    """Numeric fields of one sensor's day (arrays of SAMPLES_PER_DAY)."""

    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    pos: np.ndarray  # (T, 3) km, GEI
    dose: np.ndarray  # (T, flavors) rad/s
    quality: np.ndarray  # (T, flavors) int
    offset_ms: int


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


@functools.lru_cache(maxsize=64)
def _sensor_day(seed: int, day: dt.date, sensor: Sensor, fractional: bool) -> _SensorDay:
    rng = _rng(seed, day.toordinal(), sensor.sensor_id)
    t = np.arange(SAMPLES_PER_DAY) * SAMPLE_PERIOD_S + day.toordinal() * 86_400.0
    phase = 2 * np.pi * (t / IRIDIUM_PERIOD_S) + rng.uniform(0, 2 * np.pi)
    incl = np.radians(IRIDIUM_INCLINATION_DEG)
    node = rng.uniform(0, 2 * np.pi) - 2 * np.pi * (t % 86_400) / 86_400  # Earth turns under
    lat_r = np.arcsin(np.sin(incl) * np.sin(phase))
    lon_r = node + np.arctan2(np.cos(incl) * np.sin(phase), np.cos(phase))
    lat = np.degrees(lat_r)
    lon = (np.degrees(lon_r) + 180.0) % 360.0 - 180.0
    alt = IRIDIUM_ALT_KM + 8.0 * np.sin(phase * 2) + rng.normal(0, 0.5, t.size)
    radius = EARTH_RADIUS_KM + alt
    pos = np.stack(
        [radius * np.cos(lat_r) * np.cos(lon_r), radius * np.cos(lat_r) * np.sin(lon_r),
         radius * np.sin(lat_r)],
        axis=1,
    )
    # outer-belt horns at |lat| ~ 65 deg and the South Atlantic Anomaly drive the dose rate
    horns = np.exp(-(((np.abs(lat) - 65.0) / 6.0) ** 2))
    saa = np.exp(-(((lat + 30.0) / 12.0) ** 2 + ((lon + 45.0) / 25.0) ** 2))
    flavors = len(sensor.flavors)
    base = 10.0 ** rng.uniform(-7.0, -6.0, flavors)
    dose = base * (1.0 + 300.0 * horns[:, None] + 3000.0 * saa[:, None])
    dose *= rng.lognormal(0.0, 0.1, (t.size, flavors))
    quality = np.where(rng.random((t.size, flavors)) < 0.02, 4, 0)
    offset_ms = int(rng.integers(1, 999)) if fractional else 0
    return _SensorDay(lat, lon, alt, pos, dose, quality, offset_ms)


def day_sensors(sensor_id: str) -> tuple[Sensor, ...]:
    """The sensors a query for ``sensor_id`` (or ``ALL``) covers."""
    return all_sensors() if sensor_id == ALL_SENSORS else (get_sensor(sensor_id),)


def _ob_time(day_start: dt.datetime, index: int, offset_ms: int) -> dt.datetime:
    return day_start + dt.timedelta(seconds=index * SAMPLE_PERIOD_S, milliseconds=offset_ms)


def _record_id(seed: int, sensor_id: str, flavor: str, when: str, version: int) -> str:
    digest = hashlib.md5(f"{seed}|{sensor_id}|{flavor}|{when}|{version}".encode()).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def _unit_hash(*parts: object) -> float:
    digest = hashlib.md5(repr(parts).encode()).digest()
    return int.from_bytes(digest[:4], "little") / 2**32


def iter_records(
    day: dt.date,
    options: SyntheticOptions = SyntheticOptions(),
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the day's records sorted by ``obTime``, optionally only those in ``[start, end]``.

    Both bounds are inclusive, like UDL's ``obTime`` range.
    """
    day_start, day_end = day_window(day)
    sensors = day_sensors(options.sensor_id)
    data = {s: _sensor_day(options.seed, day, s, options.fractional_seconds) for s in sensors}
    lo = max(0, int(((start or day_start) - day_start).total_seconds() // SAMPLE_PERIOD_S) - 1)
    hi = min(SAMPLES_PER_DAY, int(((end or day_end) - day_start).total_seconds()
                                  // SAMPLE_PERIOD_S) + 1)
    created = format_udl_time(day_end + dt.timedelta(minutes=30))
    recreated = format_udl_time(day_end + dt.timedelta(hours=6))
    for index in range(lo, hi):
        batch = []
        for sensor in sensors:
            d = data[sensor]
            when_dt = _ob_time(day_start, index, d.offset_ms)
            if (start and when_dt < start) or (end and when_dt > end) or when_dt >= day_end:
                continue
            if any(sensor.sensor_id == silent and lo_h <= index / _PER_HOUR < hi_h
                   for silent, lo_h, hi_h in options.absent):
                continue
            if options.gap_fraction and _unit_hash(options.seed, "gap", sensor.sensor_id,
                                                   day, index) < options.gap_fraction:
                continue
            when = format_udl_time(when_dt)
            for k, flavor in enumerate(sensor.flavors):
                record = _make_record(options, sensor, d, index, k, flavor, when, created, day)
                dup = options.duplicate_fraction and _unit_hash(
                    options.seed, "dup", sensor.sensor_id, flavor, day, index
                ) < options.duplicate_fraction
                if dup:
                    newer = {**record, "createdAt": recreated,
                             "id": _record_id(options.seed, sensor.sensor_id, flavor, when, 2),
                             "seoList": [{**record["seoList"][0],
                                          "obValue": record["seoList"][0]["obValue"] * 1.5}]}
                    # UDL does not promise which copy comes first
                    batch.extend((newer, record) if index % 2 else (record, newer))
                else:
                    batch.append(record)
        batch.sort(key=lambda r: r["obTime"])
        yield from batch


def count_records(day: dt.date, options: SyntheticOptions, sensor_id: str | None,
                  start: dt.datetime, end: dt.datetime) -> int | None:
    """How many of ``iter_records(day, options, start=start, end=end)`` carry ``sensor_id``
    (every record: None), computed without making them (a full ``ALL`` day: microseconds,
    not the ~70 s of making its records).

    None when ``options`` make the answer depend on per-record draws (gaps,
    duplicates, records without ``idSensor``, silent spells): the caller counts
    the records themselves then.
    """
    if (options.gap_fraction or options.duplicate_fraction or options.missing_id_fraction
            or options.absent):
        return None
    sensors = day_sensors(options.sensor_id)
    if sensor_id is not None:
        sensors = tuple(s for s in sensors if s.sensor_id == sensor_id)
    day_start, day_end = day_window(day)
    period_us = int(SAMPLE_PERIOD_S * 1_000_000)
    lo_us = _micros(max(start, day_start) - day_start)
    hi_us = min(_micros(end - day_start), _micros(day_end - day_start) - 1)
    total = 0
    for sensor in sensors:
        offset_us = 1000 * (_sensor_day(options.seed, day, sensor, True).offset_ms
                            if options.fractional_seconds else 0)
        # samples k with lo <= k * period + offset <= hi, 0 <= k < SAMPLES_PER_DAY
        first = max(0, -(-(lo_us - offset_us) // period_us))
        last = min(SAMPLES_PER_DAY - 1, (hi_us - offset_us) // period_us)
        total += len(sensor.flavors) * max(0, last - first + 1)
    return total


def _micros(delta: dt.timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _make_record(options: SyntheticOptions, sensor: Sensor, d: _SensorDay, index: int, k: int,
                 flavor: str, when: str, created: str, day: dt.date) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": _record_id(options.seed, sensor.sensor_id, flavor, when, 1),
        "classificationMarking": "U",
        "dataType": "ECP",
        "genTime": when,
        "idOnOrbit": str(sensor.number + 40000),
        "satNo": sensor.number + 40000,
        "idSensor": sensor.sensor_id,
        "origSensorId": sensor.sensor_id,
        "observatoryType": "ONORBIT",
        "observatoryName": sensor.observatory_name,
        "instrumentType": "DOSIMETER",
        "lat": round(float(d.lat[index]), 4),
        "lon": round(float(d.lon[index]), 4),
        "alt": round(float(d.alt[index]), 3),
        "senPos": [round(float(v), 3) for v in d.pos[index]],
        "obSetId": f"REACH_{flavor}",
        "particleType": "PROTONS+ELECTRONS",
        "obTime": when,
        "seoList": [{
            "obType": "Energetic Charged Particle",
            "obUoM": "rad/second",
            "obValue": float(f"{d.dose[index, k]:.6e}"),
            "obQuality": str(int(d.quality[index, k])),
            "obDescription": sensor.descriptions[k],
        }],
        "descriptor": options.descriptor,
        "createdAt": created,
        "createdBy": "system.reach",
        "source": "Aerospace",
        "dataMode": "REAL",
        "origNetwork": "OPS1",
    }
    if options.missing_id_fraction and _unit_hash(
        options.seed, "noid", sensor.sensor_id, flavor, day, index
    ) < options.missing_id_fraction:
        del record["idSensor"]
    if options.extra_keys:
        record.update(msgType="REACH", srcIds=["x"], origin="AEROSPACE",
                      senReferenceFrame="J2000", updatedAt=created, updatedBy="system.reach")
    return record


CSV_COLUMNS: tuple[str, ...] = tuple(
    _make_record(SyntheticOptions(), all_sensors()[0], _sensor_day(0, dt.date(2000, 1, 1),
                 all_sensors()[0], False), 0, 0, "X", "", "", dt.date(2000, 1, 1))
)


def csv_columns(options: SyntheticOptions) -> list[str]:
    """The CSV header for ``options`` (order shuffled when asked)."""
    columns = list(CSV_COLUMNS) + (list(EXTRA_KEYS) if options.extra_keys else [])
    if options.shuffle_columns:
        _rng(options.seed, "columns").shuffle(columns)
    return columns


def _cell(value: Any, style: str) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value) if style == "json" else repr(value)
    return "" if value is None else value


def write_csv(path: Path, records: Iterable[dict[str, Any]], options: SyntheticOptions) -> int:
    """Stream records to a CSV artifact (atomically); return how many were written."""
    columns = csv_columns(options)
    count = 0
    with atomic_write(Path(path)) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(columns)
        for record in records:
            writer.writerow([_cell(record.get(c), options.nested_style) for c in columns])
            count += 1
        text.flush()
        text.detach()
    return count


def write_json(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """Stream records to a JSON-array artifact (atomically); return how many were written."""
    count = 0
    with atomic_write(Path(path)) as raw:
        raw.write(b"[")
        for record in records:
            raw.write((b"," if count else b"") + json.dumps(record).encode())
            count += 1
        raw.write(b"]")
    return count


def write_artifact(
    directory: Path,
    day: dt.date,
    options: SyntheticOptions = SyntheticOptions(),
    *,
    hours: float | None = None,
    output_format: str = "csv",
) -> Path:
    """Write a day (or only its first ``hours``) as a Phase 1 artifact in ``directory``.

    Tests and the demo use short days: a whole day of one sensor is 34,560 records.
    """
    path = Path(directory) / artifact_name(day, options.sensor_id, output_format)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_day(path, day, options, hours=hours)
    return path


def write_day(path: Path, day: dt.date, options: SyntheticOptions = SyntheticOptions(), *,
              hours: float | None = None) -> int:
    """Write a synthetic day (or its first ``hours``) to ``path``, format from its suffix;
    return the record count."""
    start, end = day_window(day)
    if hours is not None:
        end = start + dt.timedelta(hours=hours) - dt.timedelta(microseconds=1)
    records = iter_records(day, options, start=start, end=end)
    if Path(path).suffix == ".json":
        return write_json(path, records)
    return write_csv(path, records, options)
