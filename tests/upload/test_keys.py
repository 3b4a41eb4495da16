"""The S3 key rule of l1c-cdf.md "Name, place, key": ``l1c/prelim/YYYY/MM/DD/<name>``,
the date from the name, the same path the CDF has under ``--output-dir``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.upload.keys import s3_key

# (name, key) written out from the rule, not computed
KEYS = [
    ("reach_all_l1c_prelim_20260101T000000_v1.0.0.cdf",
     "l1c/prelim/2026/01/01/reach_all_l1c_prelim_20260101T000000_v1.0.0.cdf"),
    ("reach_135_l1c_prelim_20260101T000000_v1.0.0.cdf",
     "l1c/prelim/2026/01/01/reach_135_l1c_prelim_20260101T000000_v1.0.0.cdf"),
    ("reach_all_l1c_prelim_20241231T235955_v1.0.0.cdf",
     "l1c/prelim/2024/12/31/reach_all_l1c_prelim_20241231T235955_v1.0.0.cdf"),
    ("reach_101_l1c_prelim_20240229T000000_v2.10.3.cdf",
     "l1c/prelim/2024/02/29/reach_101_l1c_prelim_20240229T000000_v2.10.3.cdf"),
    ("reach_all_l1c_prelim_20191001T070010_v1.0.0.cdf",
     "l1c/prelim/2019/10/01/reach_all_l1c_prelim_20191001T070010_v1.0.0.cdf"),
]


@pytest.mark.parametrize(("name", "key"), KEYS)
def test_s3_key_follows_the_spec_rule(name: str, key: str) -> None:
    assert s3_key(name) == key


@pytest.mark.parametrize(("day", "sensor"), [(dt.date(2026, 1, 1), "ALL"),
                                             (dt.date(2025, 9, 4), "REACH-135")])
def test_s3_key_mirrors_the_local_place(tmp_path: Path, day: dt.date, sensor: str) -> None:
    local = day_cdf_path(tmp_path, day, sensor)
    assert s3_key(local.name) == local.relative_to(tmp_path).as_posix()


@pytest.mark.parametrize("name", [
    "REACH-ALL_20260101T000000_20260102T000000.csv",
    "reach_all_l1c_prelim_2026-01-01_v1.0.0.cdf",
    "l1c/prelim/2026/01/01/reach_all_l1c_prelim_20260101T000000_v1.0.0.cdf",
])
def test_s3_key_rejects_what_is_not_a_cdf_name(name: str) -> None:
    with pytest.raises(ValueError, match=r"is a path|is not an L1C CDF name"):
        s3_key(name)
