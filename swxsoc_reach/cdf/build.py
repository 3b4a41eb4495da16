"""Parsed records -> the product's axes and arrays: l1c-cdf.md "From records to arrays".

Steps 2-6 of the spec, all in numpy (no per-record Python): impute ``idSensor``
from ``observatoryName``, drop records without a sensor, keep the latest
``createdAt`` of each (sensor, obDescription, obTime), check the descriptor, keep
only the processed day, then scatter into (time, sensor, flavor) arrays whose sensor
and flavor axes come from the mission table (so every day of a dataset has one shape).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field

import numpy as np

from swxsoc_reach.cdf.read import Labels, RecordFrame
from swxsoc_reach.cdf.values import ValueNotes
from swxsoc_reach.days import day_window
from swxsoc_reach.errors import InputDataError
from swxsoc_reach.mission import ALL_SENSORS, SAMPLE_PERIOD_S, sensor_by_observatory, sensors

logger = logging.getLogger(__name__)

NS_PER_S = 1_000_000_000
_SENSOR_LABEL = re.compile(r"^REACH-\d+$")  # sensor_ids holds the number


@dataclass(frozen=True)
class ProductArrays:
    """Axes and arrays of one CDF; NaN marks a missing sample (written as FILLVAL)."""

    epoch_ns: np.ndarray  # (T,) int64 ns since 1970 UTC, sorted unique obTime
    sensor_labels: tuple[str, ...]  # (S,) sorted
    flavors: tuple[tuple[str, ...], ...]  # (S, F) sorted obDescription per sensor, "" padded
    dose_rate: np.ndarray  # (T, S, F)
    dose_rate_quality: np.ndarray  # (T, S, F)
    ob_quality: np.ndarray  # (T, S) worst (largest) quality over the sensor's flavors
    lat: np.ndarray  # (T, S)
    lon: np.ndarray
    alt: np.ndarray
    position: np.ndarray  # (T, S, 3) km GEI; fill where every record's was in another frame
    descriptor: str
    resolution_ns: int  # the cadence of one sensor's samples (5 s for REACH)


@dataclass(frozen=True)
class BuildCounts:
    """What happened to the records, for the log line and the caller."""

    records_in: int
    without_sensor: int
    outside_day: int
    duplicates: int
    notes: ValueNotes = field(default_factory=ValueNotes)  # of the records read

    @property
    def kept(self) -> int:
        return self.records_in - self.without_sensor - self.outside_day - self.duplicates


def build_arrays(frame: RecordFrame, *, day: dt.date | None = None,
                 sensor_id: str = ALL_SENSORS) -> tuple[ProductArrays, BuildCounts]:
    """Clean, deduplicate and scatter ``frame``; raise ``InputDataError`` if nothing usable."""
    path = frame.path
    descriptor = _one_descriptor(frame)
    codes, labels = _impute_sensors(frame.sensor, frame.observatory)
    keep = codes >= 0
    without_sensor = int(np.count_nonzero(~keep))
    if without_sensor:
        logger.warning("%s: dropped %d records without idSensor or a known observatoryName",
                       path.name, without_sensor)
    frame.notes.log(path.name)
    _check_sensors(frame, codes[keep], labels, sensor_id)
    outside_day = 0
    if day is not None:
        start, end = (int(t.timestamp()) * NS_PER_S for t in day_window(day))
        in_day = (frame.ob_time >= start) & (frame.ob_time < end)
        outside_day = int(np.count_nonzero(keep & ~in_day))
        keep &= in_day
    rows = np.flatnonzero(keep)
    if rows.size == 0:
        where = f"in day {day.isoformat()}" if day is not None else "with a sensor"
        raise InputDataError(f"{path}: no record {where} ({len(frame)} records read)")

    sensor_axis = _sensor_axis(frame, {labels[c] for c in np.unique(codes[rows])}, sensor_id)
    position = {label: k for k, label in enumerate(sensor_axis)}
    s_of_code = np.array([position.get(label, -1) for label in labels], np.int64)
    s_idx = s_of_code[codes[rows]]
    epoch_ns, t_idx = np.unique(frame.ob_time[rows], return_inverse=True)
    table = {s.sensor_id: s.descriptions for s in sensors()}
    flavors, f_idx = _flavor_axis(s_idx, frame.description, rows,
                                  [table.get(label, ()) for label in sensor_axis])
    n_t, n_s, n_f = len(epoch_ns), len(sensor_axis), len(flavors[0])

    cell = (t_idx.astype(np.int64) * n_s + s_idx) * n_f + f_idx
    latest = _latest_per_cell(cell, frame.created_at[rows])
    winners, cell = rows[latest], cell[latest]
    duplicates = rows.size - winners.size

    dose = _scatter(cell, frame.ob_value[winners], n_t * n_s * n_f).reshape(n_t, n_s, n_f)
    quality = _scatter(cell, frame.ob_quality[winners], n_t * n_s * n_f).reshape(n_t, n_s, n_f)
    ts = cell // n_f  # (time, sensor) cell; both flavors carry the same position

    def per_sensor(values: np.ndarray) -> np.ndarray:
        chosen = values[winners]
        known = ~np.isnan(chosen)  # a flavor's missing lat must not hide the other's
        return _scatter(ts[known], chosen[known], n_t * n_s).reshape(n_t, n_s)

    position = np.stack([per_sensor(frame.sen_pos[:, k]) for k in range(3)], axis=-1)
    sampled = np.zeros(n_t * n_s, dtype=bool)
    sampled[ts] = True
    arrays = ProductArrays(
        epoch_ns=epoch_ns,
        sensor_labels=tuple(sensor_axis),
        flavors=flavors,
        dose_rate=dose,
        dose_rate_quality=quality,
        ob_quality=np.fmax.reduce(quality, axis=2),  # fmax: NaN only where all flavors miss
        lat=per_sensor(frame.lat),
        lon=per_sensor(frame.lon),
        alt=per_sensor(frame.alt),
        position=position,
        descriptor=descriptor,
        resolution_ns=_cadence(epoch_ns, sampled.reshape(n_t, n_s)),
    )
    return arrays, BuildCounts(len(frame), without_sensor, outside_day, duplicates,
                               frame.notes)


def _one_descriptor(frame: RecordFrame) -> str:
    if len(frame.descriptors) > 1:
        raise InputDataError(f"{frame.path}: records mix descriptors "
                             f"{', '.join(frame.descriptors)}; one file must hold one")
    if not frame.descriptors:
        raise InputDataError(f"{frame.path}: no record has a descriptor")
    return frame.descriptors[0]


def _impute_sensors(sensor: Labels, observatory: Labels) -> tuple[np.ndarray, list[str]]:
    """Sensor code per record over ``labels``; -1 where neither column names a sensor."""
    labels = list(sensor.values)
    table = sensor_by_observatory()
    imputed = np.full(len(observatory.values) + 1, -1, np.int64)  # last slot: no observatory
    for k, name in enumerate(observatory.values):
        label = table.get(name)
        if label is not None:
            if label not in labels:
                labels.append(label)
            imputed[k] = labels.index(label)
    codes = sensor.codes.astype(np.int64)
    missing = codes < 0
    codes[missing] = imputed[observatory.codes[missing]]  # code -1 picks the last slot
    return codes, labels


def _check_sensors(frame: RecordFrame, codes: np.ndarray, labels: list[str],
                   sensor_id: str) -> None:
    """A single-sensor artifact holds that sensor only (checked before the day filter)."""
    others = sorted({labels[c] for c in np.unique(codes)} - {sensor_id})
    if sensor_id != ALL_SENSORS and others:
        raise InputDataError(f"{frame.path}: a {sensor_id} artifact holds records of "
                             f"{', '.join(others)}")


def _sensor_axis(frame: RecordFrame, used: set[str], sensor_id: str) -> list[str]:
    """The product's sensors: the one asked, or for ``ALL`` every sensor of the mission
    table plus any other the day holds (warned), sorted by label.

    Fixed by the table rather than by the data, so every file of a dataset has the same
    shapes (CDAWeb's rule; pyspedas and xarray concatenate days along time only).
    """
    if sensor_id != ALL_SENSORS:
        return [sensor_id]
    unknown = sorted(used - {s.sensor_id for s in sensors()})
    unnumbered = [label for label in unknown if not _SENSOR_LABEL.match(label)]
    if unnumbered:
        raise InputDataError(f"{frame.path}: idSensor {', '.join(map(repr, unnumbered))} is "
                             "not of the form REACH-<number> (the product numbers its sensors)")
    if unknown:
        logger.warning("%s: sensor(s) %s not in the REACH sensor table; added to the sensor "
                       "axis (update data/reach-sensors.csv)", frame.path.name, ", ".join(unknown))
    return sorted({s.sensor_id for s in sensors()} | used)


def _flavor_axis(s_idx: np.ndarray, description: Labels, rows: np.ndarray,
                 defaults: list[tuple[str, ...]]) -> tuple[tuple[tuple[str, ...], ...],
                                                           np.ndarray]:
    """Each sensor's sorted descriptions, or its ``defaults`` (the mission table's) when it
    has no record; padded with "" to the largest count of either (so a day missing a
    flavor keeps the dataset's shape); the flavor index of each row."""
    names = description.values
    rank = np.argsort(np.argsort(np.array(names, dtype=object)))  # code -> alphabetical rank
    by_rank = sorted(names)
    pair = s_idx * len(names) + rank[description.codes[rows]]
    pairs, pair_idx = np.unique(pair, return_inverse=True)
    pair_sensor = pairs // len(names)
    starts = np.searchsorted(pair_sensor, np.arange(len(defaults)))
    f_of_pair = np.arange(len(pairs)) - starts[pair_sensor]
    seen: list[list[str]] = [[] for _ in defaults]
    for p, s in zip(pairs.tolist(), pair_sensor.tolist(), strict=True):
        seen[s].append(by_rank[p % len(names)])  # pairs are sorted: in f_of_pair order
    table = [tuple(own or default) for own, default in zip(seen, defaults, strict=True)]
    width = max(len(row) for row in (*table, *defaults))  # 2 for REACH, whatever the day
    return tuple(row + ("",) * (width - len(row)) for row in table), f_of_pair[pair_idx]


def _latest_per_cell(cell: np.ndarray, created_at: np.ndarray) -> np.ndarray:
    """Positions of the record with the latest createdAt in each cell (file order breaks ties)."""
    order = np.lexsort((created_at, cell))
    sorted_cells = cell[order]
    last = np.ones(order.size, bool)
    last[:-1] = sorted_cells[1:] != sorted_cells[:-1]
    return order[last]


def _scatter(cell: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    out = np.full(size, np.nan)
    out[cell] = values
    return out


def _cadence(epoch_ns: np.ndarray, has_sample: np.ndarray) -> int:
    """The most common step between one sensor's consecutive samples; the nominal 5 s if none."""
    steps = [np.diff(epoch_ns[has_sample[:, s]]) for s in range(has_sample.shape[1])]
    steps_all = np.concatenate(steps) if steps else np.empty(0, np.int64)
    if steps_all.size == 0:
        return SAMPLE_PERIOD_S * NS_PER_S
    values, counts = np.unique(steps_all, return_counts=True)
    return int(values[np.argmax(counts)])
