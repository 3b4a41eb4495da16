"""Phase 1 per day: UDL -> the day's artifact (only with `download: true`)."""

if CONFIG.download:

    # Logs are named by the day's window, like the artifact: its name ends with the
    # day after ({next}), and every file of a job must carry the same wildcards.
    rule download_day:
        """One UTC day from UDL -> its Phase 1 artifact; jobs share one UDL rate budget."""
        output:
            artifact=CONFIG.artifact_pattern,
        log:
            "logs/download/{yyyy}{mm}{dd}T000000_{next}T000000.log",
        benchmark:
            "logs/benchmarks/download/{yyyy}{mm}{dd}T000000_{next}T000000.tsv"
        priority: PLAN.priority("download")
        resources:
            udl=1,
        params:
            python=PYTHON,
            day="{yyyy}-{mm}-{dd}",
            # from the output, not CONFIG.input_dir: --lint flags a hardcoded output prefix
            output_dir=lambda wildcards, output: Path(output.artifact).parent,
            flags=CONFIG.download_flags(),
        shell:
            "{params.python:q} -m swxsoc_reach download --start-date {params.day} --end-date {params.day}"
            " --output-dir {params.output_dir:q} {params.flags} -v > {log:q} 2>&1"
