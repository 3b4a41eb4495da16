"""The run as a whole (swxsoc_reach.workflow_run): its stop on a systemic fault, and a
verdict that exits 1 when a day of the range is FAILED, as the CLI's exit code does."""

if PLAN.failed:

    # Snakemake runs no hook when it has nothing to do: this job makes sure a range
    # holding days an earlier run left FAILED ends in the verdict below (exit 1).
    rule failed_days:
        """Days left FAILED by an earlier run: the range's status into this run's log."""
        output:
            touch(f"logs/range/{RUN_ID}.checked"),
        log:
            f"logs/range/{RUN_ID}.log",
        benchmark:
            f"logs/benchmarks/range/{RUN_ID}.tsv"
        localrule: True
        params:
            python=PYTHON,
            telemetry=CONFIG.telemetry_file,
            start=CONFIG.selection.start.isoformat(),
            end=CONFIG.selection.end.isoformat(),
            sensor=CONFIG.selection.sensor_id,
            descriptor=CONFIG.selection.descriptor,
        shell:
            "{params.python:q} -m swxsoc_reach status --telemetry-file {params.telemetry:q}"
            " --start-date {params.start} --end-date {params.end} --sensor-id {params.sensor}"
            " --descriptor {params.descriptor} > {log:q} 2>&1"


# Main process, real runs only (not -n): watch this run's rows for a systemic streak.
onstart:
    workflow_run.StreakWatch(PLAN, RUN_ID).start()


onsuccess:
    if workflow_run.close_run(PLAN, RUN_ID, str(CONFIG.data_dir)):
        sys.exit(1)


onerror:
    workflow_run.close_run(PLAN, RUN_ID, str(CONFIG.data_dir))
