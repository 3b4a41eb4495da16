"""The REACH mission table: which Iridium satellite carries which sensor and its flavors.

Public REACH mission metadata, shipped as package data (``data/reach-sensors.csv``)
and parsed once per process.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

from swxsoc_reach.errors import ConfigError

ALL_SENSORS = "ALL"
SAMPLE_PERIOD_S = 5
SAMPLES_PER_DAY = 86_400 // SAMPLE_PERIOD_S  # 17,280 per dosimeter


@dataclass(frozen=True)
class Sensor:
    """One REACH pod: its sensor id, host satellite and two dosimeter flavors."""

    sensor_id: str
    observatory_name: str
    pod_model: int
    flavors: tuple[str, ...]

    @property
    def number(self) -> int:
        """The number in the label (``REACH-135`` -> 135)."""
        return int(self.sensor_id.split("-", 1)[1])

    @functools.cached_property
    def descriptions(self) -> tuple[str, ...]:
        """The ``seoList[0].obDescription`` of each dosimeter, as UDL spells it (sorted).

        The product's flavor axis of a sensor that sent nothing that day (l1c-cdf.md step 6).
        """
        return tuple(f"DOSE{k + 1} (Flavor {flavor}) in rad/second"
                     for k, flavor in enumerate(self.flavors))


@functools.cache
def sensors() -> tuple[Sensor, ...]:
    """All REACH sensors, sorted by id."""
    text = resources.files("swxsoc_reach").joinpath("data/reach-sensors.csv").read_text()
    rows = csv.DictReader(text.splitlines())
    table = [
        Sensor(
            sensor_id=row["sensor_id"],
            observatory_name=row["observatory_name"],
            pod_model=int(row["pod_model"]),
            flavors=tuple(row["flavors"].split()),
        )
        for row in rows
    ]
    return tuple(sorted(table, key=lambda s: s.sensor_id))


@functools.cache
def sensor_by_observatory() -> dict[str, str]:
    """Map ``Iridium-106`` -> ``REACH-105`` (imputes a missing ``idSensor``)."""
    return {s.observatory_name: s.sensor_id for s in sensors()}


def get_sensor(sensor_id: str) -> Sensor:
    """Look a sensor up by id; an unknown id is a usage error listing what exists."""
    for sensor in sensors():
        if sensor.sensor_id == sensor_id:
            return sensor
    known = ", ".join(s.sensor_id for s in sensors())
    raise ConfigError(f"unknown sensor id {sensor_id!r}: use ALL or one of {known}")


def check_sensor_id(sensor_id: str) -> str:
    """Return ``sensor_id`` if it is ``ALL`` or a known sensor, else raise ``ConfigError``."""
    if sensor_id != ALL_SENSORS:
        get_sensor(sensor_id)
    return sensor_id


def expected_records(sensor_id: str) -> int:
    """Records in a complete day: 2 dosimeters x 17,280 samples per sensor."""
    per_sensor = 2 * SAMPLES_PER_DAY
    return per_sensor * (len(sensors()) if sensor_id == ALL_SENSORS else 1)
