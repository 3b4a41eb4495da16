"""What a day's product rows say (``telemetry.products``): its newest version and the row
that made it, ordered as numbers (``1.0.10`` after ``1.0.9``), not as text."""

from __future__ import annotations

import datetime as dt

from swxsoc_reach.paths import cdf_name
from swxsoc_reach.telemetry.products import newest_product, newest_version
from swxsoc_reach.telemetry.schema import Row, Status

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_newest_product_is_the_row_of_the_highest_version_by_number() -> None:
    rows = {cdf_name(START, "REACH-135", v): Row(status=Status.UPLOADED, s3_key=v)
            for v in ("1.0.9", "1.0.10", "1.0.2")}
    rows["notes.cdf"] = Row(status=Status.PROCESSED)  # not a product name: not a version
    assert newest_version(rows) == "1.0.10"
    assert newest_product(rows).s3_key == "1.0.10"
    assert newest_version({}) is None and newest_product({}) is None
