"""The workflow's ``data_version`` key (l1c-cdf.md "versions"): a new version builds every
day of the range again under the new name, the old files stay, and it reruns as a no-op."""

from __future__ import annotations

import cdflib


def test_workflow_new_data_version_builds_every_day_again_and_keeps_the_old(
        done_workflow) -> None:
    old = [done_workflow.cdf(day) for day in done_workflow.days]
    before = {path: path.stat().st_mtime_ns for path in old}
    result = done_workflow.run(config={"data_version": "1.1.0"})
    assert f"{len(old)} days to work on: {len(old)} process" in result.stderr
    for path in old:
        new = path.with_name(path.name.replace("_v1.0.0.cdf", "_v1.1.0.cdf"))
        assert cdflib.CDF(str(new)).globalattsget()["Data_version"] == ["1.1.0"]
        assert path.stat().st_mtime_ns == before[path]  # the 1.0.0 product stays untouched
    again = done_workflow.run(config={"data_version": "1.1.0"})
    assert "swxsoc_reach: nothing to do" in again.stderr
