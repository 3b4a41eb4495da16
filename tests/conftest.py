"""Shared fixtures: small synthetic day artifacts.

Servers (the local UDL server, a moto S3 endpoint) have fixtures of their own
below; every test writes only under ``tmp_path`` and talks only to 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from swxsoc_reach.days import day_window
from swxsoc_reach.paths import artifact_name
from swxsoc_reach.synthetic import SyntheticOptions, iter_records, write_csv, write_json

SMALL_SENSOR = "REACH-135"


def write_small_day(
    directory: Path,
    day: dt.date,
    *,
    hours: float = 1.0,
    options: SyntheticOptions | None = None,
    output_format: str = "csv",
) -> Path:
    """Write the first ``hours`` of a synthetic day as its Phase 1 artifact; return the path.

    Small on purpose: a whole day of one sensor is 34,560 records, and most tests
    only need the shape of a day, not its length.
    """
    options = options or SyntheticOptions(sensor_id=SMALL_SENSOR)
    start, _ = day_window(day)
    end = start + dt.timedelta(hours=hours) - dt.timedelta(microseconds=1)
    records = iter_records(day, options, start=start, end=end)
    path = Path(directory) / artifact_name(day, options.sensor_id, output_format)
    if output_format == "json":
        write_json(path, records)
    else:
        write_csv(path, records, options)
    return path
