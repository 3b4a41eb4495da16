"""The per-day product summary: what a CDF holds, recorded beside it when it is made.

``write_summary`` runs in ``process_file`` right after the CDF is complete, so
``status``, its coverage view and the campaign report learn what each day held
(records in and dropped, samples per sensor and flavor, value ranges, sizes and
SHA-256 of the CDF and its artifact) without opening a single CDF: a decade of
days is 3,650 small JSON files, not 3,650 CDFs.

The file is ``<cdf stem>.summary.json`` in the about tree beside the archive
(``paths.summary_path``: ``about/l1c/prelim/YYYY/MM/DD/``, never among the CDFs),
written atomically. A summary an older version wrote beside its CDF (``<stem>.json``)
is still read until ``process`` moves it. Reading is cheap (orjson, no numpy):
``read_summary``.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from swxsoc_reach import __version__
from swxsoc_reach.fsutil import sha256_file, write_bytes_atomic
from swxsoc_reach.mission import SAMPLES_PER_DAY
from swxsoc_reach.paths import SUMMARY_SUFFIX, about_path, legacy_about_path, summary_path

if TYPE_CHECKING:
    import numpy as np

    from swxsoc_reach.cdf.build import BuildCounts, ProductArrays

SUMMARY_VERSION = 1  # bump when a key changes meaning; readers refuse other versions
# the (T, S) variables whose range the summary keeps, with dose_rate (T, S, F)
_RANGED = ("lat", "lon", "alt")


@dataclass(frozen=True)
class ProductSummary:
    """What ``status`` reads back from a summary file."""

    cdf_name: str
    day: dt.date | None
    records_read: int
    records_kept: int
    duplicates: int
    outside_day: int
    without_sensor: int
    times: int  # the CDF's Epoch length
    expected_samples: int | None  # per dosimeter: SAMPLES_PER_DAY for a day file, else None
    cdf_size_bytes: int
    artifact_size_bytes: int
    cdf_sha256: str  # of the CDF as written: process records it with PROCESSED
    artifact_sha256: str
    software_version: str  # the swxsoc_reach that made the CDF
    # per sensor: (obDescription per flavor, samples per flavor). Plain tuples of interned
    # strings and ints: a decade of them must not give the cyclic GC millions of objects
    sensors: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = field(repr=False)

    def flavors(self, sensor_id: str) -> tuple[str, ...]:
        """The sensor's obDescription per flavor slot (() when the file lacks the sensor)."""
        sensor = self.sensors.get(sensor_id)
        return sensor[0] if sensor else ()

    def availability(self, sensor_id: str, flavor: int | None = None) -> float | None:
        """Fraction of the expected samples present (0..1): one flavor, or all of a sensor.

        None when the file is not one day's (no expectation) or the slot does not exist.
        """
        sensor = self.sensors.get(sensor_id)
        if sensor is None or not self.expected_samples:
            return None
        samples = sensor[1]
        if flavor is None:
            return sum(samples) / (self.expected_samples * max(len(samples), 1))
        return samples[flavor] / self.expected_samples if flavor < len(samples) else None

    def sensor_availability(self) -> dict[str, float]:
        """``availability(sensor)`` of every sensor at once ({} for a file that is not a
        day's): what the coverage map of a decade asks 116,800 times."""
        expected = self.expected_samples
        if not expected:
            return {}
        return {label: sum(samples) / (expected * (len(samples) or 1))
                for label, (_, samples) in self.sensors.items()}


def write_summary(cdf_path: Path, artifact: Path, arrays: ProductArrays, counts: BuildCounts,
                  *, day: dt.date | None, artifact_sha256: str | None = None) -> Path:
    """Compute the summary of a just-written CDF and write it to the about tree, atomically.

    ``artifact_sha256``: the artifact's digest when the read already took it (else the
    artifact is read again for it)."""
    document = build_summary(cdf_path, artifact, arrays, counts, day=day,
                             artifact_sha256=artifact_sha256)
    path = summary_path(cdf_path)
    write_bytes_atomic(path, orjson.dumps(document) + b"\n")  # compact: status reads thousands
    return path


