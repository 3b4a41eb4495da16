"""The subcommands to try the chain without credentials: ``demo`` (the whole workflow
against local servers) and ``sandbox`` (those servers until Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from swxsoc_reach.commands import EXIT_OK, PROG
from swxsoc_reach.commands.flags import add_logging_flags, port_number
from swxsoc_reach.errors import ConfigError
from swxsoc_reach.mission import check_sensor_id


def add_demo(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="the whole chain through the workflow, no credentials",
                            description="From the repository root: start a local UDL server and "
                            "a local S3 endpoint, run snakemake --configfile config/demo.yaml "
                            "(download, process, quicklook, upload), then status; print where "
                            "everything is. A second run finds nothing to do.")
    parser.add_argument("--fresh", action="store_true",
                        help="first remove the demo's data directory (telemetry included) and "
                        "start over")
    add_logging_flags(parser, quiet="no output of the steps (the closing summary still prints)")
    parser.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from swxsoc_reach.views import demo

    flags = ("-q",) if args.quiet else ("-v",) * args.verbose
    request = demo.DemoRequest(repo=Path.cwd(), fresh=args.fresh, log_flags=flags)
    echo = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
    print(demo.describe(demo.run_demo(request, echo)))
    return EXIT_OK


def add_sandbox(sub: argparse._SubParsersAction) -> None:
    from swxsoc_reach.views.sandbox import BUCKET, SENSOR_ID

    parser = sub.add_parser("sandbox", help="a local UDL server and S3 endpoint until Ctrl-C",
                            description="Start a local UDL server serving synthetic days and a "
                            "local S3 endpoint (moto, the test extra) with a bucket on 127.0.0.1; "
                            "print the shell lines that point every command at them; serve "
                            "until Ctrl-C. See docs/quickstart.md.")
    parser.add_argument("--udl-port", type=port_number, default=0, metavar="PORT",
                        help="the UDL server's port (default 0: any free port)")
    parser.add_argument("--s3-port", type=port_number, default=0, metavar="PORT",
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
    add_logging_flags(parser, quiet=(
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
