"""The demo: the whole chain on this machine, before any UDL or AWS credential exists.

A local UDL server (``testing/udl_server.py``, on a thread of this process) serves
a few synthetic days of one sensor; then the same commands an operator types run
as subprocesses: ``download`` fetches the days, ``process --quicklook`` makes the
CDFs and their PNGs (and, when the ``test`` extra brings moto, uploads them to a
local S3 endpoint started for the demo), and ``status --plot`` reports. Only
127.0.0.1 is contacted: the AWS environment of the children points at the local
endpoint with every other credential source switched off.

The demo owns ``raw/``, ``cdf/`` and ``status.png`` in its output directory and
replaces them on each run (a marker file proves they are its own); anything else
there is left alone.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from swxsoc_reach.days import ONE_DAY, iter_days
from swxsoc_reach.errors import ConfigError, ReachError
from swxsoc_reach.paths import artifact_name, day_cdf_path
from swxsoc_reach.telemetry.store import DEFAULT_NAME as TELEMETRY_NAME
from swxsoc_reach.testing.s3_server import UNSET_VARS, MotoServer
from swxsoc_reach.views.quicklook import quicklook_path

logger = logging.getLogger(__name__)

SENSOR_ID = "REACH-135"  # one sensor: 34,560 records a day, seconds per day (ALL: 1.1 million)
FIRST_DAY = dt.date(2025, 9, 3)  # the bundled sample's first day (sample/make_sample.py)
SEED = 2025
GAP_FRACTION = 0.02  # a few samples missing, so availability reads like real data
BUCKET = "demo-swxsoc-pipeline-incoming"
# "demo:demo": a credential only the demo's own UDL server knows; it shows the header is sent
CREDENTIAL = "Basic ZGVtbzpkZW1v"
MAX_DAYS = 31
MARKER = ".swxsoc_reach-demo"
OWNED = ("raw", "cdf", "status.png")


@dataclass(frozen=True)
class DemoRequest:
    """A validated ``demo`` invocation; ``log_flags`` go to every command (-v, -q)."""

    output_dir: Path
    days: int = 3
    log_flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoResult:
    """Where everything the demo made is."""

    output_dir: Path
    first_day: dt.date
    last_day: dt.date
    artifacts: tuple[Path, ...]
    cdfs: tuple[Path, ...]
    quicklooks: tuple[Path, ...]
    telemetry: Path
    status_plot: Path
    s3_objects: tuple[str, ...] | None  # s3://bucket/key; None without the test extra
    commands: tuple[str, ...]


def s3_available() -> bool:
    """True when boto3 and moto are installed (the ``test`` extra), so the demo uploads."""
    return all(importlib.util.find_spec(name) is not None for name in ("boto3", "moto"))


def run_demo(request: DemoRequest, echo: Callable[[str], None]) -> DemoResult:
    """Run the chain into ``request.output_dir``; ``echo`` shows each command before it runs."""
    from swxsoc_reach.synthetic import SyntheticOptions
    from swxsoc_reach.testing.udl_server import ServerConfig, UdlServer

    if not 1 <= request.days <= MAX_DAYS:
        raise ConfigError(f"--days {request.days}: the demo runs 1 to {MAX_DAYS} days")
    out = request.output_dir
    _claim(out)
    first, last = FIRST_DAY, FIRST_DAY + (request.days - 1) * ONE_DAY
    raw, cdf_dir, telemetry, status_plot = (out / "raw", out / "cdf", out / "raw" / TELEMETRY_NAME,
                                            out / "status.png")
    days = ["--start-date", first.isoformat(), "--end-date", last.isoformat(),
            "--sensor-id", SENSOR_ID]
    udl_config = ServerConfig(data=SyntheticOptions(seed=SEED, sensor_id=SENSOR_ID,
                                                    gap_fraction=GAP_FRACTION), auth=CREDENTIAL)
    commands: list[str] = []
    with ExitStack() as stack:
        udl = stack.enter_context(UdlServer(udl_config))
        s3 = stack.enter_context(_local_s3()) if s3_available() else None
        env = _environment(s3)
        upload = ["--upload-to-s3", "--s3-bucket", BUCKET] if s3 is not None else []
        steps = [
            ["download", *days, "--output-dir", str(raw), "--udl-url", udl.url],
            ["process", *days, "--input-dir", str(raw), "--output-dir", str(cdf_dir),
             "--quicklook", *upload],
            ["status", "--telemetry-file", str(telemetry), "--plot", str(status_plot)],
        ]
        if s3 is None:
            echo("S3 upload left out: boto3 and moto (pip install -e '.[test]') start a local "
                 "S3 endpoint for it")
        for step in steps:
            commands.append(_run(step, request.log_flags, env, echo))
        s3_objects = _list_objects(s3) if s3 is not None else None
    day_list = list(iter_days(first, last))
    return DemoResult(
        output_dir=out,
        first_day=first,
        last_day=last,
        artifacts=tuple(raw / artifact_name(d, SENSOR_ID, "csv") for d in day_list),
        cdfs=tuple(day_cdf_path(cdf_dir, d, SENSOR_ID) for d in day_list),
        quicklooks=tuple(quicklook_path(day_cdf_path(cdf_dir, d, SENSOR_ID)) for d in day_list),
        telemetry=telemetry,
        status_plot=status_plot,
        s3_objects=s3_objects,
        commands=tuple(commands),
    )


def _claim(out: Path) -> None:
    """Make ``out`` the demo's: replace what an earlier demo left, refuse anyone else's files."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"demo output directory {out} exists and is not a directory")
    present = [name for name in OWNED if (out / name).exists()]
    if present and not (out / MARKER).is_file():
        raise ConfigError(f"demo output directory {out} already holds {', '.join(present)} not "
                          "made by the demo: choose another --output-dir")
    for name in present:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by python -m swxsoc_reach demo; its next run replaces "
                              f"{', '.join(OWNED)} here\n")


