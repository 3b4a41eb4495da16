"""Adapter for ``sdc_aws_utils.aws.push_science_file``, the spec's upload call.

historical-process.rst "S3 upload arguments"; l1c-cdf.md "Name, place, key".
The library was written for the SWxSOC Lambda, which shapes this adapter:

- it reads the file from ``/tmp/<name>`` (hard-coded, whatever ``TMPDIR`` says),
  so the CDF is staged there as an atomic copy and our copy is removed after;
- it derives the key from the mission configuration that swxsoc reads from
  ``SWXSOC_MISSION`` at import, so that is set to ``swxsoc_pipeline`` first;
- it makes its own client with ``boto3.client("s3")``, i.e. boto3's default
  session, so that session gets the run's region and a hook that gives ``.cdf``
  objects the CDF content type (the library passes no ``ExtraArgs``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swxsoc_reach.fsutil import atomic_path

if TYPE_CHECKING:
    import boto3

logger = logging.getLogger(__name__)

MISSION = "swxsoc_pipeline"
STAGING_DIR = Path("/tmp")  # sdc_aws_utils.aws.upload_file_to_s3 reads /tmp/<name>
_CREATING_REQUESTS = ("PutObject", "CreateMultipartUpload")


def is_available() -> bool:
    """True when ``sdc_aws_utils`` can be imported (looked up without importing it)."""
    return importlib.util.find_spec("sdc_aws_utils") is not None


def prepare_default_session(region: str | None, content_type: str) -> boto3.session.Session:
    """Set up boto3's default session (the one the library's client comes from)."""
    import boto3

    boto3.setup_default_session(region_name=region)
    session = boto3.DEFAULT_SESSION
    assert session is not None  # just set up

    def set_content_type(params: dict[str, Any], **_: Any) -> None:
        if str(params.get("Key", "")).endswith(".cdf"):
            params.setdefault("ContentType", content_type)

    for request in _CREATING_REQUESTS:
        session.events.register(f"before-parameter-build.s3.{request}", set_content_type)
    return session


class PushScienceFile:
    """Send a CDF with ``push_science_file``; return the key it reports."""

    def __init__(self, bucket: str) -> None:
        previous = os.environ.get("SWXSOC_MISSION")
        if previous != MISSION:
            logger.info("upload: SWXSOC_MISSION=%s (was %s), as sdc_aws_utils needs",
                        MISSION, previous or "unset")
            os.environ["SWXSOC_MISSION"] = MISSION  # before the library's first import
        from sdc_aws_utils.aws import push_science_file
        from sdc_aws_utils.config import parser

        self._push = push_science_file
        self._parser = parser
        self._bucket = bucket

    def __call__(self, path: Path, key: str) -> str:
        with staged_in_tmp(path) as name:
            return str(self._push(science_filename_parser=self._parser,
                                  destination_bucket=self._bucket, calibrated_filename=name))


@contextlib.contextmanager
def staged_in_tmp(path: Path) -> Iterator[str]:
    """Make ``path`` readable as ``/tmp/<name>`` for the duration; yield the name.

    The copy appears atomically (a concurrent reader never sees half of it) and is
    removed afterwards only if it is still ours. A file already at that place
    is used as it is and left alone.
    """
    path = Path(path)
    target = STAGING_DIR / path.name
    if target.exists() and target.resolve() == path.resolve():
        yield path.name
        return
    with contextlib.ExitStack() as cleanup:
        with atomic_path(target) as tmp:
            shutil.copyfile(path, tmp)
            # held open so its inode cannot be reused: "still ours" is then a safe test
            ours = os.open(tmp, os.O_RDONLY)
            cleanup.callback(os.close, ours)
        cleanup.callback(_remove_if_same, target, ours)
        logger.debug("upload: staged %s as %s", path, target)
        yield path.name


def _remove_if_same(target: Path, fd: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        if os.path.samestat(os.fstat(fd), target.stat()):
            target.unlink()
