"""The demo: the whole chain through the Snakemake workflow, before any credential exists.

Run from the repository root. It starts the sandbox's parts in this process (a
local UDL server serving synthetic days and a local S3 endpoint with a bucket,
``views/sandbox.py``), then runs what an operator runs, as child processes sharing
the terminal, each shown before it runs:

    snakemake --configfile config/demo.yaml    # download, process + quicklook, upload
    python -m swxsoc_reach status --telemetry-file ... --plot ...
    python -m swxsoc_reach report --telemetry-file ... -o campaign.html

and prints where everything is. ``config/demo.yaml`` differs from a real run's
config only in its range, directory and switches (config/README.md). Nothing
outside 127.0.0.1 is contacted: the children's environment points UDL and AWS at
the local servers, every other credential source switched off.

The telemetry decides, as in any run: a second demo finds every day complete and
does nothing. ``--fresh`` first removes the demo's data directory, which the demo
marks as its own when it creates it; it never removes a directory it did not make.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swxsoc_reach.days import iter_days
from swxsoc_reach.errors import ConfigError, MissingDependencyError, ReachError
from swxsoc_reach.paths import quicklook_path
from swxsoc_reach.targets import WorkflowConfig, plan_workflow
from swxsoc_reach.views.sandbox import Sandbox, SandboxOptions, require_moto, running_sandbox

logger = logging.getLogger(__name__)

DEFAULTS = Path("config/config.yaml")  # the Snakefile's configfile
DEMO_CONFIG = Path("config/demo.yaml")
MARKER = ".swxsoc_reach-demo"
STATUS_PLOT = "status.png"
REPORT = "campaign.html"


@dataclass(frozen=True)
class DemoRequest:
    """A validated ``demo`` invocation; ``log_flags`` go to every command (-v, -q)."""

    repo: Path  # the clone: Snakefile, config/
    fresh: bool = False
    log_flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoResult:
    """Where everything the demo's workflow left is (paths absolute)."""

    config: WorkflowConfig
    had_work: bool  # False: every day was complete before this run
    artifacts: tuple[Path, ...]
    cdfs: tuple[Path, ...]
    quicklooks: tuple[Path, ...]
    receipts: tuple[Path, ...]
    telemetry: Path
    status_plot: Path
    report: Path
    s3_objects: dict[str, int]  # s3://bucket/key -> bytes, in this run's endpoint
    commands: tuple[str, ...]


def load_config(repo: Path) -> WorkflowConfig:
    """``config/config.yaml`` under ``config/demo.yaml``, as Snakemake merges them, checked."""
    import yaml

    merged: dict[str, Any] = {}
    for name in (DEFAULTS, DEMO_CONFIG):
        path = repo / name
        if not path.is_file():
            raise ConfigError(f"no {name} in {repo}: run the demo from the repository root")
        merged |= yaml.safe_load(path.read_text()) or {}
    return WorkflowConfig.from_config(merged, base=repo)


def run_demo(request: DemoRequest, echo: Callable[[str], None]) -> DemoResult:
    """Run the workflow of ``config/demo.yaml`` against the sandbox, then status and report."""
    if importlib.util.find_spec("snakemake") is None:
        raise MissingDependencyError("the demo runs the Snakemake workflow: pip install -e "
                                     "'.[test]' (or the workflow extra)")
    require_moto()
    config = load_config(request.repo)
    _claim(config.data_dir, fresh=request.fresh)
    plan = plan_workflow(config)
    telemetry = config.selection.telemetry_file
    status_plot = config.data_dir / STATUS_PLOT
    report = config.data_dir / REPORT
    commands: list[str] = []
    to_download = [day for day, target in plan.days.items() if target.download]
    with running_sandbox(SandboxOptions(bucket=config.s3_bucket or SandboxOptions.bucket,
                                        sensor_id=config.selection.sensor_id)) as sandbox:
        # Render the synthetic days while Snakemake starts and runs the earlier days'
        # jobs (a REACH-135 day takes seconds): the second core works meanwhile.
        threading.Thread(target=_warm, args=(sandbox, to_download), daemon=True,
                         name="demo-warm").start()
        env = sandbox.environ()
        snakemake = ["snakemake", "--configfile", str(DEMO_CONFIG)]
        quiet = ["--quiet", "all"] if "-q" in request.log_flags else []
        workflow_code = _run(snakemake + quiet, [sys.executable, "-m", *snakemake, *quiet],
                             request.repo, env, echo, commands)
        s3_objects = sandbox.objects()
    days = list(iter_days(config.selection.start, config.selection.end))
    cdfs = tuple(config.local(config.cdf(day)) for day in days)
    for step in (["status", "--telemetry-file", str(telemetry), "--plot", str(status_plot)],
                 ["report", "--telemetry-file", str(telemetry), "-o", str(report)]):
        shown = ["python", "-m", "swxsoc_reach", *step]
        code = _run(shown, [sys.executable, "-m", "swxsoc_reach", *step,
                            *request.log_flags], request.repo, env, echo, commands)
        if code != 0:
            raise ReachError(f"demo step failed with exit code {code}: {shlex.join(shown)} "
                             "(its messages are above)")
    if workflow_code != 0:
        raise ReachError(f"the workflow failed with exit code {workflow_code} (its messages "
                         f"are above; each job's log is under {config.data_dir / 'logs'})")
    return DemoResult(
        config=config,
        had_work=bool(plan.days),
        artifacts=tuple(config.local(config.artifact(day)) for day in days),
        cdfs=cdfs,
        quicklooks=tuple(quicklook_path(cdf) for cdf in cdfs),
        receipts=tuple(config.local(config.receipt(day)) for day in days),
        telemetry=telemetry,
        status_plot=status_plot,
        report=report,
        s3_objects=s3_objects,
        commands=tuple(commands),
    )


