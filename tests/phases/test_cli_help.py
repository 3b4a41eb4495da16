"""Issue 9.11: help that points somewhere. ``--help`` cites the project's own docs pages
(not the user's specification files, which are not in the repository), and every rate
control flag of ``download`` says what it does and its default."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RATE_FLAGS = {"--max-concurrent-requests": "4", "--initial-rate": "5.0",
              "--additive-increase": "1.0", "--multiplicative-decrease": "0.5",
              "--min-rate": "5.0", "--max-rate": "25.0"}


def help_text(command: str) -> str:
    result = subprocess.run([sys.executable, "-m", "swxsoc_reach", command, "--help"],
                            capture_output=True, text=True, check=True,
                            env={"COLUMNS": "200", "PATH": ""})
    return " ".join(result.stdout.split())  # argparse wraps lines


@pytest.mark.parametrize(("command", "page"), [("download", "docs/download.md"),
                                               ("process", "docs/process.md")])
def test_help_cites_the_projects_own_docs_page(command, page) -> None:
    text = help_text(command)
    assert "historical-" not in text
    assert f"See {page}." in text and (REPO / page).is_file()


def test_download_help_gives_each_rate_flag_a_meaning_and_its_default() -> None:
    text = help_text("download")
    for flag, default in RATE_FLAGS.items():
        match = re.search(rf"{flag} \S+ (.+?\(default {re.escape(default)}\))", text)
        assert match, flag
        assert len(match.group(1)) > len(f"(default {default})") + 10, flag  # says something


def test_docs_cite_no_file_outside_the_repository() -> None:
    pages = [REPO / "README.md", REPO / "config" / "README.md", *(REPO / "docs").glob("*.md")]
    cited = {page.name for page in pages if "historical-" in page.read_text()}
    assert cited == set()
