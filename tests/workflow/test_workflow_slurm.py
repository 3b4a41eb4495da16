"""The sample range through ``profiles/slurm`` on a real single-node SLURM cluster
(Debian's slurm-wlm and munge, brought up by ``slurm_cluster.sh``): each day is a
SLURM job, and the CDFs and telemetry equal a local run's.

The SLURM executor plugin goes into a separate venv (the ``cluster`` extra): with
it installed, every snakemake call in that venv consults the SLURM tools, which
must not slow the rest of the suite. That venv sees the test venv's packages
through a ``.pth`` line, so only the extra's own packages are installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore

SCRIPT = Path(__file__).with_name("slurm_cluster.sh")
REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 900
SLURM_TOOLS = ("slurmctld", "slurmd", "munged", "sbatch")


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """slurmctld + slurmd on this machine for the module's tests, stopped afterwards."""
    if os.geteuid() != 0:
        pytest.skip("the SLURM test installs Debian packages and runs slurmctld/slurmd: "
                    "needs root")
    if not all(shutil.which(t) for t in SLURM_TOOLS) and shutil.which("apt-get") is None:
        pytest.skip("the SLURM test needs apt-get to install slurm-wlm and munge")
    state = tmp_path_factory.mktemp("slurm")
    started = subprocess.run([str(SCRIPT), "start", str(state)], capture_output=True,
                             text=True, timeout=TIMEOUT_S)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield
    finally:
        subprocess.run([str(SCRIPT), "stop", str(state)], check=True, timeout=120)


@pytest.fixture(scope="module")
def cluster_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a venv holding the ``cluster`` extra, layered on the test venv."""
    venv = tmp_path_factory.mktemp("cluster") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    base = sysconfig.get_paths()["purelib"]
    Path(site, "swxsoc-reach-test-venv.pth").write_text(
        f"import site; site.addsitedir({base!r})\n")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", f"{REPO}[cluster]"],
                   check=True, capture_output=True, timeout=TIMEOUT_S)
    return python


def test_workflow_on_slurm_gives_the_result_of_a_local_run(slurm_cluster, cluster_python,
                                                           workflow, completed_run) -> None:
    def run_on_slurm() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(cluster_python), "-m", "snakemake", "--configfile", "config/range.yaml",
             "--workflow-profile", "slurm"], cwd=workflow.root, env=workflow.env,
            capture_output=True, text=True, timeout=TIMEOUT_S)

    result = run_on_slurm()
    assert result.returncode == 0, result.stdout + result.stderr
    # every day ran as a SLURM job
    submitted = re.findall(r"has been submitted with SLURM jobid \d+ \(log: \S+/rule_process_day/"
                           r"(\d{4})_(\d{2})_(\d{2})/", result.stdout + result.stderr)
    assert sorted("-".join(day) for day in submitted) == [d.isoformat() for d in workflow.days]
    workflow.assert_same_results(completed_run.data, ordered=False)
    # the SLURM jobs wrote under the run id of the snakemake that submitted them, and
    # named their logs after it (issue 19.2, 19.4)
    (run,) = {row.run_id for row in workflow.rows()}
    assert sorted(p.name for p in (workflow.data / "logs" / "process").iterdir()) == [
        f"{day}.{run}.log" for day in workflow.days]

    # a day left FAILED (issue 19.1): nothing to do, yet the run exits 1 with the summary
    day = workflow.days[1]
    last = next(r for r in workflow.rows() if r.chunk_date_utc == day.isoformat())
    TelemetryStore(workflow.telemetry).append(last.evolve(
        status=Status.FAILED, error_type="CdfError", error_message="made to fail",
        started_at_utc="2099-01-01T00:00:00.000000Z"))
    again = run_on_slurm()
    assert again.returncode == 1, again.stdout + again.stderr
    assert "1 day FAILED (1 in an earlier run)" in again.stderr
