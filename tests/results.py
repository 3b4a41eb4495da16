"""Comparing two runs' results (on sys.path through pytest's ``pythonpath``).

The workflow tests and the demo test check that a run left what a plain CLI run of
the same days leaves: the same CDFs and the same telemetry rows, less what differs
between any two runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from swxsoc_reach.paths import cdf_relpath
from swxsoc_reach.telemetry.schema import Row


def comparable(rows: Iterable[Row]) -> list[tuple[str, ...]]:
    """Rows without what differs between any two runs (ids, times, durations, base dirs)."""
    return [(
        r.chunk_date_utc, r.status.value, r.sensor_id, r.descriptor, r.output_format,
        r.records_downloaded, r.expected_records, r.availability_pct, Path(r.csv_path).name,
        cdf_relpath(Path(r.cdf_path).name) if r.cdf_path else "",
        r.cdf_size_mb, r.error_type, r.s3_bucket, r.s3_key,
    ) for r in rows]


def assert_same_cdf(a: Path, b: Path) -> None:
    """Same variables, values and attributes (``Generation_date`` is the day it ran)."""
    import cdflib

    first, second = cdflib.CDF(a), cdflib.CDF(b)
    info = first.cdf_info()
    assert info.zVariables == second.cdf_info().zVariables
    skip = {"Generation_date"}
    assert ({k: v for k, v in first.globalattsget().items() if k not in skip}
            == {k: v for k, v in second.globalattsget().items() if k not in skip})
    for name in info.zVariables:
        assert np.array_equal(first.varget(name), second.varget(name)), name
        assert first.varattsget(name) == second.varattsget(name), name
