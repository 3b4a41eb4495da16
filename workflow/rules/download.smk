"""Phase 1 per day: UDL -> the day's artifact (only with `download: true`)."""

if CONFIG.download:

    # The output is a marker, not the artifact: UDL may hold no record of a day
    # (SKIPPED_NO_DATA, no artifact), and a declared artifact would then fail the run.
    # The day's resume_day job (process) comes after it and reads the telemetry.
    rule download_day:
        """One UTC day from UDL -> its Phase 1 artifact; jobs share one UDL rate budget."""
        output:
            marker=touch(targets.DOWNLOAD_PATTERN),
        log:
            f"logs/download/{{yyyy}}-{{mm}}-{{dd}}.{{state}}.{RUN_ID}.log",
        benchmark:
            f"logs/benchmarks/download/{{yyyy}}-{{mm}}-{{dd}}.{{state}}.{RUN_ID}.tsv"
        priority: PLAN.priority("download")
        resources:
            udl=1,
        params:
            python=PYTHON,
            day="{yyyy}-{mm}-{dd}",
            output_dir=CONFIG.input_dir,
            flags=CONFIG.download_flags(),
        shell:
            "{params.python:q} -m swxsoc_reach download --start-date {params.day} --end-date {params.day}"
            " --output-dir {params.output_dir:q} {params.flags} -v > {log:q} 2>&1"
