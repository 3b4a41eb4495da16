"""The workflow files are snakefmt-clean, and ``snakemake --lint`` has only the
conda/container note for every rule (the package's own venv runs the jobs)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

CONDA_NOTE = "Specify a conda environment or container for each rule."


def test_workflow_files_are_snakefmt_clean(workflow) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow"],
        cwd=workflow.root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("config", [
    {},
    {"upload_to_s3": True, "s3_bucket": "bucket-x", "download": True},
], ids=["local", "download+upload"])
def test_workflow_lint_shows_only_the_conda_note(workflow, config) -> None:
    result = workflow.run("--lint", config=config, expect=1)  # 1: lints were found
    output = result.stdout + result.stderr
    linted = re.findall(r"Lints for rule (\w+)", output)
    expected = {"process_day", "resume_day"} | (
        {"download_day", "upload_day"} if config else set())
    assert set(linted) == expected
    assert re.findall(r"^\s+\* (.+):$", output, flags=re.M) == [CONDA_NOTE] * len(linted)
    assert "Lints for snakefile" not in output
