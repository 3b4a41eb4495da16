"""Phase 2 per day: artifact -> CDF, and days no file can stand for (resume markers)."""


rule process_day:
    """One UTC day: artifact -> L1C CDF at its final place; exit 1 leaves the day FAILED."""
    input:
        artifact=PLAN.artifact,
    output:
        cdf=CONFIG.cdf_pattern,
    log:
        f"logs/process/{{yyyy}}-{{mm}}-{{dd}}.{RUN_ID}.log",
    benchmark:
        f"logs/benchmarks/process/{{yyyy}}-{{mm}}-{{dd}}.{RUN_ID}.tsv"
    priority: PLAN.priority("process")
    params:
        python=PYTHON,
        day="{yyyy}-{mm}-{dd}",
        input_dir=CONFIG.input_dir,
        output_dir=CONFIG.output_dir,
        flags=CONFIG.process_flags(upload=False),
    shell:
        "{params.python:q} -m swxsoc_reach process --start-date {params.day} --end-date {params.day}"
        " --input-dir {params.input_dir:q} --output-dir {params.output_dir:q} {params.flags}"
        " -v > {log:q} 2>&1"


rule resume_day:
    """A day without input (recorded SKIPPED_NO_INPUT), or whose product is on disk while
    its telemetry says redo it: the day's whole `process` command, as the CLI would run it.
    """
    input:
        artifact=PLAN.artifact,
    output:
        marker=touch(targets.RESUME_PATTERN),
    log:
        f"logs/resume/{{yyyy}}-{{mm}}-{{dd}}.{{state}}.{RUN_ID}.log",
    benchmark:
        f"logs/benchmarks/resume/{{yyyy}}-{{mm}}-{{dd}}.{{state}}.{RUN_ID}.tsv"
    priority: PLAN.priority("process")
    params:
        python=PYTHON,
        day="{yyyy}-{mm}-{dd}",
        input_dir=CONFIG.input_dir,
        output_dir=CONFIG.output_dir,
        flags=CONFIG.process_flags(upload=CONFIG.upload_to_s3),
    shell:
        "{params.python:q} -m swxsoc_reach process --start-date {params.day} --end-date {params.day}"
        " --input-dir {params.input_dir:q} --output-dir {params.output_dir:q} {params.flags}"
        " -v > {log:q} 2>&1"
