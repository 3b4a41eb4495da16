"""The command that retries a failed day: what the campaign report prints beside each failure.

A failed download is retried by ``download --retry-failed`` into the directory
the other artifacts are in; a failed process (or upload) by ``process
--retry-failed`` with the input, output, bucket and product version the range
used, all read from the telemetry (``DayStatus``), so the line can be pasted.
"""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from swxsoc_reach.paths import CDF_LEVEL_DIR, DEFAULT_DATA_VERSION, cdf_data_version
from swxsoc_reach.views.status import DayStatus, StatusReport

# l1c/prelim/YYYY/MM/DD/<name>: the output dir is this many parents above a CDF
_CDF_DEPTH = len(CDF_LEVEL_DIR) + 3


@dataclass(frozen=True)
class RangePlaces:
    """Where the range's files live, as the telemetry tells (the most common place wins)."""

    telemetry_file: Path
    artifact_dir: Path
    output_dir: Path | None
    s3_bucket: str | None

    @classmethod
    def of(cls, report: StatusReport) -> RangePlaces:
        """Read the places off every day of ``report``."""
        artifacts = Counter(str(Path(d.csv_path).parent) for d in report.days if d.csv_path)
        outputs = Counter(str(Path(d.cdf_path).parents[_CDF_DEPTH - 1])
                          for d in report.days if d.cdf_path)
        buckets = Counter(d.s3_bucket for d in report.days if d.s3_bucket)
        return cls(
            telemetry_file=report.telemetry_file,
            artifact_dir=Path(artifacts.most_common(1)[0][0]) if artifacts
            else report.telemetry_file.parent,  # the default telemetry lives with the artifacts
            output_dir=Path(outputs.most_common(1)[0][0]) if outputs else None,
            s3_bucket=buckets.most_common(1)[0][0] if buckets else None,
        )


def retry_command(day: DayStatus, places: RangePlaces) -> str:
    """The shell line that retries ``day``'s failed stage with ``--retry-failed``."""
    span = ["--start-date", day.day.isoformat(), "--end-date", day.day.isoformat(),
            "--sensor-id", day.sensor_id, "--descriptor", day.descriptor]
    if ".json" in Path(day.csv_path).suffixes:  # plain or compressed (.json.zst)
        span += ["--output-format", "json"]
    shared = [*span, "--telemetry-file", str(places.telemetry_file), "--retry-failed"]
    if day.error_stage == "download":
        command = ["download", "--output-dir", str(places.artifact_dir), *shared]
    else:
        output = places.output_dir if places.output_dir is not None else Path("<output-dir>")
        command = ["process", "--input-dir", str(places.artifact_dir), "--output-dir",
                   str(output), *shared]
        version = cdf_data_version(day.cdf_path) if day.cdf_path else None
        if version and version != DEFAULT_DATA_VERSION:
            command += ["--data-version", version]
        if day.s3_bucket or places.s3_bucket:
            command += ["--upload-to-s3", "--s3-bucket", day.s3_bucket or str(places.s3_bucket)]
    return shlex.join(["python", "-m", "swxsoc_reach", *command])
