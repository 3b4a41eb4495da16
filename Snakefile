"""swxsoc_reach workflow: REACH artifacts -> L1C CDFs (-> S3), one job per day and stage.

    snakemake --configfile config/range.yaml       # profiles/default is found beside this file
    snakemake --configfile config/range.yaml -n    # the plan only
    snakemake --configfile config/range.yaml --workflow-profile profiles/slurm

Which days run is decided by swxsoc_reach.targets with the CLI's resume rules
(config/README.md).
"""

from snakemake.utils import min_version

min_version("9.0")


# absolute: `snakemake --report` re-reads config files after `workdir:` moved the cwd
configfile: f"{workflow.basedir}/config/config.yaml"


include: "workflow/rules/common.smk"


workdir: CONFIG.data_dir


include: "workflow/rules/download.smk"
include: "workflow/rules/process.smk"
include: "workflow/rules/upload.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/recheck.smk"
include: "workflow/rules/verdict.smk"


# Every day of the range with work left: its CDF, upload receipt or resume marker.
# (A comment, not a docstring: snakefmt 2.1 puts default_target first and then
# cannot parse a docstring after it.)
rule all:
    default_target: True
    input:
        PLAN.targets(),
        # with `report: true`, the campaign report after them (workflow/rules/report.smk)
        rules.campaign_report.output if config["report"] else [],
        # days an earlier run left FAILED: a job, so the run ends in the verdict (exit 1)
        rules.failed_days.output if PLAN.failed else [],
        # with `recheck_days`, the last days counted in UDL and refreshed (recheck.smk)
        rules.recheck.output if CONFIG.recheck_window else [],
    localrule: True
