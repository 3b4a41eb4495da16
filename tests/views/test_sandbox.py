"""``python -m swxsoc_reach sandbox`` as an operator runs it: a real subprocess printing the
lines to export; the quickstart's commands (download, process --upload-to-s3, status) work
against it with only those lines; Ctrl-C (SIGINT) stops it and both of its servers with
exit 0 and no traceback, and no process outlives it."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import psutil
import pytest
from background import paste, read_until_ready
from netguard import guarded_env, write_guard

from swxsoc_reach.cli import main
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.views.sandbox import BUCKET, SENSOR_ID, SandboxOptions, running_sandbox

DAY = "2025-09-03"  # one whole REACH-135 day: what the quickstart downloads, less a day
READY_TIMEOUT_S = 120
TIMEOUT_S = 300


@dataclass
class Running:
    process: subprocess.Popen[str]
    lines: list[str]  # what it printed up to its ready line
    env: dict[str, str]  # a shell's environment after pasting those lines
    refused: Path  # the network guard's log

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "swxsoc_reach", *args], env=self.env,
                              capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Running]:
    guard = write_guard(tmp_path)
    env = guarded_env(guard, tmp_path / "refused.log")
    process = subprocess.Popen([sys.executable, "-m", "swxsoc_reach", "sandbox"], cwd=tmp_path,
                               env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        lines = read_until_ready(process, "# sandbox up", READY_TIMEOUT_S)
        yield Running(process, lines, paste(lines, env), tmp_path / "refused.log")
    finally:
        if process.poll() is None:  # a test that failed before stopping it
            for child in [*psutil.Process(process.pid).children(recursive=True), process]:
                child.kill()
        process.communicate(timeout=60)  # reaps it and closes the pipes


def test_sandbox_serves_the_quickstart_commands_and_stops_on_ctrl_c(
        sandbox: Running, tmp_path: Path) -> None:
    exported = {shlex.split(line)[1].partition("=")[0] for line in sandbox.lines
                if line.startswith("export ")}
    assert {"UDL_BASE_URL", "BASICAUTH", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"} <= exported
    assert any(BUCKET in line for line in sandbox.lines if line.startswith("#"))
    raw, cdf = tmp_path / "raw", tmp_path / "cdf"
    span = ["--start-date", DAY, "--end-date", DAY, "--sensor-id", SENSOR_ID]
    for command in (["download", *span, "--output-dir", str(raw)],
                    ["process", *span, "--input-dir", str(raw), "--output-dir", str(cdf),
                     "--upload-to-s3", "--s3-bucket", BUCKET],
                    ["status", "--telemetry-file", str(raw / "download_telemetry.csv")]):
        done = sandbox.run(*command)
        assert done.returncode == 0, done.stderr
    assert f"{DAY}  UPLOADED" in done.stdout
    state = TelemetryStore(raw / "download_telemetry.csv").state()
    row, download = (read(DAY, SENSOR_ID, "QUICKLOOK") for read in (state.get, state.get_download))
    assert row is not None and row.status is Status.UPLOADED
    assert download is not None and int(download.records_downloaded) > 30_000  # a whole day
    env = sandbox.env  # the object is in the sandbox's bucket, found with the exported lines
    s3 = boto3.session.Session().client(
        "s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    head = s3.head_object(Bucket=BUCKET, Key=row.s3_key)
    assert head["ContentLength"] == Path(row.cdf_path).stat().st_size
    assert not sandbox.refused.exists()  # nothing but loopback

    family = [psutil.Process(sandbox.process.pid),
              *psutil.Process(sandbox.process.pid).children(recursive=True)]
    assert any("moto.server" in " ".join(p.cmdline()) for p in family)
    sandbox.process.send_signal(signal.SIGINT)
    _, err = sandbox.process.communicate(timeout=60)
    assert sandbox.process.returncode == 0, err
    assert "Traceback" not in err and "sandbox stopped" in err
    _, alive = psutil.wait_procs(family, timeout=30)
    assert alive == []
    with pytest.raises(OSError):  # the UDL server's port is closed
        socket.create_connection(("127.0.0.1", int(env["UDL_BASE_URL"].rsplit(":", 1)[1])),
                                 timeout=5).close()


def test_sandbox_refuses_a_port_in_use(capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["sandbox", "--udl-port", str(port)]) == 2
    captured = capsys.readouterr()
    assert (f"swxsoc_reach: error: --udl-port {port}: cannot listen on 127.0.0.1:{port}"
            in captured.err)
    assert captured.out == ""  # nothing to paste


def port_in_time_wait() -> int:
    """A port a server just stopped using, its closed connection still in TIME_WAIT (the
    server side closed first, as a stopped server does)."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as both servers do
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = listener.accept()
            accepted.close()
            assert client.recv(1) == b""  # the server's FIN arrived
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))  # what the probe did: refused for about a minute
    return port


def test_sandbox_starts_on_fixed_ports_just_left_by_a_stopped_one() -> None:
    """Issue 19.6: restarting on fixed ports right after stopping a busy sandbox said
    "Address already in use" for about a minute: the probe bound without SO_REUSEADDR."""
    udl_port, s3_port = port_in_time_wait(), port_in_time_wait()
    with running_sandbox(SandboxOptions(udl_port=udl_port, s3_port=s3_port)) as running:
        assert running.udl.url == f"http://127.0.0.1:{udl_port}"
        assert running.exports()["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{s3_port}"
        assert running.objects() == {}  # the bucket answers


def test_sandbox_that_cannot_start_prints_one_error_line_and_nothing_to_export(
        tmp_path: Path) -> None:
    """A moto that dies at once (a broken install): exit 1, one line, an empty stdout (no
    traceback; before, a RuntimeError's)."""
    broken = tmp_path / "broken" / "moto"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("")
    (broken / "server.py").write_text("raise SystemExit(3)\n")
    env = guarded_env(write_guard(tmp_path), tmp_path / "refused.log")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(broken.parent),
                                                      env.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-m", "swxsoc_reach", "sandbox"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("swxsoc_reach: error: the sandbox did not start: moto server on "
                           "127.0.0.1 exited with 3")
    assert "nothing was printed to export" in line


def test_sandbox_without_moto_exits_2_with_what_to_install(tmp_path: Path) -> None:
    env = guarded_env(write_guard(tmp_path), tmp_path / "refused.log", hide="moto")
    done = subprocess.run([sys.executable, "-m", "swxsoc_reach", "sandbox"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr == ("swxsoc_reach: error: the sandbox's local S3 endpoint needs moto "
                           "and boto3 (the test extra): pip install -e '.[test]'\n")
    assert done.stdout == ""


@pytest.mark.parametrize(("flags", "message"), [
    (("--hold", "2025-09-05:1.5"), "hold fraction 1.5 must lie in (0, 1]"),
    (("--hold", "2025-09-05:REACH-999"), "unknown sensor id 'REACH-999'"),
    (("--reprocess", "2025-9-5"), "'2025-9-5' is not a day YYYY-MM-DD"),
])
def test_sandbox_refuses_late_data_it_cannot_read_before_starting(capsys, flags,
                                                                  message) -> None:
    assert main(["sandbox", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("swxsoc_reach: error: --hold/--reprocess: ") and message in err
