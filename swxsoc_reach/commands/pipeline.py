"""The pipeline's subcommands: ``download`` (Phase 1), ``process`` (Phase 2), ``audit``
(each day against UDL, its digests and S3), ``restore`` (uploaded CDFs back from S3).
Each handler imports its phase only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from swxsoc_reach.commands import EXIT_FAILED, EXIT_OK
from swxsoc_reach.commands.flags import (
    DESCRIPTORS,
    add_day_flags,
    add_logging_flags,
    add_report_filter_flags,
    add_udl_flags,
    build_selection,
    build_status_query,
    parse_range,
    positive_float,
)
from swxsoc_reach.errors import ConfigError
from swxsoc_reach.mission import ALL_SENSORS, check_sensor_id
from swxsoc_reach.paths import (
    ARTIFACT_COMPRESSIONS,
    CDF_LEVEL_DIR,
    DEFAULT_DATA_VERSION,
    check_data_version,
)
from swxsoc_reach.phases.dayloop import DaySelection, RunReport
from swxsoc_reach.telemetry.store import DEFAULT_NAME as TELEMETRY_NAME


def add_download(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("download", help="Phase 1: one artifact per UTC day from UDL",
                            description="Download REACH observations from UDL, one artifact "
                            "per UTC day, resumable. Exit codes: 0 done, 1 a day FAILED, 2 usage. "
                            "Pages are decoded in C when the package was installed with a C "
                            "compiler; without it in Python: the same artifact for about 6x "
                            "(CSV) or 4x (JSON) the CPU time a page, and the log says so "
                            "(INFO). See docs/download.md.")
    parser.add_argument("--output-dir", required=True, type=Path, metavar="PATH",
                        help="where the day artifacts go (created if missing)")
    add_day_flags(parser, telemetry_help=f"append-only telemetry CSV "
                  f"(default <output-dir>/{TELEMETRY_NAME})")
    parser.add_argument("--artifact-compression", default="none",
                        choices=ARTIFACT_COMPRESSIONS, help="zstd: write <artifact>.zst "
                        "(~15 %% of the plain size; process reads both) (default %(default)s)")
    parser.add_argument("--window-minutes", type=positive_float, metavar="MIN",
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
    add_udl_flags(parser)
    parser.set_defaults(handler=_run_download)


def _run_download(args: argparse.Namespace) -> RunReport:
    from swxsoc_reach.phases import download

    selection = build_selection(args, args.output_dir)
    return download.run_from_cli(selection, args)


def add_process(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("process", help="Phase 2: each day's artifact -> one L1C CDF",
                            description="Convert per-day UDL artifacts into L1C CDFs, with "
                            "optional S3 upload, resumable. Exit codes: 0 done, 1 a day FAILED, "
                            "2 usage. See docs/process.md.")
    parser.add_argument("--input-dir", required=True, type=Path, metavar="PATH",
                        help="directory holding the Phase 1 artifacts")
    parser.add_argument("--output-dir", required=True, type=Path, metavar="PATH",
                        help="where CDFs go, as l1c/prelim/YYYY/MM/DD/<name>")
    add_day_flags(parser, telemetry_help=f"append-only telemetry CSV "
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

    selection = build_selection(args, args.input_dir)
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


def add_audit(sub: argparse._SubParsersAction) -> None:
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
    add_udl_flags(parser)
    add_logging_flags(parser, quiet="no summary line")
    parser.set_defaults(handler=_run_audit)


def _run_audit(args: argparse.Namespace) -> int:
    from swxsoc_reach.phases import audit
    from swxsoc_reach.views.findings import FORMATTERS

    start, end = parse_range(args)
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


def add_restore(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("restore", help="fetch uploaded CDFs whose local copy is gone back "
                            "from S3", description="For each UPLOADED day whose local CDF is "
                            "gone, fetch the object back from its recorded bucket and key, "
                            "checked against the SHA-256 recorded when the CDF was made, to "
                            "where the telemetry says the CDF was. Exit codes: 0 every such day "
                            "restored, 1 a day could not be, 2 usage. See docs/process.md.")
    add_report_filter_flags(parser)
    parser.add_argument("--aws-region", metavar="REGION", help="AWS region (default: boto3's "
                        "chain)")
    add_logging_flags(parser, quiet="no summary line")
    parser.set_defaults(handler=_run_restore)


def _run_restore(args: argparse.Namespace) -> int:
    from swxsoc_reach.upload.restore import restore_days
    from swxsoc_reach.views.statusbuild import build_report

    days = build_report(build_status_query(args)).only_in_s3
    report = restore_days(days, args.aws_region)
    if not args.quiet:
        print(report.summary())
    return EXIT_FAILED if report.failed else EXIT_OK
