"""A day's products as the telemetry records them: which versions it has, and whether
one it asks for exists.

historical-download.md "Resume rules" (an artifact is a cache once its day's product
exists) and l1c-cdf.md "versions" (no silent downgrade): both ask of the rows that
made or uploaded a day's CDFs (``TelemetryState.versions``), never of a directory
listing, so the workflow's plan and the CLI agree and a decade costs no glob.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from swxsoc_reach.paths import cdf_data_version, day_cdf_path, version_order
from swxsoc_reach.telemetry.audits import S3_FINDINGS, DayAudit, open_codes
from swxsoc_reach.telemetry.resume import DayFacts
from swxsoc_reach.telemetry.schema import Row, Status

if TYPE_CHECKING:
    from swxsoc_reach.telemetry.store import TelemetryState


def newest_version(products: Mapping[str, Row]) -> str | None:
    """The highest ``X.Y.Z`` among a day's products, None when it has none."""
    name = _newest_name(products)
    return None if name is None else cdf_data_version(name)


def newest_product(products: Mapping[str, Row]) -> Row | None:
    """The row of a day's highest-version product, None when it has none."""
    name = _newest_name(products)
    return None if name is None else products[name]


def _newest_name(products: Mapping[str, Row]) -> str | None:
    """The CDF name of the highest version (the first of equals), None when there is none."""
    versions = {name: v for name in products if (v := cdf_data_version(name))}
    return max(versions, key=lambda name: version_order(versions[name]), default=None)


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


def version_to_make(asked: str, products: Mapping[str, Row], artifact_sha256: str) -> str:
    """The version of a day that a run asked for ``asked`` makes, or finds complete.

    archive-sync.md "Refresh and revisions": a day that already has ``asked`` or a later
    revision of its ``X.Y`` counts complete at the newest of them while that one was made
    from the day's current artifact (``artifact_sha256``, its latest DOWNLOADED row's);
    when the artifact was downloaded again since (a refresh), the day's next revision is
    made, ``X.Y.(Z+1)``, so no published name ever holds other bytes.
    """
    wanted = version_order(asked)
    same = [(order, name) for name in products if (v := cdf_data_version(name))
            and (order := version_order(v))[:2] == wanted[:2] and order >= wanted]
    if not same:
        return asked
    newest, name = max(same)
    made_from = products[name].artifact_sha256
    if not artifact_sha256 or not made_from or made_from == artifact_sha256:
        return ".".join(map(str, newest))
    return ".".join(map(str, (*newest[:2], newest[2] + 1)))


@dataclass(frozen=True)
class DayProduct:
    """A day's product as both plans (``process``'s and the workflow's) see it: the
    version this run makes or finds complete (``version_to_make``), its CDF's name, the
    row that decides the day for that CDF (``row_for``), and the day's current audit
    findings (``audits.open_codes``)."""

    version: str
    cdf_name: str
    latest: Row | None
    findings: frozenset[str]

    def facts(self, *, artifact_exists: bool, cdf_on_disk: bool) -> DayFacts:
        """The resume rules' facts: a CDF an audit found changed does not count as there,
        an object it found missing or different in S3 is drift to upload again."""
        return DayFacts(artifact_exists=artifact_exists,
                        cdf_exists=cdf_on_disk and "cdf_changed" not in self.findings,
                        cdf_name=self.cdf_name, s3_drift=bool(self.findings & S3_FINDINGS))


def day_product(state: TelemetryState, audits: Mapping[tuple[str, str, str], DayAudit],
                day: dt.date, sensor_id: str, descriptor: str, asked: str) -> DayProduct:
    """The day's ``DayProduct`` for a run asked for version ``asked``."""
    key = (day.isoformat(), sensor_id, descriptor)
    products = state.versions(*key)
    download = state.get_download(*key)
    # the day's current artifact: its latest DOWNLOADED row's digest
    current = (download.artifact_sha256 if download is not None
               and download.status is Status.DOWNLOADED else "")
    version = version_to_make(asked, products, current)
    name = day_cdf_path(Path(), day, sensor_id, version).name
    newest = state.get(*key)
    return DayProduct(version, name, row_for(newest, products, name),
                      open_codes(audits, key, newest.started_at_utc if newest else ""))
