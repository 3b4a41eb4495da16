"""The UDL credential never appears in any output, log, telemetry row or artifact, even
at -vv, through retries, failures and the Secrets Manager path (historical-download.md
"Credentials")."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL

DAYS = ("2026-01-01", "2026-01-02")
WRONG = "Basic d3JvbmctdXNlcjp3cm9uZy1wYXNzd29yZC05ODc2"


def secrets(value: str) -> list[bytes]:
    """The whole header value and its token, as they could leak."""
    return [value.encode(), value.split(" ", 1)[1].encode()]


def every_file(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


def command(server, out: Path) -> list[str]:
    return ["download", "--start-date", DAYS[0], "--end-date", DAYS[1], "--sensor-id",
            "REACH-135", "--output-dir", str(out), "--udl-url", server.url, "-vv",
            "--initial-rate", "50", "--max-rate", "200"]


def test_download_never_shows_the_credential_in_process(udl_server, s3_server, tmp_path,
                                                        monkeypatch, capsys) -> None:
    """Secrets Manager path, retried faults (DEBUG lines) and a failed day, at -vv."""
    arn = s3_server.client("secretsmanager").create_secret(
        Name="udl/reach", SecretString=json.dumps({"basicauth": TEST_CREDENTIAL}))["ARN"]
    monkeypatch.delenv("BASICAUTH")
    monkeypatch.setenv("SECRET_ARN_UDL", arn)
    udl_server.configure(cap=5000, fault_seed=4, error_rate=0.1, drop_rate=0.1,
                         truncate_rate=0.1, fail_days=((dt.date(2026, 1, 2), 403),))
    assert main(command(udl_server, tmp_path)) == 1
    captured = capsys.readouterr()
    assert "retry" in captured.err and "FAILED" in captured.err  # the paths ran
    assert os.environ["BASICAUTH"] == TEST_CREDENTIAL  # exported, as the spec says
    seen = captured.out.encode() + captured.err.encode() + every_file(tmp_path)
    for secret in secrets(TEST_CREDENTIAL):
        assert secret not in seen


@pytest.mark.parametrize("credential", [TEST_CREDENTIAL, WRONG], ids=["right", "wrong"])
def test_download_never_shows_the_credential_in_a_process(udl_server, tmp_path,
                                                          credential) -> None:
    """A real process at -vv: whatever any library prints goes to its stderr."""
    env = {**os.environ, "BASICAUTH": credential}
    env.pop("SECRET_ARN_UDL", None)
    done = subprocess.run([sys.executable, "-m", "swxsoc_reach", *command(udl_server, tmp_path)],
                          capture_output=True, env=env, timeout=300)
    assert done.returncode == (0 if credential == TEST_CREDENTIAL else 1), done.stderr
    seen = done.stdout + done.stderr + every_file(tmp_path)
    for secret in secrets(credential):
        assert secret not in seen
