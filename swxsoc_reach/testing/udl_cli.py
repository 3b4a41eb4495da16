"""The local UDL server's command line: one flag per ``ServerConfig`` / ``SyntheticOptions``
field, and ``main``, which serves until killed.

    python -m swxsoc_reach.testing.udl_server --port 0 [--warm 2026-01-01] ...

(``udl_server`` hands its ``__main__`` to ``main`` here, so that command, the one
``start_udl_server_process`` runs, stays the server's.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
from collections.abc import Sequence

from swxsoc_reach.mission import ALL_SENSORS
from swxsoc_reach.synthetic import SyntheticOptions
from swxsoc_reach.testing.holdings import (
    Hold,
    HoldingsError,
    holdings_from,
    parse_hold,
    parse_reprocess,
)
from swxsoc_reach.testing.udl_data import MEMORY_RECORDS
from swxsoc_reach.testing.udl_server import HOST, UdlServer
from swxsoc_reach.testing.udl_state import ServerConfig


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM-DD") from None


def _hold(text: str) -> Hold:
    try:
        return parse_hold(text)
    except HoldingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _reprocess(text: str) -> tuple[dt.date, float]:
    try:
        return parse_reprocess(text)
    except HoldingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fail_day(text: str) -> tuple[dt.date, int]:
    day, _, status = text.partition(":")
    try:
        return _day(day), int(status or 500)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM-DD[:STATUS]") from None


def build_parser() -> argparse.ArgumentParser:
    """The server's command line: one flag per ``ServerConfig`` / ``SyntheticOptions`` field."""
    parser = argparse.ArgumentParser(prog="python -m swxsoc_reach.testing.udl_server",
                                     description="A local UDL stand-in serving synthetic "
                                     "REACH data; prints its URL, then serves until killed.")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    data = parser.add_argument_group("synthetic data")
    data.add_argument("--seed", type=int, default=0)
    data.add_argument("--sensor-id", default=ALL_SENSORS,
                      help="serve only this sensor's records (default ALL)")
    data.add_argument("--fractional-seconds", action="store_true")
    data.add_argument("--duplicate-fraction", type=float, default=0.0)
    data.add_argument("--missing-id-fraction", type=float, default=0.0)
    data.add_argument("--gap-fraction", type=float, default=0.0)
    data.add_argument("--extra-keys", action="store_true")
    data.add_argument("--empty-day", type=_day, action="append", default=[],
                      help="a day without any record (repeatable)")
    data.add_argument("--fail-day", type=_fail_day, action="append", default=[],
                      help="DAY[:STATUS]: every query starting that day gets STATUS (500)")
    data.add_argument("--garbage-day", type=_day, action="append", default=[],
                      help="queries starting that day get 200 with a body that is not JSON")
    data.add_argument("--hold", type=_hold, action="append", default=[],
                      metavar="DAY[:FRACTION][:SENSOR,...]",
                      help="hold back that share (default all) of the day's records, of the "
                      "sensors named (default every sensor), until POST /_holdings?release=DAY "
                      "(repeatable)")
    data.add_argument("--reprocess", type=_reprocess, action="append", default=[],
                      metavar="DAY[:FRACTION]",
                      help="re-serve that share (default 0.1) of the day's samples as "
                      "reprocessed copies: later createdAt, new id (repeatable)")
    data.add_argument("--warm", type=_day, action="append", default=[],
                      help="render this day before printing the URL (repeatable)")
    behaviour = parser.add_argument_group("behaviour")
    behaviour.add_argument("--cap", type=int, default=ServerConfig.cap,
                           help="records per answer at most")
    behaviour.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    behaviour.add_argument("--rate-limit", type=float, help="requests/s; more get 429")
    behaviour.add_argument("--burst", type=float, help="token bucket size (default 1 s worth)")
    behaviour.add_argument("--auth", help="required Authorization header value")
    behaviour.add_argument("--fault-seed", type=int, default=0)
    behaviour.add_argument("--error-rate", type=float, default=0.0, help="share answered 500")
    behaviour.add_argument("--drop-rate", type=float, default=0.0,
                           help="share of connections closed without an answer")
    behaviour.add_argument("--truncate-rate", type=float, default=0.0,
                           help="share of bodies cut in half")
    behaviour.add_argument("--cut-rate", type=float, default=0.0,
                           help="share of 200 answers whose JSON stops half-way")
    behaviour.add_argument("--memory-records", type=int, default=MEMORY_RECORDS,
                           help="days of more records are rendered into temporary files "
                           "and read back per answer (bounded memory)")
    behaviour.add_argument("--page-shift", type=int, default=0,
                           help="later pages start this many records early")
    return parser


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """The ``ServerConfig`` a parsed command line asks for."""
    return ServerConfig(
        data=SyntheticOptions(
            seed=args.seed, sensor_id=args.sensor_id,
            fractional_seconds=args.fractional_seconds,
            duplicate_fraction=args.duplicate_fraction,
            missing_id_fraction=args.missing_id_fraction,
            gap_fraction=args.gap_fraction, extra_keys=args.extra_keys),
        empty_days=frozenset(args.empty_day), fail_days=tuple(args.fail_day),
        garbage_days=frozenset(args.garbage_day), cap=args.cap, latency_s=args.latency,
        rate_limit=args.rate_limit, burst=args.burst, auth=args.auth,
        fault_seed=args.fault_seed, error_rate=args.error_rate, drop_rate=args.drop_rate,
        truncate_rate=args.truncate_rate, cut_rate=args.cut_rate,
        memory_records=args.memory_records, page_shift=args.page_shift,
        holdings=holdings_from(args.hold, args.reprocess),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Start, render the ``--warm`` days, print the URL, serve until killed.

    SIGTERM (``stop_process``) ends it like Ctrl-C, so the rendered days' files go too.
    """
    args = build_parser().parse_args(argv)
    server = UdlServer(config_from_args(args), args.host, args.port)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for day in args.warm:
            server.warm(day)
        print(server.url, flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
