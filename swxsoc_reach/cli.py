"""Command line: argparse for every subcommand, logging set-up, and errors -> exit codes.

Exit codes (docs/telemetry.md "Exit codes"): 0 every planned day succeeded or was a
known skip, 1 a day of the range is FAILED (now, or left so by an earlier run) or the
range stopped early, 2 usage or configuration error. This is the only
module that prints errors or chooses exit codes. Each subcommand's work is
imported only when it runs, so ``--help`` and small runs start fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from swxsoc_reach import __version__
from swxsoc_reach.days import DATE_FORMS, check_range, parse_date
from swxsoc_reach.errors import ConfigError, ReachError
from swxsoc_reach.mission import ALL_SENSORS, check_sensor_id
from swxsoc_reach.paths import (
    ARTIFACT_COMPRESSIONS,
    ARTIFACT_FORMATS,
    CDF_LEVEL_DIR,
    DEFAULT_DATA_VERSION,
    check_data_version,
)
from swxsoc_reach.phases.dayloop import DaySelection, RunReport
from swxsoc_reach.telemetry.store import DEFAULT_NAME as TELEMETRY_NAME
from swxsoc_reach.telemetry.store import TelemetryStore, forget_reported_lines
from swxsoc_reach.views import progress

if TYPE_CHECKING:
    from swxsoc_reach.views.status import StatusQuery

logger = logging.getLogger("swxsoc_reach")

PROG = "swxsoc_reach"
DESCRIPTORS = ("QUICKLOOK", "PROVISIONAL")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` owns every exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConfigError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def _add_logging_flags(parser: argparse.ArgumentParser,
                       quiet: str = "no progress bars and no summary line") -> None:
    """``-v``/``-q``; ``quiet`` says what ``-q`` leaves out for this command."""
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="-v INFO, -vv DEBUG (default: warnings only)")
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet)


def _add_day_flags(parser: argparse.ArgumentParser, *, telemetry_help: str) -> None:
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
    parser.add_argument("--limit-days", type=_positive_int, metavar="N",
                        help="cap attempted days, counted from the first day not complete")
    parser.add_argument("--dry-run", action="store_true",
                        help="plan only: print each day's action; no telemetry, no work")
    parser.add_argument("--aws-region", metavar="REGION",
                        help="AWS region (default: boto3's region chain)")
    parser.add_argument("--run-id", metavar="ID",
                        help="the telemetry run_id to write (default: a new one); processes "
                        "given the same id share one streak of systemic faults: the "
                        "workflow gives each run's jobs its own")
    _add_logging_flags(parser)


def _selection(args: argparse.Namespace, default_telemetry_dir: Path) -> DaySelection:
    start = parse_date(args.start_date, what="start date")
    end = parse_date(args.end_date, what="end date")
    check_range(start, end)
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


def _add_download(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("download", help="Phase 1: one artifact per UTC day from UDL",
                            description="Download REACH observations from UDL, one artifact "
                            "per UTC day, resumable. Exit codes: 0 done, 1 a day FAILED, 2 usage. "
                            "Pages are decoded in C when the package was installed with a C "
                            "compiler; without it in Python: the same artifact for about 6x "
                            "(CSV) or 4x (JSON) the CPU time a page, and the log says so "
                            "(INFO). See docs/download.md.")
    parser.add_argument("--output-dir", required=True, type=Path, metavar="PATH",
                        help="where the day artifacts go (created if missing)")
    _add_day_flags(parser, telemetry_help=f"append-only telemetry CSV "
                   f"(default <output-dir>/{TELEMETRY_NAME})")
    parser.add_argument("--artifact-compression", default="none",
                        choices=ARTIFACT_COMPRESSIONS, help="zstd: write <artifact>.zst "
                        "(~15 %% of the plain size; process reads both) (default %(default)s)")
    parser.add_argument("--window-minutes", type=_positive_float, metavar="MIN",
                        help="fixed query windows of MIN minutes (the older tool used 5 for "
                        "ALL); default: sized so each answer is about one full page")
    parser.add_argument("--refresh", action="store_true",
                        help="also download again the days UDL now holds differently from "
                        "their artifact (late records, reprocessed samples, data for a day "
                        "that had none), found by the latest audit or counted now; process "
                        "then makes their next revision (see docs/operations.md)")
    parser.add_argument("--data-version", default=DEFAULT_DATA_VERSION, metavar="X.Y.Z",
                        help="the product version process will make (default %(default)s): "
                        "a day whose product of this version (or later) exists is not "
                        "downloaded again, even when its artifact was deleted")
    _add_udl_flags(parser)
    parser.set_defaults(handler=_run_download)


def _add_udl_flags(parser: argparse.ArgumentParser) -> None:
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
    rate.add_argument("--max-concurrent-requests", type=_positive_int, default=4, metavar="N",
                      help="chunk requests in flight at once (default %(default)s)")
    rate.add_argument("--initial-rate", type=_positive_float, default=5.0, metavar="RPS",
                      help="requests per second to start with (default %(default)s)")
    rate.add_argument("--additive-increase", type=_positive_float, default=1.0, metavar="RPS",
                      help="added to the rate after each success (default %(default)s)")
    rate.add_argument("--multiplicative-decrease", type=_positive_float, default=0.5,
                      metavar="FACTOR", help="the rate is multiplied by it on HTTP 429 or a "
                      "connection error; below 1 (default %(default)s)")
    rate.add_argument("--min-rate", type=_positive_float, default=5.0, metavar="RPS",
                      help="the rate never drops below it (default %(default)s)")
    rate.add_argument("--max-rate", type=_positive_float, default=25.0, metavar="RPS",
                      help="the rate never rises above it (default %(default)s)")
    rate.add_argument("--max-retries", type=_positive_int, default=5, metavar="N",
                      help="retries of a failed request (back-off doubling from 0.25-0.5 s) "
                      "before its day fails (default %(default)s)")


def _run_download(args: argparse.Namespace) -> RunReport:
    from swxsoc_reach.phases import download

    selection = _selection(args, args.output_dir)
    return download.run_from_cli(selection, args)


def _add_process(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("process", help="Phase 2: each day's artifact -> one L1C CDF",
                            description="Convert per-day UDL artifacts into L1C CDFs, with "
                            "optional S3 upload, resumable. Exit codes: 0 done, 1 a day FAILED, "
                            "2 usage. See docs/process.md.")
    parser.add_argument("--input-dir", required=True, type=Path, metavar="PATH",
                        help="directory holding the Phase 1 artifacts")
    parser.add_argument("--output-dir", required=True, type=Path, metavar="PATH",
                        help="where CDFs go, as l1c/prelim/YYYY/MM/DD/<name>")
    _add_day_flags(parser, telemetry_help=f"append-only telemetry CSV "
                   f"(default <input-dir>/{TELEMETRY_NAME})")
    s3 = parser.add_argument_group("S3 upload")
    s3.add_argument("--upload-to-s3", action="store_true",
                    help="upload each CDF; UPLOADED becomes the terminal status")
    s3.add_argument("--s3-bucket", metavar="BUCKET", help="destination bucket (with upload)")
    s3.add_argument("--receipt-dir", type=Path, metavar="PATH",
                    help="after each confirmed upload write PATH/l1c/prelim/YYYY/MM/DD/<name>.json "
                    "holding bucket and key (the workflow's upload sentinel)")
    parser.add_argument("--data-version", default=DEFAULT_DATA_VERSION, metavar="X.Y.Z",
                        help="product version in each CDF's name, Logical_file_id and "
                        "Data_version (default %(default)s); a day is complete only for the "
                        "version asked, so a new version reprocesses the range; a version "
                        "older than a day's newest is refused (see --allow-downgrade)")
    parser.add_argument("--allow-downgrade", action="store_true",
                        help="make the version asked even for days that already have a newer "
                        "one (without it such a run stops before any day, naming how many)")
    parser.add_argument("--quicklook", action="store_true",
                        help="also draw each new CDF's PNG, <output-dir>/about/l1c/prelim/"
                        "YYYY/MM/DD/<stem>.quicklook.png (needs matplotlib; a failed plot only "
                        "warns)")
    parser.set_defaults(handler=_run_process)


def _inside_archive(receipt_dir: Path, output_dir: Path) -> bool:
    """Would ``receipt_dir``'s ``l1c/prelim/...`` land in ``output_dir``'s archive tree?"""
    receipts, archive = receipt_dir.resolve(), output_dir.resolve()
    return receipts == archive or receipts.is_relative_to(archive / CDF_LEVEL_DIR[0])


def _run_process(args: argparse.Namespace) -> RunReport:
    from swxsoc_reach.phases import process

    selection = _selection(args, args.input_dir)
    if args.upload_to_s3 and not args.s3_bucket:
        raise ConfigError("--upload-to-s3 needs --s3-bucket BUCKET")
    if args.s3_bucket and not args.upload_to_s3:
        raise ConfigError("--s3-bucket is only used with --upload-to-s3")
    if args.receipt_dir and not args.upload_to_s3:
        raise ConfigError("--receipt-dir is only used with --upload-to-s3")
    if args.receipt_dir and _inside_archive(args.receipt_dir, args.output_dir):
        raise ConfigError(f"--receipt-dir {args.receipt_dir} would put the receipts in the "
                          f"archive tree {args.output_dir / CDF_LEVEL_DIR[0]}, which holds only "
                          "CDFs: name another directory (the workflow uses <data_dir>/uploads)")
    if not args.input_dir.is_dir():
        raise ConfigError(f"input directory {args.input_dir} does not exist")
    request = process.ProcessRequest(
        selection=selection,
        input_dir=args.input_dir,
        output_dir=args.output_dir,
        upload_to_s3=args.upload_to_s3,
        s3_bucket=args.s3_bucket,
        aws_region=args.aws_region,
        receipt_dir=args.receipt_dir,
        quicklook=args.quicklook,
        data_version=check_data_version(args.data_version),
        allow_downgrade=args.allow_downgrade,
    )
    if args.quicklook:
        from swxsoc_reach.views.plots import require_matplotlib

        require_matplotlib()  # exit 2 before any day rather than a warning per day
    uploader = None
    if args.upload_to_s3:  # before any day is touched; a dry run reports a missing extra too
        from swxsoc_reach.upload.s3 import open_uploader

        uploader = open_uploader(args.s3_bucket, args.aws_region)
    return process.run(request, uploader)


def _add_status(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("status", help="where a range stands: per day and a summary",
                            description="Report each day's latest status, records, availability, "
                            "CDF and S3 key from the telemetry file, then a summary.")
    _add_report_filter_flags(parser)
    parser.add_argument("--format", default="table", choices=("table", "csv", "json"),
                        help="output on stdout (default table)")
    parser.add_argument("--coverage", nargs="?", const="sensor", choices=("sensor", "flavor"),
                        help="print a day x sensor (or x dosimeter: flavor) availability table "
                        "instead of the day rows, from the product summaries")
    parser.add_argument("--check", action="store_true",
                        help="exit 0 only when every reported day is complete or has no data "
                        "in UDL, else 1 (for scripts: is this range complete?)")
    parser.add_argument("--plot", type=Path, metavar="FILE.png",
                        help="also draw the sensor x day coverage map (rows per --coverage "
                        "level) and the time per day (needs matplotlib)")
    _add_logging_flags(parser, quiet=(
        'the table format prints the summary without the day rows (with --check: nothing '
        'when the range is complete); no "plot: FILE" line on stderr'))
    parser.set_defaults(handler=_run_status)


def _add_audit(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("audit", help="each day against UDL's count, its digests and S3",
                            description="Compare each day of a range with what UDL holds now "
                            "(one count per day), its artifact and CDF with their recorded "
                            "SHA-256, and with --s3-bucket its object in the bucket; record and "
                            "print what differs. Exit codes: 0 report printed (with --check: "
                            "every day in step), 1 drift found with --check, or UDL or S3 "
                            "unreachable, 2 usage. See docs/operations.md.")
    parser.add_argument("--telemetry-file", required=True, type=Path, metavar="PATH",
                        help=f"the campaign's telemetry CSV (e.g. <download-dir>/{TELEMETRY_NAME})")
    parser.add_argument("--start-date", required=True, metavar="YYYY-MM-DD",
                        help="first day (inclusive, UTC)")
    parser.add_argument("--end-date", required=True, metavar="YYYY-MM-DD",
                        help="last day (inclusive, UTC)")
    parser.add_argument("--sensor-id", default=ALL_SENSORS, metavar="ID",
                        help="the campaign's sensor, or ALL (default %(default)s)")
    parser.add_argument("--descriptor", default="QUICKLOOK", choices=DESCRIPTORS,
                        help="UDL descriptor (default %(default)s)")
    parser.add_argument("--s3-bucket", metavar="BUCKET",
                        help="also check each uploaded day's object in this bucket")
    parser.add_argument("--format", default="table", choices=("table", "csv", "json"),
                        help="output format (default %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when any day is not in step (for scripts and cron)")
    parser.add_argument("--aws-region", metavar="REGION",
                        help="region for the UDL secret and the bucket (default: boto3's chain)")
    _add_udl_flags(parser)
    _add_logging_flags(parser, quiet="no summary line")
    parser.set_defaults(handler=_run_audit)


def _run_audit(args: argparse.Namespace) -> int:
    from swxsoc_reach.phases import audit
    from swxsoc_reach.views.findings import FORMATTERS

    start = parse_date(args.start_date, what="start date")
    end = parse_date(args.end_date, what="end date")
    check_range(start, end)
    selection = DaySelection(start=start, end=end, telemetry_file=args.telemetry_file,
                             sensor_id=check_sensor_id(args.sensor_id),
                             descriptor=args.descriptor)
    report = audit.run_from_cli(selection, args)
    text = FORMATTERS[args.format](report)
    if args.quiet and args.format == "table":
        text = "".join(line + "\n" for line in text.splitlines()[:-1]
                       if not line.endswith("in step"))
    sys.stdout.write(text)
    return report.exit_code if args.check else EXIT_OK


def _add_restore(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("restore", help="fetch uploaded CDFs whose local copy is gone back "
                            "from S3", description="For each UPLOADED day whose local CDF is "
                            "gone, fetch the object back from its recorded bucket and key, "
                            "checked against the SHA-256 recorded when the CDF was made, to "
                            "where the telemetry says the CDF was. Exit codes: 0 every such day "
                            "restored, 1 a day could not be, 2 usage. See docs/process.md.")
    _add_report_filter_flags(parser)
    parser.add_argument("--aws-region", metavar="REGION", help="AWS region (default: boto3's "
                        "chain)")
    _add_logging_flags(parser, quiet="no summary line")
    parser.set_defaults(handler=_run_restore)


def _run_restore(args: argparse.Namespace) -> int:
    from swxsoc_reach.upload.restore import restore_days
    from swxsoc_reach.views.statusbuild import build_report

    days = build_report(_status_query(args)).only_in_s3
    report = restore_days(days, args.aws_region)
    if not args.quiet:
        print(report.summary())
    return EXIT_FAILED if report.failed else EXIT_OK


def _add_report_filter_flags(parser: argparse.ArgumentParser) -> None:
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


def _status_query(args: argparse.Namespace) -> StatusQuery:
    from swxsoc_reach.views import status

    return status.StatusQuery(
        telemetry_file=args.telemetry_file,
        start=parse_date(args.start_date, what="start date") if args.start_date else None,
        end=parse_date(args.end_date, what="end date") if args.end_date else None,
        sensor_id=check_sensor_id(args.sensor_id) if args.sensor_id else None,
        descriptor=args.descriptor,
    )


def _run_status(args: argparse.Namespace) -> int:
    from swxsoc_reach.views import statusformat
    from swxsoc_reach.views.statusbuild import build_report

    query = _status_query(args)
    if args.plot:
        from swxsoc_reach.views.plots import require_matplotlib

        require_matplotlib()  # exit 2 before reading a decade of telemetry
        _check_output_file(args.plot, "--plot")
    report = build_report(query)
    if args.plot:
        from swxsoc_reach.views import plots

        plots.plot_status(report, args.plot, args.coverage or "sensor")
        if not args.quiet:
            print(f"plot: {args.plot}", file=sys.stderr)
    complete = report.complete
    if args.coverage:
        from swxsoc_reach.views.coverage import coverage_grid, format_coverage

        sys.stdout.write(format_coverage(coverage_grid(report, args.coverage), args.format))
    elif args.quiet and args.format == "table":  # csv and json stay whole: they are data
        if not (args.check and complete):  # like grep -q: a complete range says nothing
            sys.stdout.write("\n".join(statusformat.summary_lines(report)) + "\n")
    else:
        sys.stdout.write(statusformat.FORMATTERS[args.format](report))
    return EXIT_FAILED if args.check and not complete else EXIT_OK


def _add_report(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("report", help="the campaign as one self-contained HTML page",
                            description="Write one HTML file that opens offline: summary, "
                            "coverage heat map, failures with the command that retries each, "
                            "throughput and ETA, disk used, versions present (docs/report.md).")
    _add_report_filter_flags(parser)
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="FILE.html",
                        help="the HTML file to write (replaced atomically)")
    parser.add_argument("--coverage", default="sensor", choices=("sensor", "flavor"),
                        help="heat map rows: the sensors (default) or their dosimeters")
    parser.add_argument("--figures-dir", type=Path, metavar="DIR",
                        help="also write DIR/coverage.png and DIR/quicklooks/<cdf>.png for each "
                        "CDF on disk (for snakemake --report)")
    _add_logging_flags(parser, quiet="do not print the page's path")
    parser.set_defaults(handler=_run_report)


def _run_report(args: argparse.Namespace) -> int:
    from swxsoc_reach.views import report
    from swxsoc_reach.views.plots import require_matplotlib
    from swxsoc_reach.views.statusbuild import build_report

    query = _status_query(args)
    require_matplotlib()  # the heat map is part of the page
    built = build_report(query)
    request = report.ReportRequest(output=args.output, level=args.coverage,
                                   figures_dir=args.figures_dir)
    written = report.write_report(built, request)
    if not args.quiet:
        print(written)
    return EXIT_OK


def _add_quicklook(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("quicklook", help="draw a CDF's day: dose rate against time, and a map",
                            description="Draw one PNG per L1C CDF: dose rate per dosimeter flavor "
                            "against time (log scale) and on a longitude-latitude map.")
    parser.add_argument("cdf", nargs="+", type=Path, metavar="FILE.cdf", help="L1C CDF file(s)")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE.png",
                        help="the PNG (one CDF only; default: <stem>.quicklook.png, in "
                        "<output-dir>/about/l1c/... for a CDF of the archive tree, else beside it)")
    _add_logging_flags(parser, quiet="do not print each PNG's path")
    parser.set_defaults(handler=_run_quicklook)


def _run_quicklook(args: argparse.Namespace) -> int:
    from swxsoc_reach.views.quicklook import write_quicklook

    if args.output and len(args.cdf) > 1:
        raise ConfigError("--output names one PNG: give one CDF, or leave --output out to write "
                          "each PNG to its default place")
    if args.output:
        _check_output_file(args.output, "--output")
    for cdf in args.cdf:
        png = write_quicklook(cdf, args.output).path
        if not args.quiet:
            print(png)
    return EXIT_OK


def _check_output_file(path: Path, flag: str) -> None:
    """Refuse a file to write (``--plot``, ``--output``) whose place cannot take it, before
    any work: a usage error naming the flag, not a traceback from deep in a plot."""
    from swxsoc_reach.phases.preflight import check_output_dir

    if path.is_dir():
        raise ConfigError(f"{flag} {path} is a directory: name the file to write")
    try:
        check_output_dir(path.parent, create=True)
    except ConfigError as exc:
        raise ConfigError(f"{flag} {path}: {exc}") from None


def _add_demo(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="the whole chain through the workflow, no credentials",
                            description="From the repository root: start a local UDL server and "
                            "a local S3 endpoint, run snakemake --configfile config/demo.yaml "
                            "(download, process, quicklook, upload), then status; print where "
                            "everything is. A second run finds nothing to do.")
    parser.add_argument("--fresh", action="store_true",
                        help="first remove the demo's data directory (telemetry included) and "
                        "start over")
    _add_logging_flags(parser, quiet="no output of the steps (the closing summary still prints)")
    parser.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from swxsoc_reach.views import demo

    flags = ("-q",) if args.quiet else ("-v",) * args.verbose
    request = demo.DemoRequest(repo=Path.cwd(), fresh=args.fresh, log_flags=flags)
    echo = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    print(demo.describe(demo.run_demo(request, echo)))
    return EXIT_OK


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return value


def _add_sandbox(sub: argparse._SubParsersAction) -> None:
    from swxsoc_reach.views.sandbox import BUCKET, SENSOR_ID

    parser = sub.add_parser("sandbox", help="a local UDL server and S3 endpoint until Ctrl-C",
                            description="Start a local UDL server serving synthetic days and a "
                            "local S3 endpoint (moto, the test extra) with a bucket on 127.0.0.1; "
                            "print the shell lines that point every command at them; serve "
                            "until Ctrl-C. See docs/quickstart.md.")
    parser.add_argument("--udl-port", type=_port, default=0, metavar="PORT",
                        help="the UDL server's port (default 0: any free port)")
    parser.add_argument("--s3-port", type=_port, default=0, metavar="PORT",
                        help="the S3 endpoint's port (default 0: any free port)")
    parser.add_argument("--sensor-id", default=SENSOR_ID, metavar="ID",
                        help=f"serve only this sensor's records (default {SENSOR_ID}); ALL serves "
                        "all 32 sensors, a full campaign day (much more memory and time)")
    parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long before every UDL answer (default 0)")
    parser.add_argument("--bucket", default=BUCKET, metavar="BUCKET",
                        help=f"the bucket made on the S3 endpoint (default {BUCKET})")
    parser.add_argument("--hold", action="append", default=[],
                        metavar="DAY[:FRACTION][:SENSOR,...]",
                        help="late data: UDL holds back that share (default all) of the day's "
                        "records until released (repeatable; docs/quickstart.md)")
    parser.add_argument("--reprocess", action="append", default=[], metavar="DAY[:FRACTION]",
                        help="UDL re-serves that share (default 0.1) of the day's samples as "
                        "reprocessed copies (repeatable)")
    _add_logging_flags(parser, quiet=(
        'no "sandbox stopped" line (the shell lines to paste still print)'))
    parser.set_defaults(handler=_run_sandbox)


def _run_sandbox(args: argparse.Namespace) -> int:
    from swxsoc_reach.views import sandbox

    if args.latency < 0:
        raise ConfigError(f"--latency {args.latency}: must be 0 or more seconds")
    options = sandbox.SandboxOptions(udl_port=args.udl_port, s3_port=args.s3_port,
                                     sensor_id=check_sensor_id(args.sensor_id),
                                     latency_s=args.latency, bucket=args.bucket,
                                     holds=tuple(args.hold), reprocess=tuple(args.reprocess))
    sandbox.serve(options, lambda line: print(line, flush=True))
    if not args.quiet:
        print(f"{PROG}: sandbox stopped (UDL server and S3 endpoint)", file=sys.stderr)
    return EXIT_OK


SUBCOMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_download,
    _add_process,
    _add_status,
    _add_audit,
    _add_restore,
    _add_report,
    _add_quicklook,
    _add_demo,
    _add_sandbox,
)


def build_parser() -> argparse.ArgumentParser:
    """The full parser (also used by the docs tests)."""
    parser = _Parser(prog=PROG, description="REACH dosimeter reprocessing: UDL -> L1C CDF -> S3")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def configure_logging(verbose: int) -> None:
    """Send package logs to stderr: WARNING by default, -v INFO, -vv DEBUG."""
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s",
                                           "%Y-%m-%dT%H:%M:%S"))
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; return its exit code."""
    verbose = 0
    forget_reported_lines()  # each command names each damaged telemetry line once
    try:
        args = build_parser().parse_args(argv)
        verbose = args.verbose
        configure_logging(verbose)
        progress.set_enabled(not args.quiet)
        result = args.handler(args)
    except ConfigError as exc:  # includes CredentialsError, MissingDependencyError
        _print_error(exc, verbose)
        return EXIT_USAGE
    except ReachError as exc:
        _print_error(exc, verbose)
        return EXIT_FAILED
    except OSError as exc:  # a file a command writes outside the day loop (a quicklook PNG)
        _print_error(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else exc, verbose)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    if isinstance(result, RunReport):
        if result.dry_run:  # the plan is the output of a dry run, even with --quiet
            for plan in result.plans:
                print(f"{plan.day} {result.stage}: {plan.action}")
        if result.stopped:  # the days after it were not attempted: say so even with -q
            print(f"{PROG}: error: {result.stopped}", file=sys.stderr)
        if not args.quiet:
            print(result.summary())
        return result.exit_code
    return int(result or 0)


def _print_error(exc: BaseException | str, verbose: int) -> None:
    if verbose >= 2:
        logger.exception("traceback")
    print(f"{PROG}: error: {exc}", file=sys.stderr)
