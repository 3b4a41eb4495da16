"""A failed or killed write never leaves a half CDF under the final name (l1c-cdf.md
"Name, place, key": temporary name first, renamed when complete)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from swxsoc_reach.cdf import process_file
from swxsoc_reach.errors import CdfError
from swxsoc_reach.synthetic import SyntheticOptions

ONE_SENSOR = SyntheticOptions(sensor_id="REACH-135")
# Runs process_file with cdflib's write_var failing after 3 variables, in the way argv[3] says.
CRASHING_RUN = textwrap.dedent("""
    import datetime as dt, os, signal, sys
    import cdflib.cdfwrite
    from swxsoc_reach.cdf import process_file

    real = cdflib.cdfwrite.CDF.write_var
    calls = []

    def write_var(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 3:
            if sys.argv[3] == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)

    cdflib.cdfwrite.CDF.write_var = write_var
    process_file(sys.argv[1], sys.argv[2], day=dt.date(2026, 1, 1))
""")


def run_crashing(artifact: Path, out: Path, how: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CRASHING_RUN, str(artifact), str(out), how],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def first_product(make_artifact, tmp_path) -> tuple[Path, Path, Path]:
    """An artifact, the output dir and the complete CDF written there from it."""
    artifact = make_artifact(ONE_SENSOR, minutes=2)
    out = tmp_path / "out"
    (cdf,) = process_file(artifact.path, out, day=artifact.day)
    return artifact.path, out, cdf


def test_write_cdf_raises_cdf_error_and_leaves_no_file(make_artifact, tmp_path,
                                                       monkeypatch) -> None:
    import cdflib.cdfwrite

    artifact = make_artifact(ONE_SENSOR, minutes=2)
    real = cdflib.cdfwrite.CDF.write_var
    calls = []

    def failing_write_var(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 3:
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cdflib.cdfwrite.CDF, "write_var", failing_write_var)
    out = tmp_path / "out"
    with pytest.raises(CdfError, match="No space left on device") as caught:
        process_file(artifact.path, out, day=artifact.day)
    final = out / "l1c/prelim/2026/01/01/reach_135_l1c_prelim_20260101T000000_v1.0.0.cdf"
    assert str(final) in str(caught.value)
    assert not final.exists()
    assert [p for p in out.rglob("*") if p.is_file()] == []  # temporary files cleaned up


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_write_cdf_keeps_previous_complete_file_when_rewrite_dies(first_product, how) -> None:
    artifact, out, cdf = first_product
    before = cdf.read_bytes()
    result = run_crashing(artifact, out, how)
    if how == "kill":
        assert result.returncode == -signal.SIGKILL
    else:
        assert result.returncode == 1 and "CdfError" in result.stderr
    assert cdf.read_bytes() == before  # the final name still holds the complete old file


def test_write_cdf_leaves_no_final_name_when_killed_mid_write(make_artifact, tmp_path) -> None:
    artifact = make_artifact(ONE_SENSOR, minutes=2)
    out = tmp_path / "out"
    result = run_crashing(artifact.path, out, "kill")
    assert result.returncode == -signal.SIGKILL
    assert all(p.name.startswith(".") for p in out.rglob("*.cdf"))  # only temporary names
    assert not any(p.name.startswith("reach_") for p in out.rglob("*"))
