"""`report: true` and `snakemake --report` over the bundled sample: Snakemake's own report
holds the coverage map and each day's quicklook (rule campaign_report's report() outputs)."""

from __future__ import annotations

import base64
import json
import re


def report_table(html: str, name: str) -> dict:
    """One of the ``var <name> = {...};`` tables Snakemake's report page is built from."""
    match = re.search(rf"var {name} = (\{{.*?\}});\s*</script>", html, re.S)
    assert match, f"no {name} table in the Snakemake report"
    return json.loads(match.group(1))


def test_workflow_report_holds_the_coverage_map_and_the_quicklooks(done_workflow) -> None:
    done_workflow.run(config={"report": True})
    figures = done_workflow.data / "report"
    quicklooks = {done_workflow.cdf(day).stem + ".png" for day in done_workflow.days}
    assert {p.name for p in (figures / "quicklooks").glob("*.png")} == quicklooks
    assert (figures / "campaign.html").is_file()
    again = done_workflow.run("-n", config={"report": True})  # up to date: nothing reruns
    assert "campaign_report" not in again.stdout + again.stderr.split("Job stats")[-1]

    page = done_workflow.root / "snakemake-report.html"
    done_workflow.run("--report", str(page), config={"report": True})
    html = page.read_text()
    results, categories = report_table(html, "results"), report_table(html, "categories")
    assert categories == {"Coverage": {"Other": ["report/coverage.png"]},
                          "Quicklooks": {"Other": [f"report/quicklooks/{name}"
                                                   for name in sorted(quicklooks)]}}
    assert set(results) == {"report/coverage.png",
                            *(f"report/quicklooks/{name}" for name in quicklooks)}
    for key, entry in results.items():
        encoded = entry["data_uri"].split("base64,", 1)[1]
        assert base64.b64decode(encoded) == (done_workflow.data / key).read_bytes(), key
        assert entry["mime_type"] == "image/png"
