"""The flags several subcommands share, their argparse types, and the typed values
they become: ``build_selection`` (a ``DaySelection`` for ``download`` and ``process``),
``build_status_query`` (a ``StatusQuery`` for ``status``, ``report`` and ``restore``).
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from swxsoc_reach.days import DATE_FORMS, check_range, parse_date
from swxsoc_reach.mission import ALL_SENSORS, check_sensor_id
from swxsoc_reach.paths import ARTIFACT_FORMATS
from swxsoc_reach.phases.dayloop import DaySelection
from swxsoc_reach.telemetry.store import DEFAULT_NAME as TELEMETRY_NAME
from swxsoc_reach.telemetry.store import TelemetryStore

if TYPE_CHECKING:
    from swxsoc_reach.views.status import StatusQuery

DESCRIPTORS = ("QUICKLOOK", "PROVISIONAL")
_N = TypeVar("_N", int, float)


def _number(text: str, kind: Callable[[str], _N], what: str, fits: Callable[[_N], bool],
            bound: str) -> _N:
    """``text`` as a ``kind``, or an argparse error naming ``what`` it must be."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not fits(value):
        raise argparse.ArgumentTypeError(f"{text!r} {bound}")
    return value


def positive_int(text: str) -> int:
    return _number(text, int, "a whole number", lambda v: v >= 1, "must be at least 1")


def positive_float(text: str) -> float:
    return _number(text, float, "a number", lambda v: v > 0, "must be greater than 0")


def port_number(text: str) -> int:
    return _number(text, int, "a port number", lambda v: 0 <= v <= 65535,
                   "is not a port number (0 to 65535)")


def add_logging_flags(parser: argparse.ArgumentParser,
                      quiet: str = "no progress bars and no summary line") -> None:
    """``-v``/``-q``; ``quiet`` says what ``-q`` leaves out for this command."""
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="-v INFO, -vv DEBUG (default: warnings only)")
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet)


def add_day_flags(parser: argparse.ArgumentParser, *, telemetry_help: str) -> None:
    """Flags both phases share (docs/download.md, docs/process.md)."""
    parser.add_argument("--start-date", required=True, metavar="DATE",
                        help=f"first UTC day (inclusive): {DATE_FORMS}")
    parser.add_argument("--end-date", required=True, metavar="DATE",
                        help="last UTC day (inclusive), the same forms")
    parser.add_argument("--telemetry-file", type=Path, metavar="PATH", help=telemetry_help)
    parser.add_argument("--sensor-id", default=ALL_SENSORS, metavar="ID",
                        help="one sensor (REACH-135) or ALL (default)")
    parser.add_argument("--descriptor", default="QUICKLOOK", choices=DESCRIPTORS,
                        help="UDL descriptor (default QUICKLOOK)")
    parser.add_argument("--output-format", default="csv", choices=ARTIFACT_FORMATS,
                        help="artifact format (default csv)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="re-attempt days whose latest status is FAILED")
    parser.add_argument("--limit-days", type=positive_int, metavar="N",
                        help="cap attempted days, counted from the first day not complete")
    parser.add_argument("--dry-run", action="store_true",
                        help="plan only: print each day's action; no telemetry, no work")
    parser.add_argument("--aws-region", metavar="REGION",
                        help="AWS region (default: boto3's region chain)")
    parser.add_argument("--run-id", metavar="ID",
                        help="the telemetry run_id to write (default: a new one); processes "
                        "given the same id share one streak of systemic faults: the "
                        "workflow gives each run's jobs its own")
    add_logging_flags(parser)


def parse_range(args: argparse.Namespace) -> tuple[dt.date, dt.date]:
    """``--start-date`` and ``--end-date`` as days, the end not before the start."""
    start = parse_date(args.start_date, what="start date")
    end = parse_date(args.end_date, what="end date")
    check_range(start, end)
    return start, end


def build_selection(args: argparse.Namespace, default_telemetry_dir: Path) -> DaySelection:
    start, end = parse_range(args)
    return DaySelection(
        start=start,
        end=end,
        telemetry_file=TelemetryStore(
            args.telemetry_file or default_telemetry_dir / TELEMETRY_NAME).check().path,
        sensor_id=check_sensor_id(args.sensor_id),
        descriptor=args.descriptor,
        output_format=args.output_format,
        retry_failed=args.retry_failed,
        limit_days=args.limit_days,
        dry_run=args.dry_run,
        run_id=args.run_id,
    )


def add_udl_flags(parser: argparse.ArgumentParser) -> None:
    """The UDL client's flags: where, and how fast (``download`` and ``audit``)."""
    parser.add_argument("--udl-url", metavar="URL",
                        help="UDL base URL (default $UDL_BASE_URL, else "
                        "https://unifieddatalibrary.com); plain http:// only to a loopback "
                        "host")
    parser.add_argument("--allow-insecure-udl-url", action="store_true",
                        help="accept a plain http:// UDL URL to a host that is not loopback "
                        "(the credential then travels in clear text: a trusted network only)")
    rate = parser.add_argument_group(
        "adaptive rate control (AIMD: additive increase, multiplicative decrease)")
    rate.add_argument("--max-concurrent-requests", type=positive_int, default=4, metavar="N",
                      help="chunk requests in flight at once (default %(default)s)")
    rate.add_argument("--initial-rate", type=positive_float, default=5.0, metavar="RPS",
                      help="requests per second to start with (default %(default)s)")
    rate.add_argument("--additive-increase", type=positive_float, default=1.0, metavar="RPS",
                      help="added to the rate after each success (default %(default)s)")
    rate.add_argument("--multiplicative-decrease", type=positive_float, default=0.5,
                      metavar="FACTOR", help="the rate is multiplied by it on HTTP 429 or a "
                      "connection error; below 1 (default %(default)s)")
    rate.add_argument("--min-rate", type=positive_float, default=5.0, metavar="RPS",
                      help="the rate never drops below it (default %(default)s)")
    rate.add_argument("--max-rate", type=positive_float, default=25.0, metavar="RPS",
                      help="the rate never rises above it (default %(default)s)")
    rate.add_argument("--max-retries", type=positive_int, default=5, metavar="N",
                      help="retries of a failed request (back-off doubling from 0.25-0.5 s) "
                      "before its day fails (default %(default)s)")


def add_report_filter_flags(parser: argparse.ArgumentParser) -> None:
    """The telemetry file and the days of it to report on (``status`` and ``report``)."""
    parser.add_argument("--telemetry-file", required=True, type=Path, metavar="PATH",
                        help=f"the telemetry CSV (e.g. <download-dir>/{TELEMETRY_NAME})")
    parser.add_argument("--start-date", metavar="DATE",
                        help="first day to report; days without a row are NOT_STARTED "
                        f"({DATE_FORMS})")
    parser.add_argument("--end-date", metavar="DATE", help="last day to report (same forms)")
    parser.add_argument("--sensor-id", metavar="ID", help="only this sensor (default: every one)")
    parser.add_argument("--descriptor", choices=DESCRIPTORS,
                        help="only this descriptor (default: every one)")


def build_status_query(args: argparse.Namespace) -> StatusQuery:
    from swxsoc_reach.views import status

    return status.StatusQuery(
        telemetry_file=args.telemetry_file,
        start=parse_date(args.start_date, what="start date") if args.start_date else None,
        end=parse_date(args.end_date, what="end date") if args.end_date else None,
        sensor_id=check_sensor_id(args.sensor_id) if args.sensor_id else None,
        descriptor=args.descriptor,
    )