@contextmanager
def _local_s3() -> Iterator[MotoServer]:
    """A moto server on 127.0.0.1 holding the demo's bucket, stopped when the demo ends."""
    from swxsoc_reach.testing.s3_server import running_moto_server

    with running_moto_server() as server:
        server.client().create_bucket(Bucket=BUCKET)
        yield server


def _environment(s3: MotoServer | None) -> dict[str, str]:
    """The children's environment: the demo credential, and AWS pointed at the local endpoint."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("SECRET_ARN_UDL", "UDL_BASE_URL", *UNSET_VARS)}
    if s3 is not None:
        return s3.environ(base, BASICAUTH=CREDENTIAL)
    return {**base, "BASICAUTH": CREDENTIAL}


def _run(step: list[str], log_flags: tuple[str, ...], env: dict[str, str],
         echo: Callable[[str], None]) -> str:
    """Run one CLI command as a child process sharing our terminal; stop the demo if it fails."""
    shown = shlex.join(["python", "-m", "swxsoc_reach", *step])
    echo(f"$ {shown}")
    done = subprocess.run([sys.executable, "-m", "swxsoc_reach", *step, *log_flags], env=env,
                          stdin=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        raise ReachError(f"demo step failed with exit code {done.returncode}: {shown} "
                         "(its messages are above)")
    return shown


def _list_objects(s3: MotoServer) -> tuple[str, ...]:
    """Every object in the demo bucket, as ``s3://bucket/key``."""
    pages = s3.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return tuple(f"s3://{BUCKET}/{item['Key']}" for page in pages
                 for item in page.get("Contents", []))


def describe(result: DemoResult) -> str:
    """Where everything is, one path a line, and what to try next."""
    lines = ["", f"Demo complete: {SENSOR_ID}, {result.first_day} .. {result.last_day} (synthetic "
             "data; only 127.0.0.1 was contacted).", ""]

    def section(title: str, paths: tuple[Path, ...] | tuple[str, ...]) -> None:
        lines.append(title)
        lines.extend(f"  {path}" for path in paths)

    section("Artifacts (download, one per UTC day):", result.artifacts)
    section("CDFs (process, l1c/prelim/YYYY/MM/DD/<name>):", result.cdfs)
    section("Quicklook plots (process --quicklook):", result.quicklooks)
    section("Telemetry (every stage of every day):", (result.telemetry,))
    section("Status plot (status --plot):", (result.status_plot,))
    if result.s3_objects is None:
        lines.append("S3: not run (install the test extra for a local S3 endpoint)")
    else:
        section("Uploaded to the demo's local S3 endpoint (stopped with the demo):",
                result.s3_objects)
    telemetry, first_cdf = (shlex.quote(str(p)) for p in (result.telemetry, result.cdfs[0]))
    lines += ["", "Next:",
              f"  python -m swxsoc_reach status --telemetry-file {telemetry}",
              f"  python -m swxsoc_reach quicklook {first_cdf} -o day.png",
              "  docs/quickstart.md: the same commands against the real UDL"]
    return "\n".join(lines)
