"""Stand-in for ``sdc_aws_utils.aws.push_science_file``.

Like the real one: the mission is read from ``SWXSOC_MISSION`` when the module
is imported, the file is read from ``/tmp/<calibrated_filename>``, the client
comes from ``boto3.client("s3")`` (the default session) with no extra
arguments, and the key is ``{level}/{descriptor}/{yyyy}/{mm}/{dd}/<name>`` for
``swxsoc_pipeline`` (another mission's first data level drops the descriptor).
Each call is recorded in ``CALLS`` so tests can see what the adapter staged.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

MISSION = os.environ.get("SWXSOC_MISSION", "")
CALLS: list[dict[str, Any]] = []


def push_science_file(science_filename_parser: Callable[[str], dict[str, Any]],
                      destination_bucket: str, calibrated_filename: str,
                      dry_run: bool = False) -> str:
    """Upload ``/tmp/<calibrated_filename>``; return its key."""
    parts = science_filename_parser(calibrated_filename)
    when = parts["time"].value
    date = f"{when.year}/{when.month:02d}/{when.day:02d}"
    if MISSION == "swxsoc_pipeline":
        key = f"{parts['level']}/{parts['descriptor']}/{date}/{calibrated_filename}"
    else:
        key = f"{parts['level']}/{date}/{calibrated_filename}"
    source = Path("/tmp") / calibrated_filename
    CALLS.append({"source": source, "mission": MISSION,
                  "sha256": hashlib.sha256(source.read_bytes()).hexdigest()})
    if not dry_run:
        boto3.client("s3").upload_file(str(source), destination_bucket, key)
    return key
