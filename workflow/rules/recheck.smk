"""Keeping the range current (only with `recheck_days`): its last days counted in UDL and
refreshed where UDL holds them differently, after the day jobs (archive-sync.md); the job
fails while a day of the window is still out of step after it (`status --check`)."""

if CONFIG.recheck_window:

    rule recheck:
        """The last days audited in UDL; those that changed fetched again, next revision."""
        input:
            PLAN.targets(),
        output:
            touch(f"logs/recheck/{RUN_ID}.done"),
        log:
            f"logs/recheck/{RUN_ID}.log",
        benchmark:
            f"logs/benchmarks/recheck/{RUN_ID}.tsv"
        resources:
            udl=1,
        params:
            python=PYTHON,
            start=CONFIG.recheck_window[0].isoformat(),
            end=CONFIG.recheck_window[1].isoformat(),
            input_dir=CONFIG.input_dir,
            output_dir=CONFIG.output_dir,
            telemetry=CONFIG.telemetry_file,
            audit=CONFIG.audit_flags(),
            download=CONFIG.download_flags(),
            process=CONFIG.process_flags(upload=CONFIG.upload_to_s3),
        shell:
            "({params.python:q} -m swxsoc_reach audit --start-date {params.start}"
            " --end-date {params.end} {params.audit} -v"
            " && {params.python:q} -m swxsoc_reach download --refresh --start-date {params.start}"
            " --end-date {params.end} --output-dir {params.input_dir:q} {params.download} -v"
            " && {params.python:q} -m swxsoc_reach process --start-date {params.start}"
            " --end-date {params.end} --input-dir {params.input_dir:q}"
            " --output-dir {params.output_dir:q} {params.process} -v"
            " && {params.python:q} -m swxsoc_reach status --telemetry-file {params.telemetry:q}"
            " --start-date {params.start} --end-date {params.end} --check -q) > {log:q} 2>&1"
