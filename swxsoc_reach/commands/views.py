"""The subcommands that show the campaign: ``status`` (per day and a summary, a
coverage table or plot), ``report`` (one HTML page), ``quicklook`` (a CDF's day as a
PNG). Each handler imports its view (and matplotlib) only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from swxsoc_reach.commands import EXIT_FAILED, EXIT_OK
from swxsoc_reach.commands.flags import (
    add_logging_flags,
    add_report_filter_flags,
    build_status_query,
)
from swxsoc_reach.errors import ConfigError


def add_status(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("status", help="where a range stands: per day and a summary",
                            description="Report each day's latest status, records, availability, "
                            "CDF and S3 key from the telemetry file, then a summary.")
    add_report_filter_flags(parser)
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
    add_logging_flags(parser, quiet=(
        'the table format prints the summary without the day rows (with --check: nothing '
        'when the range is complete); no "plot: FILE" line on stderr'))
    parser.set_defaults(handler=_run_status)


def _run_status(args: argparse.Namespace) -> int:
    from swxsoc_reach.views import statusformat
    from swxsoc_reach.views.statusbuild import build_report

    query = build_status_query(args)
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


def add_report(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("report", help="the campaign as one self-contained HTML page",
                            description="Write one HTML file that opens offline: summary, "
                            "coverage heat map, failures with the command that retries each, "
                            "throughput and ETA, disk used, versions present (docs/report.md).")
    add_report_filter_flags(parser)
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="FILE.html",
                        help="the HTML file to write (replaced atomically)")
    parser.add_argument("--coverage", default="sensor", choices=("sensor", "flavor"),
                        help="heat map rows: the sensors (default) or their dosimeters")
    parser.add_argument("--figures-dir", type=Path, metavar="DIR",
                        help="also write DIR/coverage.png and DIR/quicklooks/<cdf>.png for each "
                        "CDF on disk (for snakemake --report)")
    add_logging_flags(parser, quiet="do not print the page's path")
    parser.set_defaults(handler=_run_report)


def _run_report(args: argparse.Namespace) -> int:
    from swxsoc_reach.views import report
    from swxsoc_reach.views.plots import require_matplotlib
    from swxsoc_reach.views.statusbuild import build_report

    query = build_status_query(args)
    require_matplotlib()  # the heat map is part of the page
    built = build_report(query)
    request = report.ReportRequest(output=args.output, level=args.coverage,
                                   figures_dir=args.figures_dir)
    written = report.write_report(built, request)
    if not args.quiet:
        print(written)
    return EXIT_OK


def add_quicklook(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("quicklook", help="draw a CDF's day: dose rate against time, and a map",
                            description="Draw one PNG per L1C CDF: dose rate per dosimeter flavor "
                            "against time (log scale) and on a longitude-latitude map.")
    parser.add_argument("cdf", nargs="+", type=Path, metavar="FILE.cdf", help="L1C CDF file(s)")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE.png",
                        help="the PNG (one CDF only; default: <stem>.quicklook.png, in "
                        "<output-dir>/about/l1c/... for a CDF of the archive tree, else beside it)")
    add_logging_flags(parser, quiet="do not print each PNG's path")
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
