"""Config validation, the day plan and wildcard constraints shared by every rule file.

The schema fills in defaults and rejects unknown keys; swxsoc_reach.targets checks
the rest and plans the days with the CLI's resume rules, before any job exists.
"""

import sys
from pathlib import Path

from snakemake.utils import validate

from swxsoc_reach import targets, workflow_run

validate(config, "../schemas/config.schema.yaml")

# One id per snakemake run, made by the main process; its jobs (SLURM ones too) get it
# through the environment. Rows, logs and benchmark files of the run carry it.
RUN_ID = workflow_run.run_id(workflow.is_main_process)


envvars:
    workflow_run.RUN_ENV,


# A relative data_dir starts from the Snakefile's directory, not the current one:
# a SLURM job step starts snakemake again inside the data dir, and the Snakefile's
# place is what every process agrees on. `workdir:` (Snakefile) takes the result.
CONFIG = targets.WorkflowConfig.from_config(
    config, base=Path(workflow.basedir), run_id=RUN_ID
)
PLAN = targets.plan_workflow(CONFIG)
# jobs call the package with this interpreter: no activated venv needed
PYTHON = sys.executable

if workflow.is_main_process:
    print(PLAN.summary(), file=sys.stderr)


wildcard_constraints:
    yyyy=r"\d{4}",
    mm=r"\d{2}",
    dd=r"\d{2}",
    next=r"\d{8}",
    state=r"[A-Za-z0-9_-]+",
