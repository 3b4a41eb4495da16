"""The campaign report (only with `report: true`): coverage map and quicklooks for `snakemake --report`."""

if config["report"]:

    rule campaign_report:
        """After every day's work: the campaign page, its coverage map and each CDF's quicklook."""
        input:
            PLAN.targets(),
        output:
            html="report/campaign.html",
            coverage=report(
                "report/coverage.png",
                caption="../report/coverage.rst",
                category="Coverage",
            ),
            quicklooks=report(
                directory("report/quicklooks"),
                patterns=["{name}.png"],
                caption="../report/quicklook.rst",
                category="Quicklooks",
            ),
        log:
            f"logs/report/campaign_report.{RUN_ID}.log",
        benchmark:
            f"logs/benchmarks/report/campaign_report.{RUN_ID}.tsv"
        localrule: True
        params:
            python=PYTHON,
            telemetry=CONFIG.telemetry_file,
            start=CONFIG.selection.start.isoformat(),
            end=CONFIG.selection.end.isoformat(),
            sensor=CONFIG.selection.sensor_id,
            descriptor=CONFIG.selection.descriptor,
        shell:
            "{params.python:q} -m swxsoc_reach report --telemetry-file {params.telemetry:q}"
            " --start-date {params.start} --end-date {params.end} --sensor-id {params.sensor}"
            " --descriptor {params.descriptor} -o {output.html:q} --figures-dir report -v > {log:q} 2>&1"
