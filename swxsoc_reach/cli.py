"""Command line entry: the parser of every subcommand, logging set-up, and errors ->
exit codes.

Exit codes (docs/telemetry.md "Exit codes"): 0 every planned day succeeded or was a
known skip, 1 a day of the range is FAILED (now, or left so by an earlier run) or the
range stopped early, 2 usage or configuration error. This is the only
module that prints errors or chooses exit codes. The subcommands live in
``swxsoc_reach.commands``; each one's work is imported only when it runs, so ``--help``
and small runs start fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from swxsoc_reach import __version__
from swxsoc_reach.commands import EXIT_FAILED, EXIT_USAGE, PROG, pipeline, tryout, views
from swxsoc_reach.errors import ConfigError, ReachError
from swxsoc_reach.phases.dayloop import RunReport
from swxsoc_reach.telemetry.store import forget_reported_lines
from swxsoc_reach.views import progress

logger = logging.getLogger("swxsoc_reach")


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` owns every exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConfigError(message)


SUBCOMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    pipeline.add_download,
    pipeline.add_process,
    views.add_status,
    pipeline.add_audit,
    pipeline.add_restore,
    views.add_report,
    views.add_quicklook,
    tryout.add_demo,
    tryout.add_sandbox,
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
