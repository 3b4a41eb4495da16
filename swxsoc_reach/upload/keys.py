"""The S3 key of an L1C CDF (l1c-cdf.md "Name, place, key").

The key is ``l1c/prelim/YYYY/MM/DD/<name>``, the date taken from the name: the
same relative path the CDF has under ``--output-dir``, and what
``sdc_aws_utils.aws.push_science_file`` returns for the mission
``swxsoc_pipeline``. ``paths.cdf_relpath`` owns that layout; this module only
names its use as a key, so the local tree and the bucket can never drift apart.
"""

from __future__ import annotations

from swxsoc_reach.paths import cdf_relpath


def s3_key(cdf_name: str) -> str:
    """The S3 key of the CDF named ``cdf_name`` (a bare file name, not a path).

    Raises ``ValueError`` for a name that is not an L1C CDF name.
    """
    if "/" in cdf_name:
        raise ValueError(f"{cdf_name!r} is a path; the S3 key is derived from the file name")
    return cdf_relpath(cdf_name)
