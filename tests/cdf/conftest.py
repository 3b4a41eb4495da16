"""Fixtures of the CDF tests: short synthetic artifacts and an independent expectation.

Artifacts are windows of a synthetic day (minutes, not a whole day) so the tests stay
fast. The expectation is computed from the records in plain Python, the slow obvious
way, so it does not share code with the vectorized implementation under test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from swxsoc_reach.days import day_window
from swxsoc_reach.mission import sensor_by_observatory
from swxsoc_reach.paths import artifact_name
from swxsoc_reach.synthetic import SyntheticOptions, iter_records, write_csv, write_json

DAY = dt.date(2026, 1, 1)
FILL = -1.0e31

Record = dict[str, Any]


@dataclass(frozen=True)
class Artifact:
    """An artifact on disk and the records it holds."""

    path: Path
    records: list[Record]
    day: dt.date = DAY


def as_datetime64(udl_time: str) -> np.datetime64:
    """``2026-01-01T00:00:05.403Z`` -> numpy datetime64[ns] (UTC)."""
    return np.datetime64(udl_time.removesuffix("Z"), "ns")


def window(minutes: float, *, start_minute: float = 0.0,
           day: dt.date = DAY) -> tuple[dt.datetime, dt.datetime]:
    """An inclusive [start, end] window inside ``day``, as iter_records takes it."""
    start = day_window(day)[0] + dt.timedelta(minutes=start_minute)
    return start, start + dt.timedelta(minutes=minutes) - dt.timedelta(microseconds=1)


def write_window(directory: Path, options: SyntheticOptions | None = None, *,
                 minutes: float = 10.0, start_minute: float = 0.0, output_format: str = "csv",
                 edit: Callable[[list[Record]], list[Record]] | None = None,
                 name: str | None = None, day: dt.date = DAY) -> Artifact:
    """Write synthetic records of a window of ``day`` (optionally edited) as an artifact."""
    start, end = window(minutes, start_minute=start_minute, day=day)
    options = options or SyntheticOptions()
    records = list(iter_records(day, options, start=start, end=end))
    if edit is not None:
        records = edit(records)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (name or artifact_name(day, options.sensor_id, output_format))
    if output_format == "json":
        write_json(path, records)
    else:
        write_csv(path, records, options)
    return Artifact(path, records, day)


def _only_sensors(*labels: str) -> Callable[[list[Record]], list[Record]]:
    return lambda records: [r for r in records if r["idSensor"] in labels]


@pytest.fixture(scope="session")
def only_sensors() -> Callable[..., Callable[[list[Record]], list[Record]]]:
    """An edit keeping the records of the given sensors only (the other pods were silent)."""
    return _only_sensors


@pytest.fixture(scope="session")
def artifact_writer() -> Callable[..., Artifact]:
    """``write_window``, for fixtures wider than one test."""
    return write_window


@pytest.fixture
def make_artifact(tmp_path: Path) -> Callable[..., Artifact]:
    """Factory: ``write_window`` into ``tmp_path/raw``."""

    def make(options: SyntheticOptions | None = None, **kwargs: Any) -> Artifact:
        return write_window(tmp_path / "raw", options, **kwargs)

    return make


# UDL's quality words and the codes docs/cdf-product.md gives them (written out here, not
# imported, so the expectation does not share the code under test)
QUALITY_WORDS = {"GOOD": 0.0, "UNCERTAIN": 65533.0, "UNKNOWN": 65534.0, "BAD": 65535.0}


def expected_quality(value: Any) -> float:
    """What a CDF holds for one obQuality: the number, a word's code, else fill."""
    if value is None:
        return FILL
    try:
        return float(value)
    except (TypeError, ValueError):
        return QUALITY_WORDS.get(str(value).strip().upper(), FILL)


def in_j2000(record: Record) -> bool:
    """Whether a record's senPos is J2000 (GEI): no, null or blank frame, or J2000 in any case."""
    frame = record.get("senReferenceFrame")
    return frame is None or str(frame).strip().upper() in ("", "J2000")


