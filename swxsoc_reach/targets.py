"""What the Snakemake workflow must build: per-day targets from config, telemetry and disk.

The workflow (``workflow/rules/*.smk``, config/README.md) asks Snakemake for one
file per day that needs work; this module picks those days with the CLI's own
resume rules (``telemetry.resume.decide_download`` / ``decide_process`` over
``TelemetryStore.state()``, ``--limit-days`` through ``phases.dayloop.plan_days``),
so the workflow works on a day exactly when ``download`` then ``process`` would
(historical-process.rst "Restart semantics"; historical-download.md "Resume rules").

A day's target is its product: the CDF, or in upload mode the upload receipt. Three
kinds of day cannot be asked for by their product and get a *resume marker*
instead, whose rule runs the day's ``process`` command: a day without input (the
command records ``SKIPPED_NO_INPUT``; asking Snakemake for its CDF would abort the
whole run), a day whose product is on disk while its telemetry says to redo it
(Snakemake would call it up to date), and a day to download first: UDL may hold
nothing for it (``SKIPPED_NO_DATA``, then no artifact and no CDF), so its
``download_day`` job leaves a *download marker* and the resume job after it runs
``process``, which processes the new artifact or, for a day without data, does
nothing. Markers are named after the day's latest telemetry row, so every new
state of the day asks anew.

Imports nothing heavy: every Snakemake job (and every SLURM job's re-parse) runs it.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swxsoc_reach.days import ONE_DAY, check_range, parse_date
from swxsoc_reach.errors import ConfigError
from swxsoc_reach.mission import check_sensor_id
from swxsoc_reach.paths import (
    DEFAULT_DATA_VERSION,
    artifact_name,
    check_data_version,
    day_cdf_path,
    find_artifact,
    upload_receipt_path,
)
from swxsoc_reach.phases.dayloop import DaySelection, plan_days
from swxsoc_reach.phases.process import ProcessRequest, check_downgrades
from swxsoc_reach.telemetry.audits import AuditStore
from swxsoc_reach.telemetry.products import DayProduct, day_product, has_product
from swxsoc_reach.telemetry.resume import (
    DownloadAction,
    ProcessAction,
    decide_download,
    decide_process,
)
from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import DEFAULT_NAME as TELEMETRY_NAME
from swxsoc_reach.telemetry.store import TelemetryStore

RECEIPT_DIR = "uploads"
RESUME_PATTERN = "logs/resume/{yyyy}-{mm}-{dd}.{state}.done"
DOWNLOAD_PATTERN = "logs/download/{yyyy}-{mm}-{dd}.{state}.done"
# The day whose paths become the rules' patterns: no sensor id, mode or version
# contains these digit runs.
_PROBE_DAY = dt.date(1999, 12, 31)
_PROBE_WILDCARDS = (
    ("1999/12/31", "{yyyy}/{mm}/{dd}"),
    ("19991231", "{yyyy}{mm}{dd}"),
    ("20000101", "{next}"),  # an artifact's name ends with the day after
)
# Rule priorities: earlier days first, and each stage of a day before the next
# day's first stage, so ``--jobs 1`` works day by day in date order like the CLI.
STAGES = ("download", "process", "upload")


@dataclass(frozen=True)
class WorkflowConfig:
    """The validated config; paths as the rules see them (relative to ``data_dir``)."""

    selection: DaySelection
    data_dir: Path
    input_dir: str
    output_dir: str
    telemetry_file: str
    download: bool = False
    udl_url: str | None = None
    artifact_compression: str = "none"  # download --artifact-compression
    window_minutes: float | None = None  # download --window-minutes
    udl_max_retries: int | None = None  # download --max-retries
    recheck_days: int = 0  # the last N days of the range refreshed by one job each run
    upload_to_s3: bool = False
    s3_bucket: str | None = None
    aws_region: str | None = None
    quicklook: bool = False
    data_version: str = DEFAULT_DATA_VERSION  # the product version the CDFs (and keys) carry
    allow_downgrade: bool = False  # process --allow-downgrade

    @classmethod
    def from_config(cls, config: Mapping[str, Any], base: Path,
                    run_id: str | None = None) -> WorkflowConfig:
        """Check what the JSON schema cannot: real dates in order, sensor, bucket with upload.

        ``base`` is the directory a relative ``data_dir`` starts from (the workflow's
        directory: the same in the main process and in every job's); ``run_id`` the
        workflow run's (``workflow_run.run_id``), passed to every day's command.
        """
        for key in ("start_date", "end_date"):
            if config.get(key) is None:
                raise ConfigError(f"config {key} is not set: give the range in a config file, "
                                  "e.g. snakemake --configfile config/range.yaml")
        start = parse_date(config["start_date"], what="config start_date")
        end = parse_date(config["end_date"], what="config end_date")
        check_range(start, end)
        upload = bool(config["upload_to_s3"])
        if upload and not config.get("s3_bucket"):
            raise ConfigError("config upload_to_s3 is true but s3_bucket is not set")
        if config.get("s3_bucket") and not upload:
            raise ConfigError("config s3_bucket is only used with upload_to_s3: true")
        if config.get("recheck_days") and not config["download"]:
            raise ConfigError("config recheck_days is only used with download: true")
        if config.get("udl_url") and not config["download"]:
            raise ConfigError("config udl_url is only used with download: true")
        input_dir = os.path.normpath(config["input_dir"])
        telemetry = os.path.normpath(
            config.get("telemetry_file") or os.path.join(input_dir, TELEMETRY_NAME))
        # lexically: data_dir may not exist yet (``workdir:`` creates it) and a path
        # through it such as "../../sample/raw" must still resolve
        data_dir = Path(os.path.normpath(os.path.join(base, config["data_dir"])))
        return cls(
            selection=DaySelection(
                start=start,
                end=end,
                telemetry_file=Path(os.path.normpath(data_dir / telemetry)),
                sensor_id=check_sensor_id(config["sensor_id"]),
                descriptor=config["descriptor"],
                output_format=config["output_format"],
                retry_failed=bool(config["retry_failed"]),
                limit_days=config.get("limit_days"),
                run_id=run_id,
            ),
            data_dir=data_dir,
            input_dir=input_dir,
            output_dir=os.path.normpath(config["output_dir"]),
            telemetry_file=telemetry,
            download=bool(config["download"]),
            udl_url=config.get("udl_url") or None,
            artifact_compression=config.get("artifact_compression", "none"),
            window_minutes=config.get("window_minutes"),
            udl_max_retries=config.get("udl_max_retries"),
            recheck_days=int(config.get("recheck_days") or 0),
            upload_to_s3=upload,
            s3_bucket=config.get("s3_bucket") or None,
            aws_region=config.get("aws_region") or None,
            quicklook=bool(config.get("quicklook")),
            data_version=check_data_version(config.get("data_version", DEFAULT_DATA_VERSION)),
            allow_downgrade=bool(config.get("allow_downgrade")),
        )

    # Each rule's output pattern is a real path of one day from ``paths`` with that
    # day's digits made wildcards (yyyy, mm, dd; ``next`` for the day after, which
    # ends an artifact's name), so ``paths`` stays the only place that knows a name.
    # A day's own path is then the pattern filled in: cheap for a 10-year plan.

    @functools.cached_property
    def artifact_pattern(self) -> str:
        """``download_day``'s output: the Phase 1 artifact in ``input_dir``."""
        sel = self.selection
        return _pattern_of(os.path.join(
            self.input_dir, artifact_name(_PROBE_DAY, sel.sensor_id, sel.output_format,
                                          self.artifact_compression)))

    @functools.cached_property
    def cdf_pattern(self) -> str:
        """``process_day``'s output: ``<output_dir>/l1c/prelim/YYYY/MM/DD/<name>``."""
        return _pattern_of(os.path.normpath(day_cdf_path(
            Path(self.output_dir), _PROBE_DAY, self.selection.sensor_id, self.data_version)))

    @functools.cached_property
    def receipt_pattern(self) -> str:
        """``upload_day``'s output: the receipt of a confirmed upload, under ``uploads/``."""
        name = day_cdf_path(Path(), _PROBE_DAY, self.selection.sensor_id, self.data_version).name
        return _pattern_of(str(upload_receipt_path(Path(RECEIPT_DIR), name)))

    def artifact(self, day: dt.date) -> str:
        """The Phase 1 name and place of a day's artifact."""
        return self.artifact_pattern.format(**_wildcards_of(day))

    def cdf(self, day: dt.date) -> str:
        """The day's CDF."""
        return self.cdf_pattern.format(**_wildcards_of(day))

    def receipt(self, day: dt.date) -> str:
        """The receipt of the day's confirmed upload."""
        return self.receipt_pattern.format(**_wildcards_of(day))

    def local(self, path: str) -> Path:
        """A rule path (relative to ``data_dir`` unless absolute) as this process opens it."""
        return Path(os.path.normpath(os.path.join(self.data_dir, path)))

    def exists(self, path: str) -> bool:
        """Whether a rule path is a file (strings, not Paths: a plan checks thousands)."""
        return os.path.isfile(os.path.join(self.data_dir, path))

    @property
    def recheck_window(self) -> tuple[dt.date, dt.date] | None:
        """The last ``recheck_days`` days of the range (the recheck job's), or None."""
        if not self.recheck_days:
            return None
        sel = self.selection
        return max(sel.start, sel.end - (self.recheck_days - 1) * ONE_DAY), sel.end

    def download_flags(self) -> str:
        """The ``download`` flags every day shares, shell-quoted (the rule adds day and dir)."""
        extra = []
        if self.artifact_compression != "none":
            extra += ["--artifact-compression", self.artifact_compression]
        if self.window_minutes:
            extra += ["--window-minutes", f"{self.window_minutes:g}"]
        return shlex.join([*self._shared_flags(), "--data-version", self.data_version,
                           *self._udl_flags(), *extra])

    def audit_flags(self) -> str:
        """The ``audit`` flags of the recheck job: the campaign's telemetry, query and UDL
        (and the bucket in upload mode), shell-quoted."""
        flags = [*self._campaign_flags(), *self._udl_flags()]
        if self.upload_to_s3:
            flags += ["--s3-bucket", str(self.s3_bucket)]
        return shlex.join(flags + self._region_flags())

    def process_flags(self, *, upload: bool) -> str:
        """The ``process`` flags every day shares; with ``upload`` the S3 ones and receipts."""
        s3 = ["--upload-to-s3", "--s3-bucket", str(self.s3_bucket), "--receipt-dir", RECEIPT_DIR]
        quicklook = ["--quicklook"] if self.quicklook else []
        version = ["--data-version", self.data_version]
        if self.allow_downgrade:
            version.append("--allow-downgrade")
        return shlex.join(self._shared_flags() + version + quicklook + (s3 if upload else []))

    def _campaign_flags(self) -> list[str]:
        """Which telemetry and which days' query: every command of the workflow names them."""
        sel = self.selection
        return ["--telemetry-file", self.telemetry_file, "--sensor-id", sel.sensor_id,
                "--descriptor", sel.descriptor]

    def _udl_flags(self) -> list[str]:
        """Where UDL is and how often to retry it (``download`` and ``audit``)."""
        flags = ["--udl-url", self.udl_url] if self.udl_url else []
        if self.udl_max_retries:
            flags += ["--max-retries", str(self.udl_max_retries)]
        return flags

    def _region_flags(self) -> list[str]:
        return ["--aws-region", self.aws_region] if self.aws_region else []

    def _shared_flags(self) -> list[str]:
        sel = self.selection
        flags = [*self._campaign_flags(), "--output-format", sel.output_format]
        if sel.run_id:  # the workflow run's: its jobs share one streak of systemic faults
            flags += ["--run-id", sel.run_id]
        if sel.retry_failed:
            flags.append("--retry-failed")
        return flags + self._region_flags()


@dataclass(frozen=True)
class DayTarget:
    """One day of work: the resume rules' verdicts and the file the workflow asks for."""

    day: dt.date
    action: ProcessAction
    download: bool  # the artifact is missing and the download rules say fetch it
    artifact: str | None  # the input to process: on disk, or download_day's marker
    target: str  # the product, or a resume marker
    refetch: bool = False  # downloaded once, its artifact since pruned, needed again


@dataclass(frozen=True)
class WorkflowPlan:
    """Every day of the range with work to do (after ``limit_days``), in date order."""

    config: WorkflowConfig
    days: dict[dt.date, DayTarget]
    checked: int  # days the resume rules looked at
    failed_days: tuple[dt.date, ...] = ()  # left out because they are FAILED (until retry_failed)

    @property
    def failed(self) -> int:
        """How many days the plan leaves out because they are FAILED."""
        return len(self.failed_days)

    @property
    def refetch(self) -> int:
        """How many days need their artifact again: downloaded once, since pruned."""
        return sum(1 for t in self.days.values() if t.refetch)

    def targets(self) -> list[str]:
        """What ``rule all`` asks for; the telemetry file alone when nothing is left.

        The telemetry file exists whenever every day is complete or failed (those
        states are rows), so Snakemake then reports nothing to be done instead of
        running an empty ``all`` job.
        """
        return [t.target for t in self.days.values()] or [self.config.telemetry_file]

    def artifact(self, wildcards: Mapping[str, str]) -> list[str]:
        """Input function: the day's artifact when the plan processes the day, else none.

        A day that only uploads has its CDF already; naming its artifact would make
        Snakemake fetch or check input that no rule of this run reads.
        """
        target = self.days.get(_day(wildcards))
        if target is None or target.artifact is None or target.action is ProcessAction.UPLOAD_ONLY:
            return []
        return [target.artifact]

    def priority(self, stage: str) -> Callable[[Mapping[str, str]], int]:
        """A rule's priority function: earlier day first; within a day, later stage first."""
        end, rank = self.config.selection.end, STAGES.index(stage)

        def of_day(wildcards: Mapping[str, str]) -> int:
            return (end - _day(wildcards)).days * len(STAGES) + rank

        return of_day

    def summary(self) -> str:
        """One line for the operator: what the plan holds."""
        sel = self.config.selection
        span = f"{sel.start}..{sel.end}"
        window = self.config.recheck_window
        recheck = (f"; recheck: {(window[1] - window[0]).days + 1} days ({window[0]}.."
                   f"{window[1]}) counted in UDL by one job, refreshed where they changed"
                   if window else "")
        if not self.days:
            failed = (f"; {self.failed} FAILED: set retry_failed: true to re-attempt them"
                      if self.failed else "")
            return (f"swxsoc_reach: nothing to do: {span}: all {self.checked} days checked "
                    "are complete, failed or without data in UDL (retry_failed: "
                    f"{str(sel.retry_failed).lower()}){failed}{recheck}")
        counts: dict[str, int] = {}
        for target in self.days.values():
            label = f"download+{target.action}" if target.download else str(target.action)
            counts[label] = counts.get(label, 0) + 1
        detail = ", ".join(f"{n} {label}" for label, n in counts.items())
        if self.refetch:
            from swxsoc_reach.views.eta import refetch_note

            detail += "; " + refetch_note(self.refetch, sel.sensor_id)
        return f"swxsoc_reach: {span}: {len(self.days)} days to work on: {detail}{recheck}"


def _pattern_of(path_of_probe_day: str) -> str:
    for probe, wildcards in _PROBE_WILDCARDS:
        path_of_probe_day = path_of_probe_day.replace(probe, wildcards)
    return path_of_probe_day


def _wildcards_of(day: dt.date) -> dict[str, str]:
    return {"yyyy": f"{day:%Y}", "mm": f"{day:%m}", "dd": f"{day:%d}",
            "next": f"{day + ONE_DAY:%Y%m%d}"}


def _day(wildcards: Mapping[str, str]) -> dt.date:
    return dt.date(int(wildcards["yyyy"]), int(wildcards["mm"]), int(wildcards["dd"]))


def plan_workflow(config: WorkflowConfig) -> WorkflowPlan:
    """Decide every day of the range with the CLI's rules; keep the days with work."""
    sel = config.selection
    state = TelemetryStore(sel.telemetry_file).state()
    audits = AuditStore(sel.telemetry_file).latest()
    decided: dict[dt.date, DayTarget | None] = {}

    def decide(day: dt.date) -> ProcessAction:
        key = (day.isoformat(), sel.sensor_id, sel.descriptor)
        product = day_product(state, audits, day, sel.sensor_id, sel.descriptor,
                              config.data_version)
        action, target = _decide_day(config, day, product, state.get_download(*key),
                                     state.versions(*key))
        decided[day] = target
        return action

    plans = plan_days(sel, decide, lambda action: ProcessAction(action).is_work)
    check_downgrades(_process_request(config), state, plans)
    days = {day: t for day, t in decided.items() if t is not None}
    failed = tuple(p.day for p in plans if p.action is ProcessAction.SKIP_FAILED)
    return WorkflowPlan(config, days, checked=len(plans), failed_days=failed)


def _process_request(config: WorkflowConfig) -> ProcessRequest:
    """The ``process`` invocation the day jobs amount to (for the plan's version check)."""
    return ProcessRequest(config.selection, config.local(config.input_dir),
                          config.local(config.output_dir), data_version=config.data_version,
                          allow_downgrade=config.allow_downgrade)


def _decide_day(config: WorkflowConfig, day: dt.date, product: DayProduct,
                latest_download: Row | None,
                products: Mapping[str, Row]) -> tuple[ProcessAction, DayTarget | None]:
    """The day's action, and what to ask Snakemake for when it is work.

    ``product`` is what the CLI's plan decides from too (``products.day_product``): the
    version, the deciding row and the current audit findings. A day whose version is
    not the one asked (a later revision complete, or the next one to make after a
    refresh) is asked for by a resume marker, its ``process`` command choosing the
    version as the CLI does.
    """
    sel = config.selection
    revision = product.version != config.data_version
    cdf = config.cdf(day) if not revision else os.path.normpath(day_cdf_path(
        Path(config.output_dir), day, sel.sensor_id, product.version))
    on_disk = config.exists(cdf)
    latest = product.latest
    if not config.download:
        at_hand = decide_process(
            latest, product.facts(artifact_exists=True, cdf_on_disk=on_disk),
            upload=config.upload_to_s3, retry_failed=sel.retry_failed)
        if not at_hand.is_work:
            # no work even with input at hand, so none without: skip the search for the
            # artifact (a directory glob when it is missing), the slow part of a long plan
            return at_hand, None
    named = (latest_download.csv_path if latest_download is not None
             and latest_download.status is Status.DOWNLOADED else None)
    found = find_artifact(config.local(config.input_dir), day, sel.sensor_id, sel.output_format,
                          named)  # both forms on disk: the downloaded one
    fetch = decide_download(
        latest, latest_download, artifact_exists=False, retry_failed=sel.retry_failed,
        product_exists=has_product(products, config.data_version),
    ) if config.download and found is None else None
    download = fetch is not None and fetch.fetches
    # after a download the day's latest row is a Phase 1 row, which the process
    # rules read as "no process row": the day is processed from its new input
    action = decide_process(
        None if download else latest,
        product.facts(artifact_exists=download or found is not None, cdf_on_disk=on_disk),
        upload=config.upload_to_s3, retry_failed=sel.retry_failed,
    )
    if not action.is_work:
        return action, None
    state = _state_token(latest)
    if download:
        artifact: str | None = DOWNLOAD_PATTERN.format(**_wildcards_of(day), state=state)
    elif found is not None:
        artifact = os.path.join(config.input_dir, found.name)
    else:
        artifact = None
    product = config.receipt(day) if config.upload_to_s3 else cdf
    # what Snakemake would find up to date although the rules want it redone
    stale = (action is ProcessAction.UPLOAD_ONLY and config.exists(product)) or (
        action in (ProcessAction.PROCESS, ProcessAction.PROCESS_AND_UPLOAD) and on_disk)
    if action is ProcessAction.NO_INPUT or stale or download or revision:
        target = RESUME_PATTERN.format(**_wildcards_of(day), state=state)
    else:
        target = product
    return action, DayTarget(day, action, download, artifact, target,
                             refetch=fetch is DownloadAction.REDOWNLOAD)


def _state_token(latest: Row | None) -> str:
    """``STATUS-YYYYMMDDTHHMMSSffffffZ`` of the day's latest row, ``new`` without one."""
    if latest is None:
        return "new"
    moment = "".join(ch for ch in latest.started_at_utc if ch.isalnum())
    return f"{latest.status.value}-{moment or 'unknown'}"