def build_summary(cdf_path: Path, artifact: Path, arrays: ProductArrays, counts: BuildCounts,
                  *, day: dt.date | None, artifact_sha256: str | None = None) -> dict[str, Any]:
    """The summary document (plain JSON values) of one CDF and the arrays it was written from."""
    import numpy as np

    times = len(arrays.epoch_ns)
    present = ~np.isnan(arrays.dose_rate)  # (T, S, F): NaN is what the CDF stores as fill
    samples = present.sum(axis=0)  # (S, F)
    sensors: dict[str, Any] = {}
    for s, label in enumerate(arrays.sensor_labels):
        slots = [f for f, name in enumerate(arrays.flavors[s]) if name]
        sensors[label] = {
            "flavors": [arrays.flavors[s][f] for f in slots],
            "samples": [int(samples[s, f]) for f in slots],
            "fill_fraction": [round(1.0 - int(samples[s, f]) / times, 6) if times else 1.0
                              for f in slots],
            "dose_rate_range": [_range(arrays.dose_rate[:, s, f]) for f in slots],
        }
    return {
        "summary_version": SUMMARY_VERSION,
        "software_version": __version__,
        "day": None if day is None else day.isoformat(),
        "cdf": _file_facts(cdf_path),
        "artifact": _file_facts(artifact, artifact_sha256),
        "records": {
            "read": counts.records_in,
            "kept": counts.kept,
            "duplicates": counts.duplicates,
            "outside_day": counts.outside_day,
            "without_sensor": counts.without_sensor,
        },
        "times": times,
        "first_time_ns": int(arrays.epoch_ns[0]) if times else None,
        "last_time_ns": int(arrays.epoch_ns[-1]) if times else None,
        "expected_samples": SAMPLES_PER_DAY if day is not None else None,
        "ranges": {"dose_rate": _range(arrays.dose_rate),
                   **{name: _range(getattr(arrays, name)) for name in _RANGED}},
        "sensors": sensors,
        **counts.notes.summary(),  # quality_words, reference_frames (values.py)
    }


def _file_facts(path: Path, sha256: str | None = None) -> dict[str, Any]:
    return {"name": path.name, "size_bytes": path.stat().st_size,
            "sha256": sha256 or sha256_file(path)}


def _range(values: np.ndarray) -> list[float] | None:
    """[min, max] over the values that are not fill, or None when every one is."""
    import numpy as np

    finite = values[~np.isnan(values)]
    return [float(finite.min()), float(finite.max())] if finite.size else None


def read_summary(cdf_path: Path | str) -> ProductSummary | None:
    """The summary of ``cdf_path``, or None when there is none (an older CDF).

    Read from the about tree, else from beside the CDF where a version before issue 17
    wrote it. A file that is not a summary of this version is treated as absent too:
    status then falls back to the telemetry alone rather than show wrong numbers.
    """
    document = _load(about_path(str(cdf_path), SUMMARY_SUFFIX))
    if document is _ABSENT:
        document = _load(legacy_about_path(cdf_path, SUMMARY_SUFFIX))
    if not isinstance(document, dict) or document.get("summary_version") != SUMMARY_VERSION:
        return None
    try:
        records = document["records"]
        day = document["day"]
        return ProductSummary(
            cdf_name=document["cdf"]["name"],
            day=dt.date.fromisoformat(day) if day else None,
            records_read=records["read"],
            records_kept=records["kept"],
            duplicates=records["duplicates"],
            outside_day=records["outside_day"],
            without_sensor=records["without_sensor"],
            times=document["times"],
            expected_samples=document["expected_samples"],
            cdf_size_bytes=document["cdf"]["size_bytes"],
            artifact_size_bytes=document["artifact"]["size_bytes"],
            cdf_sha256=document["cdf"]["sha256"],
            artifact_sha256=document["artifact"]["sha256"],
            software_version=document["software_version"],
            sensors={label: (tuple(map(sys.intern, s["flavors"])), tuple(s["samples"]))
                     for label, s in document["sensors"].items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


_ABSENT = object()


def _load(path: Path | str) -> Any:
    """The parsed JSON of ``path``; ``_ABSENT`` when there is no such file, None when it is
    not JSON."""
    try:
        with open(path, "rb") as fh:
            return orjson.loads(fh.read())
    except (FileNotFoundError, NotADirectoryError):
        return _ABSENT
    except orjson.JSONDecodeError:
        return None