def latest_cells(records: list[Record]) -> dict[tuple[str, str, str], Record]:
    """The latest-createdAt record of each (sensor, flavor, time), sensor imputed if missing."""
    table = sensor_by_observatory()
    cells: dict[tuple[str, str, str], Record] = {}
    for record in records:
        sensor = record.get("idSensor") or table[record["observatoryName"]]
        key = (sensor, record["seoList"][0]["obDescription"], record["obTime"])
        if key not in cells or record["createdAt"] >= cells[key]["createdAt"]:
            cells[key] = record
    return cells


@pytest.fixture(scope="session")
def to_datetime64() -> Callable[[str], np.datetime64]:
    """UDL time text -> numpy datetime64[ns], to compare with what a CDF holds."""
    return as_datetime64


@pytest.fixture(scope="session")
def round_trip() -> Callable[[dict[str, Any], list[Record]], dict[tuple[str, str, str], Record]]:
    """Check that each deduplicated record's values sit at its (time, sensor, flavor) cell
    and every other cell is fill; return the deduplicated records."""

    def check(contents: dict[str, Any], records: list[Record]) -> dict[tuple[str, str, str],
                                                                       Record]:
        cells = latest_cells(records)
        times = contents["times"]
        np.testing.assert_array_equal(
            times, np.unique(np.array([as_datetime64(k[2]) for k in cells])))
        t_of = {t: i for i, t in enumerate(times.tolist())}
        labels, flavors = contents["sensor_labels"], contents["dosimeter_flavors"]
        seen = np.zeros(contents["dose_rate"].shape, dtype=bool)
        positions: dict[tuple[int, int], list[list[float]]] = {}
        for (sensor, flavor, when), record in cells.items():
            t = t_of[as_datetime64(when).tolist()]
            s = labels.index(sensor)
            f = list(flavors[s]).index(flavor)
            seo = record["seoList"][0]
            assert contents["dose_rate"][t, s, f] == seo["obValue"]
            assert contents["dose_rate_quality"][t, s, f] == expected_quality(
                seo.get("obQuality"))
            for name in ("lat", "lon", "alt"):
                assert contents[name][t, s] == record[name]
            positions.setdefault((t, s), [])
            if in_j2000(record):  # another frame's position is left out
                positions[t, s].append(record["senPos"])
            seen[t, s, f] = True
        for (t, s), gei in positions.items():
            held = [contents[f"sensor_position_{axis}"][t, s] for axis in "xyz"]
            assert held in gei if gei else held == [FILL] * 3
        assert np.all(contents["dose_rate"][~seen] == FILL)
        assert np.all(contents["dose_rate_quality"][~seen] == FILL)
        quality = np.where(seen, contents["dose_rate_quality"], -np.inf).max(axis=2)
        sensor_seen = seen.any(axis=2)
        np.testing.assert_array_equal(contents["obQuality"][sensor_seen], quality[sensor_seen])
        for name in ("lat", "obQuality", "sensor_position_x"):
            assert np.all(contents[name][~sensor_seen] == FILL)
        return cells

    return check


@pytest.fixture(scope="session")
def read_cdf() -> Callable[[Path], dict[str, Any]]:
    """Read every variable of a product with cdflib, record dimension kept."""

    def read(path: Path) -> dict[str, Any]:
        import cdflib

        cdf = cdflib.CDF(str(path))
        epoch = np.atleast_1d(cdf.varget("Epoch"))
        n_t = len(epoch)
        labels = [str(x) for x in np.atleast_1d(cdf.varget("sensor_labels"))]
        flavors = np.asarray(cdf.varget("dosimeter_flavors")).reshape(len(labels), -1)
        out: dict[str, Any] = {
            "Epoch": epoch,
            "times": cdflib.cdfepoch.to_datetime(epoch),
            "sensor_labels": labels,
            "dosimeter_flavors": flavors,
            "globals": {k: v[0] if isinstance(v, list) and len(v) == 1 else v
                        for k, v in cdf.globalattsget().items()},
            "cdf": cdf,
        }
        n_s, n_f = flavors.shape
        for name in ("dose_rate", "dose_rate_quality"):
            out[name] = np.asarray(cdf.varget(name)).reshape(n_t, n_s, n_f)
        for name in ("lat", "lon", "alt", "obQuality", "sensor_position_x",
                     "sensor_position_y", "sensor_position_z"):
            out[name] = np.asarray(cdf.varget(name)).reshape(n_t, n_s)
        return out

    return read