def _warm(sandbox: Sandbox, days: list[dt.date]) -> None:
    """Render each day in the UDL server's store, in date order (downloads then find it)."""
    for day in days:
        sandbox.udl.warm(day)


def _claim(data_dir: Path, *, fresh: bool) -> None:
    """Make ``data_dir`` the demo's (marked); with ``fresh`` empty it first. Refuse others'."""
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"demo data directory {data_dir} exists and is not a directory")
    ours = (data_dir / MARKER).is_file()
    if data_dir.is_dir() and any(data_dir.iterdir()) and not ours:
        raise ConfigError(f"demo data directory {data_dir} already holds files not made by the "
                          f"demo: change data_dir in {DEMO_CONFIG} or move them")
    if fresh and ours:
        shutil.rmtree(data_dir)
    if not (data_dir / MARKER).is_file():
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / MARKER).write_text("made by python -m swxsoc_reach demo; demo --fresh "
                                       "removes this directory\n")


def _run(shown: list[str], argv: list[str], cwd: Path, env: dict[str, str],
         echo: Callable[[str], None], commands: list[str]) -> int:
    """Run one command as a child sharing our terminal; show it first; return its exit code.

    The child has its own process group, so a Ctrl-C reaches it once, from us: it
    stops as it does on its own (Snakemake ends its jobs, the telemetry says where
    each day stands; a second SIGINT would make it print tracebacks) before the
    servers go.
    """
    line = shlex.join(shown)
    echo(f"$ {line}")
    commands.append(line)
    with subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          process_group=0) as child:
        try:
            return child.wait()
        except KeyboardInterrupt:
            child.send_signal(signal.SIGINT)
            child.wait()
            raise


def describe(result: DemoResult) -> str:
    """Where everything is, one path a line, and what to try next."""
    sel, config = result.config.selection, result.config
    # the interpreter running the demo: a bare ``python`` works only in an activated venv
    python = f"{shlex.quote(sys.executable)} -m swxsoc_reach"
    lines = [""]
    if result.had_work:
        lines.append(f"Demo complete: {sel.sensor_id}, {sel.start} .. {sel.end}, through the "
                     f"Snakemake workflow ({DEMO_CONFIG}; synthetic data, only 127.0.0.1 "
                     "contacted).")
    else:
        lines.append(f"Nothing to do: every day of {DEMO_CONFIG} ({sel.start} .. {sel.end}) was "
                     f"already complete in the telemetry, which is kept; `{python} demo --fresh` "
                     "starts over.")
    lines += ["", f"Data directory: {config.data_dir}"]

    def section(title: str, items: tuple[Path, ...] | tuple[str, ...]) -> None:
        lines.append(title)
        lines.extend(f"  {item}" for item in items)

    section("Artifacts (download, one per UTC day):", result.artifacts)
    section("CDFs (process, l1c/prelim/YYYY/MM/DD/<name>: the archive tree, only CDFs):",
            result.cdfs)
    section("Quicklook plots (quicklook: true; about/ holds what is said about each CDF):",
            result.quicklooks)
    section("Upload receipts (bucket and key of each confirmed S3 object):",
            result.receipts)
    if result.s3_objects:
        section("Uploaded to the demo's local S3 endpoint (it stops with the demo):",
                tuple(f"{url} ({size:,} bytes)" for url, size in result.s3_objects.items()))
    else:
        lines.append("S3: nothing uploaded by this run (the receipts name the objects an "
                     "earlier run's endpoint held)")
    section("Telemetry (every stage of every day):", (result.telemetry,))
    section("Status plot (status --plot):", (result.status_plot,))
    section("Campaign report (report; opens offline):", (result.report,))
    section("Job logs (one per rule, day and run):", (config.data_dir / "logs",))
    telemetry = shlex.quote(str(result.telemetry))
    lines += ["", "Next:",
              f"  {python} status --telemetry-file {telemetry}",
              f"  {python} demo --fresh     # start over",
              "  config/README.md: the one-file step from this demo to a run on the real UDL",
              f"  docs/quickstart.md: each command by hand against `{python} sandbox`"]
    return "\n".join(lines)
