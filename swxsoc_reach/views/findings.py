"""An audit's results for the operator: a table, CSV or JSON (``audit --format``)."""

from __future__ import annotations

import csv
import io

import orjson

from swxsoc_reach.phases.audit import AuditReport

COLUMNS = ("day", "sensor_id", "descriptor", "udl_records", "downloaded_records", "findings")


def format_table(report: AuditReport) -> str:
    """One line per day (its findings' messages, or ``in step``), then the summary."""
    lines = []
    for day in report.days:
        counts = f"UDL {_count(day.udl_records)} / artifact {_count(day.downloaded_records)}"
        said = "; ".join(f"{f.code}: {f.message}" for f in day.findings) or "in step"
        lines.append(f"{day.day} {day.sensor_id} {day.descriptor}  {counts}  {said}")
    return "\n".join([*lines, report.summary()]) + "\n"


def format_csv(report: AuditReport) -> str:
    """One CSV row per day; ``findings`` holds the codes, ``;``-separated."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for day in report.days:
        writer.writerow([day.day, day.sensor_id, day.descriptor, _cell(day.udl_records),
                         _cell(day.downloaded_records), ";".join(f.code for f in day.findings)])
    return buffer.getvalue()


def format_json(report: AuditReport) -> str:
    """A list of objects: day, sensor_id, udl_records, downloaded_records, findings, ..."""
    return orjson.dumps([day.plain() for day in report.days],
                        option=orjson.OPT_INDENT_2).decode() + "\n"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


FORMATTERS = {"table": format_table, "csv": format_csv, "json": format_json}
