"""``swxsoc_reach.targets``: config checks, rule patterns, and the per-day plan the
workflow asks Snakemake for, against real telemetry files and real files on disk."""

from __future__ import annotations

import datetime as dt
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from swxsoc_reach.days import iso_utc
from swxsoc_reach.errors import ConfigError
from swxsoc_reach.paths import artifact_name, day_cdf_path, upload_receipt_path
from swxsoc_reach.synthetic import SyntheticOptions, write_artifact
from swxsoc_reach.targets import (
    DOWNLOAD_PATTERN,
    RESUME_PATTERN,
    WorkflowConfig,
    WorkflowPlan,
    plan_workflow,
)
from swxsoc_reach.telemetry.audits import AuditStore, DayAudit, Finding
from swxsoc_reach.telemetry.resume import ProcessAction
from swxsoc_reach.telemetry.schema import Row, Status
from swxsoc_reach.telemetry.store import TelemetryStore

SENSOR = "REACH-135"
DAYS = [dt.date(2025, 9, 3), dt.date(2025, 9, 4), dt.date(2025, 9, 5)]
DEFAULTS: dict[str, Any] = {  # what the schema fills in
    "data_dir": ".", "input_dir": "raw", "output_dir": ".", "telemetry_file": None,
    "sensor_id": "ALL", "descriptor": "QUICKLOOK", "output_format": "csv",
    "retry_failed": False, "limit_days": None, "download": False, "udl_url": None,
    "upload_to_s3": False, "s3_bucket": None, "aws_region": None, "quicklook": False,
    "data_version": "1.0.0",
}


def make_config(tmp_path: Path, **changes: Any) -> WorkflowConfig:
    config = {**DEFAULTS, "start_date": DAYS[0].isoformat(), "end_date": DAYS[-1].isoformat(),
              "sensor_id": SENSOR, "data_dir": "data", **changes}
    return WorkflowConfig.from_config(config, base=tmp_path)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data dir whose raw/ holds an (empty) artifact for every day: planning reads no data."""
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    for day in DAYS:
        (raw / artifact_name(day, SENSOR, "csv")).touch()
    return tmp_path / "data"


def record(data: Path, day: dt.date, status: Status, minute: int, **fields: str) -> None:
    """Append one row to the data dir's default telemetry file, started at a set time."""
    started = iso_utc(dt.datetime(2026, 1, 1, 0, minute, tzinfo=dt.UTC))
    TelemetryStore(data / "raw" / "download_telemetry.csv").append(Row(
        chunk_date_utc=day.isoformat(), status=status, sensor_id=SENSOR,
        descriptor="QUICKLOOK", started_at_utc=started, **fields))


def cdf(data: Path, day: dt.date) -> Path:
    return day_cdf_path(data, day, SENSOR)


def make_cdf(data: Path, day: dt.date) -> None:
    cdf(data, day).parent.mkdir(parents=True, exist_ok=True)
    cdf(data, day).touch()


def plan(tmp_path: Path, **changes: Any) -> WorkflowPlan:
    return plan_workflow(make_config(tmp_path, **changes))


def wildcards(day: dt.date) -> dict[str, str]:
    return {"yyyy": f"{day:%Y}", "mm": f"{day:%m}", "dd": f"{day:%d}"}


# --- config -----------------------------------------------------------------------------


def test_config_resolves_paths_against_data_dir(tmp_path: Path) -> None:
    config = make_config(tmp_path, data_dir="out/wf", input_dir="../../sample/raw")
    assert config.data_dir == tmp_path / "out" / "wf"
    assert config.telemetry_file == "../../sample/raw/download_telemetry.csv"
    assert config.selection.telemetry_file == tmp_path / "sample/raw/download_telemetry.csv"
    assert config.local(config.input_dir) == tmp_path / "sample" / "raw"


