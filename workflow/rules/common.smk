"""Config validation, the day plan and wildcard constraints shared by every rule file.

The schema fills in defaults and rejects unknown keys; swxsoc_reach.targets checks
the rest and plans the days with the CLI's resume rules, before any job exists.
"""

import sys
from pathlib import Path

from snakemake.utils import validate

from swxsoc_reach import targets

validate(config, "../schemas/config.schema.yaml")

# A relative data_dir starts from the Snakefile's directory, not the current one:
# a SLURM job step starts snakemake again inside the data dir, and the Snakefile's
# place is what every process agrees on. `workdir:` (Snakefile) takes the result.
CONFIG = targets.WorkflowConfig.from_config(config, base=Path(workflow.basedir))
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
