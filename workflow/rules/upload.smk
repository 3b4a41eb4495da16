"""S3 per day: CDF -> confirmed object -> receipt (only with `upload_to_s3: true`)."""

if CONFIG.upload_to_s3:

    rule upload_day:
        """One UTC day's CDF -> S3; the receipt (bucket, key) appears only once the object is confirmed."""
        input:
            cdf=CONFIG.cdf_pattern,
        output:
            receipt=CONFIG.receipt_pattern,
        log:
            f"logs/upload/{{yyyy}}-{{mm}}-{{dd}}.{RUN_ID}.log",
        benchmark:
            f"logs/benchmarks/upload/{{yyyy}}-{{mm}}-{{dd}}.{RUN_ID}.tsv"
        priority: PLAN.priority("upload")
        params:
            python=PYTHON,
            day="{yyyy}-{mm}-{dd}",
            input_dir=CONFIG.input_dir,
            output_dir=CONFIG.output_dir,
            flags=CONFIG.process_flags(upload=True),
        shell:
            "{params.python:q} -m swxsoc_reach process --start-date {params.day} --end-date {params.day}"
            " --input-dir {params.input_dir:q} --output-dir {params.output_dir:q} {params.flags}"
            " -v > {log:q} 2>&1"
