"""The L1C CDF product (l1c-cdf.md): ``process_file`` turns one UDL artifact into one CDF.

``read`` (artifact -> columns), ``build`` (columns -> arrays), ``product`` (variables
and attributes), ``write`` (cdflib, atomic). Importing this package is cheap: pyarrow,
numpy and cdflib load on the first call, so the CLI pays for them only when it
processes a day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from swxsoc_reach.days import day_window
from swxsoc_reach.errors import InputDataError
from swxsoc_reach.mission import ALL_SENSORS, sensors
from swxsoc_reach.paths import DEFAULT_DATA_VERSION, cdf_name, cdf_relpath, check_data_version

__all__ = ["process_file"]

logger = logging.getLogger(__name__)

_SENSOR_PREFIX = re.compile(r"^(REACH-\d+)_")  # a single-sensor artifact: REACH-135_...


def process_file(path: Path | str, output_dir: Path | str | None = None, *,
                 day: dt.date | None = None, sensor_id: str | None = None,
                 data_version: str = DEFAULT_DATA_VERSION,
                 check_read: Callable[[int, str], None] | None = None) -> list[Path]:
    """Turn one artifact into one CDF at ``<base>/l1c/prelim/YYYY/MM/DD/<name>``; return it.

    ``base`` is ``output_dir``, else the temp dir under ``LAMBDA_ENVIRONMENT``, else
    the cwd. With ``day``, records outside ``[day, day+1)`` are dropped and the name
    uses the day's start; without, the first sample's time. The sensor (name and
    ``Instrument_mode``) is ``sensor_id``, else a ``REACH-nnn_`` file-name prefix,
    else ``ALL``. Raises ``InputDataError`` for bad input, ``CdfError`` for write problems.
    ``check_read`` gets the number of records read (before any is dropped) and the
    SHA-256 of the artifact's bytes, taken while they were read, and may raise to stop
    before anything is written (process compares both with the telemetry).
    """
    from swxsoc_reach.cdf.build import NS_PER_S, build_arrays
    from swxsoc_reach.cdf.product import define_variables, global_attributes
    from swxsoc_reach.cdf.read import read_artifact
    from swxsoc_reach.cdf.summary import write_summary
    from swxsoc_reach.cdf.write import write_cdf

    began = time.perf_counter()
    path = Path(path)
    check_data_version(data_version)
    sensor = _product_sensor(path, sensor_id)
    digest = hashlib.sha256() if check_read is not None else None
    frame = read_artifact(path, digest)
    artifact_sha256 = digest.hexdigest() if digest is not None else None
    if check_read is not None:
        check_read(len(frame), artifact_sha256)
    arrays, counts = build_arrays(frame, day=day, sensor_id=sensor)
    del frame  # the parsed records are no longer needed; keep the peak down
    if day is not None:
        start = day_window(day)[0]
    else:
        start = dt.datetime.fromtimestamp(int(arrays.epoch_ns[0]) // NS_PER_S, dt.UTC)
    name = cdf_name(start, sensor, data_version)
    final = _base_dir(output_dir) / cdf_relpath(name)
    write_cdf(final, define_variables(arrays),
              global_attributes(arrays, name, sensor, data_version, parent=path.name))
    # what the day held, in the about tree: status reads it instead of the CDF (summary.py)
    write_summary(final, path, arrays, counts, day=day, artifact_sha256=artifact_sha256)
    logger.info(
        "%s: %d records in, %d kept, %d dropped (%d duplicates, %d outside the day, "
        "%d without sensor) -> %s in %.2f s",
        path.name, counts.records_in, counts.kept,
        counts.records_in - counts.kept, counts.duplicates, counts.outside_day,
        counts.without_sensor, final.name, time.perf_counter() - began,
    )
    return [final]


def _product_sensor(path: Path, sensor_id: str | None) -> str:
    """The run's sensor: explicit, else the artifact's single-sensor prefix, else ALL."""
    if sensor_id is None:
        match = _SENSOR_PREFIX.match(path.name)
        sensor_id = match[1] if match else ALL_SENSORS
    if sensor_id != ALL_SENSORS and sensor_id not in {s.sensor_id for s in sensors()}:
        raise InputDataError(f"{path}: unknown sensor {sensor_id!r} (not in the REACH "
                             "sensor table)")
    return sensor_id


def _base_dir(output_dir: Path | str | None) -> Path:
    if output_dir is not None:
        return Path(output_dir)
    if os.environ.get("LAMBDA_ENVIRONMENT"):
        return Path(tempfile.gettempdir())
    return Path.cwd()
