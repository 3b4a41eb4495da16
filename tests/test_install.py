"""Issue 20.4: the C page decoder is optional at install. A fresh venv with no compiler
(``CC=false``, no ``gcc`` on ``PATH``) installs the package (``pip install -e``, offline:
the test venv's packages are layered under it by a ``.pth`` line) and downloads a day
from the local UDL server on the Python path, saying so in one log line."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from swxsoc_reach.paths import artifact_name

REPO = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 1, 1)
TIMEOUT_S = 300
NOTE = "compiled page decoder (swxsoc_reach.udl._transcode) not built"


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without PYTHONPATH (the installed copy must be what runs; each
    command also runs outside the repository, whose tree ``python -m`` would find first)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, **extra}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the source tree (no built extension) installed editable into a fresh
    venv without a compiler: its python and the copy."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    shutil.copytree(REPO / "swxsoc_reach", source / "swxsoc_reach",
                    ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=TIMEOUT_S)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # a plain path line: the test venv's packages (pip, setuptools 65+, orjson, ...) without
    # running its own .pth files (its editable finder would shadow the copy)
    Path(site, "reach-test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    no_compiler = clean_env(CC="false", PATH=str(venv / "bin"))
    pip = subprocess.run([str(python), "-m", "pip", "install", "--no-deps",
                          "--no-build-isolation", "--no-index", "--disable-pip-version-check",
                          "-e", str(source)],
                         env=no_compiler, cwd=root, capture_output=True, text=True,
                         timeout=TIMEOUT_S)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return python, source


def test_install_without_a_compiler_succeeds_and_leaves_the_decoder_out(installed) -> None:
    python, source = installed
    assert not list(source.rglob("*.so"))
    where = subprocess.run([str(python), "-c", "import swxsoc_reach.udl.pages as p; "
                            "print(p.__file__, p.transcode)"],
                           env=clean_env(), cwd=source.parent, capture_output=True, text=True,
                           check=True)
    assert where.stdout.split() == [str(source / "swxsoc_reach" / "udl" / "pages.py"), "None"]


def test_download_without_the_decoder_completes_a_day_and_says_so_once(
        installed, udl_server, tmp_path: Path) -> None:
    python, _ = installed
    out = tmp_path / "raw"
    result = subprocess.run(
        [str(python), "-m", "swxsoc_reach", "download", "--start-date", DAY.isoformat(),
         "--end-date", DAY.isoformat(), "--sensor-id", "REACH-135", "--output-dir", str(out),
         "--udl-url", udl_server.url, "--initial-rate", "50", "--max-rate", "200", "-v"],
        env=clean_env(), cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    assert (out / artifact_name(DAY, "REACH-135", "csv")).stat().st_size > 0
    notes = [line for line in result.stderr.splitlines() if NOTE in line]
    assert len(notes) == 1, result.stderr
    assert "INFO" in notes[0] and "CPU" in notes[0], notes
    assert "Traceback" not in result.stderr


def test_source_tree_without_the_decoder_runs_on_the_python_path(installed) -> None:
    """A clone never built (a second checkout on a shared file system), on PYTHONPATH
    of the test venv's python: no ModuleNotFoundError, the Python path."""
    _, source = installed
    result = subprocess.run(
        [sys.executable, "-c", "import swxsoc_reach.udl.pages as p; "
         "print(p.__file__, p.transcode, p.note_decoder())"],
        env=clean_env(PYTHONPATH=str(source)), cwd=source.parent, capture_output=True,
        text=True, timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(source / "swxsoc_reach" / "udl" / "pages.py"),
                                     "None", "False"]
