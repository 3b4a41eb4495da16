"""The ``status`` report as text: an aligned table with the summary lines, CSV, or JSON.

``FORMATTERS`` maps ``status --format`` to its renderer; ``summary_lines`` is
also the whole output of ``status -q`` (the failed days with their error and
workflow job log, the days out of step at their latest audit, what to run next).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shlex

from swxsoc_reach.telemetry.schema import Stage
from swxsoc_reach.views.eta import duration
from swxsoc_reach.views.status import DayStatus, StatusReport

CSV_COLUMNS = DayStatus._fields  # one column per field, in order: the two cannot drift


def _plain(day: DayStatus) -> dict[str, object]:
    values = day._asdict()
    values["day"] = day.day.isoformat()
    return values


def format_csv(report: StatusReport) -> str:
    """One CSV row per day (empty cells for unknown values), for spreadsheets and scripts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for day in report.days:
        writer.writerow("" if value is None else value for value in _plain(day).values())
    return buffer.getvalue()


def format_json(report: StatusReport) -> str:
    """``{"summary": {...}, "days": [...]}``, for scripts and dashboards."""
    return json.dumps({"summary": report.summary(), "days": [_plain(d) for d in report.days]},
                      indent=2) + "\n"


def _cell(value: float | int | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def format_table(report: StatusReport) -> str:
    """An aligned table of the days, then the summary, for a terminal."""
    several = len({(d.sensor_id, d.descriptor) for d in report.days}) > 1
    header = ["day", *(["sensor", "descriptor"] if several else []), "status", "version",
              "records", "avail %", "process s", "CDF", "S3 key"]
    rows = []
    for d in report.days:
        cdf = os.path.basename(d.cdf_path) if d.cdf_path else "-"  # 3x cheaper than Path
        if d.only_in_s3:
            cdf += " (only in S3)"
        elif d.cdf_path and not d.cdf_exists:
            cdf += " (missing)"
        rows.append([d.day.isoformat(), *([d.sensor_id, d.descriptor] if several else []),
                     d.status, d.data_version or "-", _cell(d.records, ","),
                     _cell(d.availability_pct, ".2f"),
                     _cell(d.process_seconds, ".1f"), cdf, d.s3_key or "-"])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    numeric = {"records", "avail %", "process s"}
    lines = ["  ".join(str(cell).rjust(w) if header[i] in numeric else str(cell).ljust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in [header, *rows]]
    return "\n".join([*lines, "", *summary_lines(report)]) + "\n"


def summary_lines(report: StatusReport) -> list[str]:
    """The summary as text lines (also the whole output when no day matched)."""
    if not report.days:
        return [f"{report.telemetry_file}: no day matches"]
    per_status = ", ".join(f"{n} {status}" for status, n in sorted(report.counts.items()))
    mean = report.mean_availability_pct
    lines = [
        f"{len(report.days)} days ({report.days[0].day} .. {report.days[-1].day}): "
        f"{per_status}; {len(report.failed)} failed",
        f"records: {report.total_records:,}; mean availability: "
        f"{'-' if mean is None else f'{mean:.2f} %'}",
        "time: " + ", ".join(f"{stage} {duration(report.total_seconds(stage))}"
                             for stage in ("download", "process", "upload")),
        report.progress.line(),
    ]
    missing = len(report.missing_cdfs)
    if missing:
        lines.append(f"CDFs recorded but missing on disk: {missing} (a plain rerun of "
                     "process re-makes them)")
    remote = report.only_in_s3
    if remote:
        lines.append(
            f"uploaded CDFs not on local disk: {len(remote)} (complete: S3 holds them, e.g. "
            f"s3://{remote[0].s3_bucket}/{remote[0].s3_key}; their coverage comes from their "
            "product summaries). To fetch the local files back: python -m swxsoc_reach "
            f"restore --telemetry-file {shlex.quote(str(report.telemetry_file))}")
    drift = [d for d in report.days if d.findings]
    if drift:
        lines.append(f"out of step at their latest audit ({len(drift)}; download --refresh "
                     "then process repair them: docs/operations.md):")
        lines += [f"  {d.day} {d.sensor_id}: {d.findings}" for d in drift]
    failed = report.failed
    if failed:
        lines.append(f"failed days ({len(failed)}; fix the cause, then rerun with "
                     "--retry-failed):")
        lines += [f"  {d.day} {d.sensor_id} {d.error_stage}: {d.error}{_log_of(report, d)}"
                  for d in failed]
    return lines


def _log_of(report: StatusReport, day: DayStatus) -> str:
    """`` (log: logs/process/<day>.<run>.log)`` for a day a workflow job failed: its job
    log, beside the telemetry (the workflow's data_dir, or one above its input_dir)."""
    from swxsoc_reach.workflow_run import job_log

    stage = Stage(day.error_stage) if day.error_stage in set(Stage) else None
    for data_dir in (report.telemetry_file.parent, report.telemetry_file.parent.parent):
        found = job_log(str(data_dir), day.day, day.run_id, stage) if day.run_id else None
        if found:
            return f" (log: {os.path.join(str(data_dir), found)})"
    return ""


FORMATTERS = {"table": format_table, "csv": format_csv, "json": format_json}
