"""Which days ``download --refresh`` fetches again: those UDL now holds differently.

archive-sync.md "Refresh and revisions": a refresh downloads a day again only when UDL
holds it differently from its artifact (``udl_changed``, or ``udl_new_data`` for a day
that had no data), as found by the day's latest audit while that audit is newer than
the day's latest telemetry row, or else by a count made now (one request a day,
through the download's client; what it finds is recorded like an audit's UDL part).
Every other day is left to the ordinary resume rules.
"""

from __future__ import annotations

import datetime as dt
import logging

from swxsoc_reach.days import iso_utc, utc_now
from swxsoc_reach.phases.audit import Subject, subjects, udl_findings
from swxsoc_reach.phases.dayloop import DaySelection
from swxsoc_reach.telemetry.audits import AuditStore, DayAudit, current
from swxsoc_reach.telemetry.store import TelemetryState
from swxsoc_reach.udl.client import UdlClient, UdlQuery

logger = logging.getLogger(__name__)


def days_to_refresh(selection: DaySelection, state: TelemetryState,
                    client: UdlClient | None, workers: int) -> frozenset[dt.date]:
    """The days of the range to download again; ``client`` None (a dry run): by the
    audits alone, the days without a current audit not counted (logged)."""
    from swxsoc_reach.udl.count import count_days

    audits = AuditStore(selection.telemetry_file).latest()
    found: set[dt.date] = set()
    unknown: list[Subject] = []
    for subject in subjects(state, selection):
        if subject.downloaded is None:
            continue  # never downloaded: the ordinary rules fetch it
        key = (subject.day.isoformat(), selection.sensor_id, selection.descriptor)
        latest = state.get(*key)
        audit = current(audits, key, latest.started_at_utc if latest is not None else "")
        if audit is None:
            unknown.append(subject)
        elif audit.udl_drift:
            found.add(subject.day)
    if unknown and client is None:
        logger.info("refresh (dry run): %d days have no audit since their last change; a "
                    "run counts them in UDL", len(unknown))
    elif unknown:
        assert client is not None
        counts = count_days(client, [s.day for s in unknown],
                            UdlQuery(selection.sensor_id, selection.descriptor), workers)
        now = iso_utc(utc_now())
        checked = [DayAudit(s.day.isoformat(), selection.sensor_id, selection.descriptor, now,
                            counts[s.day].records, s.records,
                            tuple(udl_findings(s, counts.get(s.day)))) for s in unknown]
        AuditStore(selection.telemetry_file).append(checked)
        found.update(dt.date.fromisoformat(a.day) for a in checked if a.udl_drift)
    for day in sorted(found):
        logger.info("%s download: UDL holds it differently from its artifact: refresh", day)
    return frozenset(found)
