"""The sandbox: a local UDL server and S3 endpoint, to try every command without credentials.

``python -m swxsoc_reach sandbox`` starts both on 127.0.0.1, prints the shell lines
that point the package at them (``UDL_BASE_URL``, ``BASICAUTH``, ``AWS_ENDPOINT_URL``
and dummy AWS keys, every other AWS credential source switched off) and the bucket
to upload to, then serves until Ctrl-C. ``demo`` starts the same parts inside its
own process (``Sandbox``) for the workflow it runs.

The UDL server is ``testing/udl_server.py`` on a thread of this process, serving
synthetic days of one sensor by default (REACH-135: 34,560 records a day, a few MB
of memory per day served); ``--sensor-id ALL`` serves all 32 sensors, a full
campaign day. S3 is a moto server (the ``test`` extra) in a child process, which
this process stops before it exits. Late data (a day that grows, reprocessed
samples) is set with ``--hold`` / ``--reprocess`` and changed while it runs
through the UDL server's ``/_holdings`` (docs/quickstart.md "A day that grows").
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shlex
import signal
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from swxsoc_reach.errors import ConfigError, MissingDependencyError, ReachError
from swxsoc_reach.testing.s3_server import HOST, UNSET_VARS

if TYPE_CHECKING:
    from swxsoc_reach.testing.s3_server import MotoServer
    from swxsoc_reach.testing.udl_server import ServerConfig, UdlServer

SENSOR_ID = "REACH-135"  # one sensor: small days, a laptop's memory (ALL: 32x the records)
SEED = 2025
GAP_FRACTION = 0.02  # a few samples missing, so availability reads like real data
BUCKET = "dev-swxsoc-pipeline-incoming"  # the bucket the docs upload to
# "sandbox:sandbox": a credential only the sandbox's UDL server knows; shows the header is sent
CREDENTIAL = "Basic c2FuZGJveDpzYW5kYm94"
# What would send a child to the real UDL or AWS, or to other credentials: unset
UNSET = ("SECRET_ARN_UDL", *UNSET_VARS)


class SandboxStartError(ReachError):
    """A server of the sandbox could not start (exit 1, one line, nothing exported)."""


@dataclass(frozen=True)
class SandboxOptions:
    """What the sandbox serves and where (ports 0: any free port)."""

    udl_port: int = 0
    s3_port: int = 0
    sensor_id: str = SENSOR_ID
    latency_s: float = 0.0
    bucket: str = BUCKET
    holds: tuple[str, ...] = ()  # --hold DAY[:FRACTION][:SENSOR,...]
    reprocess: tuple[str, ...] = ()  # --reprocess DAY[:FRACTION]


def require_moto() -> None:
    """Exit 2 before anything starts when the local S3 endpoint cannot run."""
    if not all(importlib.util.find_spec(name) for name in ("boto3", "moto")):
        raise MissingDependencyError("the sandbox's local S3 endpoint needs moto and boto3 (the "
                                     "test extra): pip install -e '.[test]'")


def udl_config(options: SandboxOptions) -> ServerConfig:
    """The UDL server's behaviour: synthetic days, the sandbox credential, optional latency,
    late data; ``ConfigError`` for a ``--hold`` or ``--reprocess`` value it cannot read."""
    from swxsoc_reach.synthetic import SyntheticOptions
    from swxsoc_reach.testing.holdings import (
        HoldingsError,
        holdings_from,
        parse_hold,
        parse_reprocess,
    )
    from swxsoc_reach.testing.udl_server import ServerConfig

    try:
        holdings = holdings_from([parse_hold(text) for text in options.holds],
                                 [parse_reprocess(text) for text in options.reprocess])
    except HoldingsError as exc:
        raise ConfigError(f"--hold/--reprocess: {exc}") from None
    return ServerConfig(data=SyntheticOptions(seed=SEED, sensor_id=options.sensor_id,
                                              gap_fraction=GAP_FRACTION),
                        auth=CREDENTIAL, latency_s=options.latency_s, holdings=holdings)


@dataclass
class Sandbox:
    """The running parts: a UDL server (thread) and moto (child) holding the bucket."""

    options: SandboxOptions
    udl: UdlServer
    s3: MotoServer

    def exports(self) -> dict[str, str]:
        """The variables that send every command here, and only here."""
        return {"UDL_BASE_URL": self.udl.url, "BASICAUTH": CREDENTIAL, **self.s3.env()}

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """A child's whole environment: ``base`` (default ``os.environ``) pointed here."""
        kept = {k: v for k, v in (os.environ if base is None else base).items()
                if k not in UNSET}
        return {**kept, **self.exports()}

    def shell_lines(self) -> list[str]:
        """What an operator pastes into a shell (or sources): exports, unsets, the bucket."""
        return [f"unset {' '.join(UNSET)}",
                *(f"export {k}={shlex.quote(v)}" for k, v in self.exports().items()),
                f"# S3 bucket (already made): {self.options.bucket}  (--s3-bucket "
                f"{shlex.quote(self.options.bucket)})"]

    def objects(self) -> dict[str, int]:
        """Every object in the bucket: ``s3://bucket/key`` -> size in bytes."""
        bucket = self.options.bucket
        pages = self.s3.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {f"s3://{bucket}/{item['Key']}": int(item["Size"]) for page in pages
                for item in page.get("Contents", [])}


STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


@contextlib.contextmanager
def running_sandbox(options: SandboxOptions = SandboxOptions()) -> Iterator[Sandbox]:
    """Both servers for the duration of a ``with`` block; both stopped when it ends.

    The UDL server's thread never takes SIGINT or SIGTERM (it starts with them
    blocked), so they reach the main thread, which ``serve`` waits in.
    """
    from swxsoc_reach.testing.s3_server import running_moto_server
    from swxsoc_reach.testing.udl_server import UdlServer

    require_moto()
    config = udl_config(options)  # a bad --hold is a usage error before anything starts
    for what, port in (("--udl-port", options.udl_port), ("--s3-port", options.s3_port)):
        _check_port_free(what, port)
    with contextlib.ExitStack() as stack:
        try:
            s3 = stack.enter_context(running_moto_server(port=options.s3_port))
            s3.client().create_bucket(Bucket=options.bucket)
            udl = UdlServer(config, port=options.udl_port)
            stack.callback(udl.stop)
            with _blocked(STOP_SIGNALS):
                udl.start()
        except (OSError, RuntimeError) as exc:  # a port taken since the probe, moto failing
            raise SandboxStartError(
                f"the sandbox did not start: {exc}; nothing was printed to export (a shell "
                "that sourced this output has no sandbox settings): fix the cause and start "
                "it again") from exc
        yield Sandbox(options, udl, s3)


@contextlib.contextmanager
def _blocked(signals: frozenset[signal.Signals]) -> Iterator[None]:
    """Block ``signals`` in this thread (and threads it starts meanwhile); then unblock them."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _check_port_free(what: str, port: int) -> None:
    """A usage error naming the flag when a chosen port is taken (0 is always free).

    The probe binds as both servers do, with ``SO_REUSEADDR``: a port whose last
    connections wait out TIME_WAIT (a busy sandbox just stopped) is free to them,
    and only a socket listening on it refuses the bind.
    """
    if not port:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise ConfigError(f"{what} {port}: cannot listen on {HOST}:{port} ({exc.strerror}); "
                              "choose another port, or 0 for any free one") from None


def serve(options: SandboxOptions, echo: Callable[[str], None]) -> None:
    """Start the sandbox, ``echo`` its shell lines, and serve until SIGINT or SIGTERM.

    The stop signals are awaited (``sigwait``), not raised at some random line, and
    stay blocked until both servers are stopped, so a second Ctrl-C cannot cut the
    stop short. A SIGTERM while starting stops it like Ctrl-C (KeyboardInterrupt).
    """
    previous_handler = signal.signal(signal.SIGTERM, signal.default_int_handler)
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    try:
        with running_sandbox(options) as sandbox:
            signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
            for line in sandbox.shell_lines():
                echo(line)
            echo(f"# late data: curl -X POST '{sandbox.udl.url}/_holdings?hold=DAY[:FRACTION]' "
                 "(or release=DAY, reprocess=DAY[:FRACTION]); GET shows what is held")
            echo(f"# sandbox up: UDL serves synthetic {options.sensor_id} days at "
                 f"{sandbox.udl.url}, S3 at {sandbox.s3.url}; Ctrl-C stops both")
            signal.sigwait(STOP_SIGNALS)
    finally:
        while pending := signal.sigpending() & STOP_SIGNALS:  # Ctrl-C again while stopping
            signal.sigwait(pending)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        signal.signal(signal.SIGTERM, previous_handler)