@pytest.mark.parametrize(("changes", "message"), [
    ({"start_date": None}, "config start_date is not set"),
    ({"end_date": "2025-02-30"}, "config end_date '2025-02-30' is not a real date"),
    ({"start_date": "2025-09-06"}, "end date 2025-09-05 is before start date 2025-09-06"),
    ({"sensor_id": "REACH-999"}, "unknown sensor id 'REACH-999'"),
    ({"upload_to_s3": True}, "upload_to_s3 is true but s3_bucket is not set"),
    ({"s3_bucket": "bucket"}, "s3_bucket is only used with upload_to_s3: true"),
    ({"udl_url": "http://127.0.0.1:1"}, "udl_url is only used with download: true"),
    ({"data_version": "1.1"}, "data version '1.1' is not of the form X.Y.Z"),
])
def test_config_rejects_what_the_schema_cannot(tmp_path: Path, changes: dict[str, Any],
                                               message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        make_config(tmp_path, **changes)


def test_config_flags_mirror_the_cli(tmp_path: Path) -> None:
    config = make_config(tmp_path, retry_failed=True, upload_to_s3=True, s3_bucket="b-1",
                         aws_region="us-west-2", telemetry_file="my telemetry.csv",
                         quicklook=True)
    assert config.process_flags(upload=False) == (
        "--telemetry-file 'my telemetry.csv' --sensor-id REACH-135 --descriptor QUICKLOOK "
        "--output-format csv --retry-failed --aws-region us-west-2 --data-version 1.0.0 "
        "--quicklook")
    assert config.process_flags(upload=True).endswith(
        "--upload-to-s3 --s3-bucket b-1 --receipt-dir uploads")
    download = make_config(tmp_path, download=True, udl_url="http://127.0.0.1:8080")
    assert download.download_flags().endswith(
        "--output-format csv --data-version 1.0.0 --udl-url http://127.0.0.1:8080")


def test_config_flags_are_what_the_cli_parses_them_to(tmp_path: Path) -> None:
    """Every option the workflow passes on reaches ``download``, ``audit`` and ``process``
    as configured: the strings parsed by the real CLI parser."""
    from swxsoc_reach.cli import build_parser

    config = make_config(tmp_path, download=True, udl_url="http://127.0.0.1:8080",
                         udl_max_retries=7, artifact_compression="zstd", window_minutes=2.5,
                         upload_to_s3=True, s3_bucket="b-1", aws_region="us-west-2",
                         telemetry_file="my telemetry.csv", recheck_days=2)
    day = ["--start-date", "2025-09-03", "--end-date", "2025-09-03"]
    parse = build_parser().parse_args
    download = parse(["download", *day, "--output-dir", "raw",
                      *shlex.split(config.download_flags())])
    audit = parse(["audit", *day, *shlex.split(config.audit_flags())])
    process = parse(["process", *day, "--input-dir", "raw", "--output-dir", ".",
                     *shlex.split(config.process_flags(upload=True))])
    for args in (download, audit, process):
        assert (str(args.telemetry_file), args.sensor_id, args.descriptor, args.aws_region) == (
            "my telemetry.csv", SENSOR, "QUICKLOOK", "us-west-2")  # data_dir relative
    for args in (download, audit):
        assert (args.udl_url, args.max_retries) == ("http://127.0.0.1:8080", 7)
    assert (download.artifact_compression, download.window_minutes,
            download.data_version) == ("zstd", 2.5, "1.0.0")
    assert audit.s3_bucket == process.s3_bucket == "b-1"
    assert process.upload_to_s3 and str(process.receipt_dir) == "uploads"


# --- rule patterns ----------------------------------------------------------------------


@pytest.mark.parametrize("day", [dt.date(2025, 9, 3), dt.date(2024, 2, 29), dt.date(2025, 12, 31)])
@pytest.mark.parametrize("sensor", [SENSOR, "ALL"])
def test_patterns_give_the_names_paths_gives(tmp_path: Path, day: dt.date, sensor: str) -> None:
    config = make_config(tmp_path, sensor_id=sensor, output_dir="cdf", input_dir="/abs/raw")
    names = {**wildcards(day), "next": f"{day + dt.timedelta(days=1):%Y%m%d}"}
    artifact = f"/abs/raw/{artifact_name(day, sensor, 'csv')}"
    cdf_path = str(day_cdf_path(Path("cdf"), day, sensor))
    receipt = str(upload_receipt_path(Path("uploads"), Path(cdf_path).name))
    assert config.artifact_pattern.format(**names) == config.artifact(day) == artifact
    assert config.cdf_pattern.format(**names) == config.cdf(day) == cdf_path
    assert config.receipt_pattern.format(**names) == config.receipt(day) == receipt


# --- the plan ---------------------------------------------------------------------------


def test_plan_asks_for_every_cdf_of_a_new_range(tmp_path: Path, data: Path) -> None:
    result = plan(tmp_path)
    assert result.targets() == [str(cdf(data, d).relative_to(data)) for d in DAYS]
    assert {t.action for t in result.days.values()} == {ProcessAction.PROCESS}
    assert result.artifact(wildcards(DAYS[1])) == [f"raw/{artifact_name(DAYS[1], SENSOR, 'csv')}"]


def test_plan_leaves_out_complete_days_and_asks_again_for_a_vanished_cdf(
        tmp_path: Path, data: Path) -> None:
    for minute, day in enumerate(DAYS):
        record(data, day, Status.PROCESSED, minute)
        make_cdf(data, day)
    cdf(data, DAYS[1]).unlink()
    assert list(plan(tmp_path).days) == [DAYS[1]]


def test_plan_reports_nothing_to_do_and_asks_only_for_the_telemetry(
        tmp_path: Path, data: Path) -> None:
    for minute, day in enumerate(DAYS):
        record(data, day, Status.PROCESSED, minute)
        make_cdf(data, day)
    result = plan(tmp_path)
    assert result.targets() == ["raw/download_telemetry.csv"]
    assert result.summary().startswith("swxsoc_reach: nothing to do: 2025-09-03..2025-09-05")


@pytest.mark.parametrize(("retry_failed", "planned"), [(False, DAYS[1:]), (True, DAYS)])
def test_plan_leaves_out_failed_days_unless_retry_failed(
        tmp_path: Path, data: Path, retry_failed: bool, planned: list[dt.date]) -> None:
    record(data, DAYS[0], Status.PROCESS_PENDING, 0)
    record(data, DAYS[0], Status.FAILED, 0)
    assert list(plan(tmp_path, retry_failed=retry_failed).days) == planned


def test_plan_caps_days_of_work_from_the_first_day_not_complete(
        tmp_path: Path, data: Path) -> None:
    record(data, DAYS[0], Status.PROCESSED, 0)
    make_cdf(data, DAYS[0])
    result = plan(tmp_path, limit_days=1)
    assert list(result.days) == [DAYS[1]]
    assert result.checked == 2


def test_plan_hands_a_day_without_input_to_the_cli_with_a_state_marker(
        tmp_path: Path, data: Path) -> None:
    (data / "raw" / artifact_name(DAYS[2], SENSOR, "csv")).unlink()
    first = plan(tmp_path).days[DAYS[2]]
    assert first.action is ProcessAction.NO_INPUT and first.artifact is None
    assert first.target == RESUME_PATTERN.format(**wildcards(DAYS[2]), state="new")
    record(data, DAYS[2], Status.SKIPPED_NO_INPUT, 7)
    assert DAYS[2] not in plan(tmp_path).days  # recorded once: no new row while still absent
    write_artifact(data / "raw", DAYS[2], SyntheticOptions(sensor_id=SENSOR), hours=0.1)
    again = plan(tmp_path).days[DAYS[2]]  # the input appeared: processed
    assert again.action is ProcessAction.PROCESS


def test_plan_redoes_a_day_whose_cdf_is_on_disk_but_not_recorded(
        tmp_path: Path, data: Path) -> None:
    """Killed between the CDF's rename and its PROCESSED row: Snakemake would call it done."""
    record(data, DAYS[0], Status.PROCESS_PENDING, 0)
    make_cdf(data, DAYS[0])
    day = plan(tmp_path).days[DAYS[0]]
    assert day.action is ProcessAction.PROCESS
    assert day.target.startswith("logs/resume/2025-09-03.PROCESS_PENDING-")


def test_plan_in_upload_mode_asks_for_receipts_and_uploads_a_processed_day_only(
        tmp_path: Path, data: Path) -> None:
    record(data, DAYS[0], Status.UPLOADED, 0)
    record(data, DAYS[1], Status.PROCESSED, 1)
    make_cdf(data, DAYS[1])
    result = plan(tmp_path, upload_to_s3=True, s3_bucket="bucket")
    assert list(result.days) == DAYS[1:]
    assert result.days[DAYS[1]].action is ProcessAction.UPLOAD_ONLY
    assert result.days[DAYS[1]].target.startswith("uploads/l1c/prelim/2025/09/04/reach_135_")
    assert result.artifact(wildcards(DAYS[1])) == []  # its CDF exists: no input is read
    assert result.days[DAYS[2]].action is ProcessAction.PROCESS_AND_UPLOAD


def audit(data: Path, day: dt.date, minute: int, *codes: str) -> None:
    """Record an audit of ``day`` at a set time with findings ``codes``."""
    AuditStore(data / "raw" / "download_telemetry.csv").append([DayAudit(
        day.isoformat(), SENSOR, "QUICKLOOK",
        iso_utc(dt.datetime(2026, 1, 1, 0, minute, tzinfo=dt.UTC)), 0, 0,
        tuple(Finding(code, code) for code in codes))])


def test_plan_acts_on_a_current_audits_findings_as_process_does(
        tmp_path: Path, data: Path) -> None:
    """archive-sync.md "Findings": an object missing or different in S3 is uploaded again,
    a local CDF found changed (not uploaded) is made again; an audit older than the day's
    latest row says nothing any more."""
    for minute, day in enumerate(DAYS):
        record(data, day, Status.PROCESSED, minute)
        make_cdf(data, day)
        record(data, day, Status.UPLOADED, minute)
        receipt = data / upload_receipt_path(Path("uploads"), cdf(data, day).name)
        receipt.parent.mkdir(parents=True, exist_ok=True)
        receipt.touch()
    audit(data, DAYS[0], 10, "s3_missing")
    audit(data, DAYS[1], 10, "s3_different")
    audit(data, DAYS[2], 1, "s3_missing")  # before the day's UPLOADED row (minute 2): stale
    uploads = plan(tmp_path, upload_to_s3=True, s3_bucket="bucket")
    assert {d: t.action for d, t in uploads.days.items()} == {
        DAYS[0]: ProcessAction.UPLOAD_ONLY, DAYS[1]: ProcessAction.UPLOAD_ONLY}
    # its receipt is there, so Snakemake is asked for a resume marker
    assert uploads.days[DAYS[0]].target.startswith("logs/resume/2025-09-03.UPLOADED-")
    assert not plan(tmp_path).days  # local-only: nothing to send

    record(data, DAYS[2], Status.PROCESSED, 20)
    audit(data, DAYS[2], 30, "cdf_changed")
    changed = plan(tmp_path).days[DAYS[2]]
    assert changed.action is ProcessAction.PROCESS
    assert changed.target.startswith("logs/resume/2025-09-05.PROCESSED-")  # its CDF is there


def test_plan_redoes_every_day_for_a_new_data_version_and_none_for_the_same(
        tmp_path: Path, data: Path) -> None:
    for minute, day in enumerate(DAYS):  # all of 1.0.0 processed and uploaded
        make_cdf(data, day)
        record(data, day, Status.UPLOADED, minute, cdf_path=str(cdf(data, day)))
    upload = {"upload_to_s3": True, "s3_bucket": "bucket"}
    assert plan(tmp_path, **upload).days == {}
    bumped = plan(tmp_path, data_version="1.1.0", **upload)
    assert list(bumped.days) == DAYS
    assert {t.action for t in bumped.days.values()} == {ProcessAction.PROCESS_AND_UPLOAD}
    assert bumped.targets() == [str(upload_receipt_path(
        Path("uploads"), day_cdf_path(Path(), d, SENSOR, "1.1.0").name)) for d in DAYS]
    assert "--data-version 1.1.0" in bumped.config.process_flags(upload=True)
    assert bumped.config.cdf(DAYS[0]).endswith("_v1.1.0.cdf")


def test_plan_downloads_a_missing_artifact_only_when_the_download_rules_say_so(
        tmp_path: Path, data: Path) -> None:
    for day in DAYS[1:]:
        (data / "raw" / artifact_name(day, SENSOR, "csv")).unlink()
    record(data, DAYS[2], Status.SKIPPED_NO_DATA, 0)
    result = plan(tmp_path, download=True)
    fetched = result.days[DAYS[1]]
    # UDL may hold nothing for it: asked for by markers, never by an artifact or CDF
    assert fetched.download
    assert fetched.artifact == DOWNLOAD_PATTERN.format(**wildcards(DAYS[1]), state="new")
    assert fetched.target == RESUME_PATTERN.format(**wildcards(DAYS[1]), state="new")
    assert result.artifact(wildcards(DAYS[1])) == [fetched.artifact]
    assert DAYS[2] not in result.days  # no data in UDL: terminal, as for download


def test_plan_leaves_a_failed_download_out_until_retry_failed(tmp_path: Path, data: Path) -> None:
    (data / "raw" / artifact_name(DAYS[1], SENSOR, "csv")).unlink()
    record(data, DAYS[1], Status.DOWNLOAD_PENDING, 0)
    record(data, DAYS[1], Status.FAILED, 1)
    for download in (False, True):
        result = plan(tmp_path, download=download)
        assert DAYS[1] not in result.days and result.failed == 1
    retried = plan(tmp_path, download=True, retry_failed=True).days[DAYS[1]]
    assert retried.download and retried.action is ProcessAction.PROCESS


def test_plan_priorities_keep_days_in_date_order(tmp_path: Path, data: Path) -> None:
    result = plan(tmp_path)
    process, upload = result.priority("process"), result.priority("upload")
    assert process(wildcards(DAYS[0])) > process(wildcards(DAYS[1])) > process(wildcards(DAYS[2]))
    assert upload(wildcards(DAYS[1])) > process(wildcards(DAYS[1]))
    assert process(wildcards(DAYS[1])) > upload(wildcards(DAYS[2]))


def test_targets_imports_nothing_heavy() -> None:
    """Every Snakemake job (and SLURM job) imports it while parsing the workflow."""
    code = ("import sys, swxsoc_reach.targets; heavy = {'pandas', 'numpy', 'cdflib', 'boto3', "
            "'pyarrow', 'tqdm', 'snakemake'}; print(sorted(heavy & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
