"""A day's products as the telemetry records them: which versions it has, and whether
one it asks for exists.

historical-download.md "Resume rules" (an artifact is a cache once its day's product
exists) and l1c-cdf.md "versions" (no silent downgrade): both ask of the rows that
made or uploaded a day's CDFs (``TelemetryState.versions``), never of a directory
listing, so the workflow's plan and the CLI agree and a decade costs no glob.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from swxsoc_reach.paths import cdf_data_version, version_order
from swxsoc_reach.telemetry.schema import Row, Status


def newest_version(products: Mapping[str, Row]) -> str | None:
    """The highest ``X.Y.Z`` among a day's products, None when it has none."""
    found = [v for name in products if (v := cdf_data_version(name))]
    return max(found, key=version_order, default=None)


def has_product(products: Mapping[str, Row], version: str) -> bool:
    """True when the day has a product of ``version`` or later that still exists: its
    upload confirmed (the bucket holds it), or its CDF on disk."""
    wanted = version_order(version)
    for name, row in products.items():
        found = cdf_data_version(name)
        if found is None or version_order(found) < wanted:
            continue
        if row.status is Status.UPLOADED or (row.cdf_path and os.path.isfile(row.cdf_path)):
            return True
    return False


def row_for(latest: Row | None, products: Mapping[str, Row], cdf_name: str) -> Row | None:
    """The row that decides a day for the CDF ``cdf_name``: the day's latest row, unless
    that one is about another version's CDF and this version was made or uploaded
    before; then the latest row about this version (a 1.0.0 run after 1.1.0 sees its
    1.0.0 product complete, rather than a day to make again)."""
    if latest is not None and latest.cdf_path and os.path.basename(latest.cdf_path) != cdf_name:
        return products.get(cdf_name, latest)
    return latest
