"""The README's run command, ``python -m swxsoc_reach demo``, in a subprocess: it completes,
prints paths that exist, uploads to its local S3 endpoint, and connects to nothing but
127.0.0.1 (every Python process of the run carries a socket guard that records and
refuses any other address)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import cdflib
import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.views.demo import BUCKET, MARKER, SENSOR_ID

# Loaded by every Python process of the run (PYTHONPATH): refuse and record any connection
# or name lookup that is not loopback; optionally hide packages as if not installed.
GUARD = textwrap.dedent('''
    import os, socket, sys

    _LOG = os.environ["SWXSOC_NET_GUARD_LOG"]
    _LOOPBACK = {"127.0.0.1", "localhost", "::1", b"127.0.0.1", b"localhost", None}

    def _refuse(what):
        with open(_LOG, "a") as fh:
            fh.write(f"{os.getpid()} {sys.argv[:3]} {what!r}\\n")
        raise OSError(f"network guard: {what!r} is not loopback")

    def _check(address):
        if isinstance(address, tuple) and address[0] not in _LOOPBACK:
            _refuse(address)

    _connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self, address):
        _check(address)
        return _connect(self, address)

    def connect_ex(self, address):
        _check(address)
        return _connect_ex(self, address)

    _getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host not in _LOOPBACK:
            _refuse(host)
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    socket.getaddrinfo = getaddrinfo
    for _name in filter(None, os.environ.get("SWXSOC_HIDE_MODULES", "").split(",")):
        sys.modules[_name] = None  # what a package that is not installed looks like
''')


@dataclass(frozen=True)
class DemoRun:
    code: int
    out: str
    err: str
    refused: str  # the guard's record of non-loopback attempts ("" when none)

    def paths(self) -> list[Path]:
        """Every local path the demo printed (indented lines that are not S3 URLs)."""
        return [Path(line.strip()) for line in self.out.splitlines()
                if line.startswith("  /") and " " not in line.strip()]

    def s3_urls(self) -> list[str]:
        return [line.strip() for line in self.out.splitlines()
                if line.startswith("  s3://")]


@pytest.fixture(scope="module")
def guard_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("guard")
    (directory / "sitecustomize.py").write_text(GUARD)
    return directory


def run_demo(guard_dir: Path, cwd: Path, *args: str, hide: str = "") -> DemoRun:
    log = guard_dir / f"refused-{len(list(guard_dir.iterdir()))}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "UDL_"))}
    env |= {"PYTHONPATH": os.pathsep.join(filter(None, [str(guard_dir),
                                                        env.get("PYTHONPATH", "")])),
            "SWXSOC_NET_GUARD_LOG": str(log), "SWXSOC_HIDE_MODULES": hide}
    env.pop("BASICAUTH", None)  # a newcomer has no UDL credential
    done = subprocess.run([sys.executable, "-m", "swxsoc_reach", "demo", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    return DemoRun(done.returncode, done.stdout, done.stderr,
                   log.read_text() if log.exists() else "")


@pytest.fixture(scope="module")
def first_run(guard_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    return run_demo(guard_dir, out.parent, "--output-dir", str(out), "--days", "2")


def test_network_guard_refuses_and_records_other_addresses(guard_dir: Path,
                                                           tmp_path: Path) -> None:
    """The guard the demo tests rely on does catch an outside connection."""
    log = tmp_path / "refused.log"
    env = {**os.environ, "PYTHONPATH": str(guard_dir), "SWXSOC_NET_GUARD_LOG": str(log)}
    probe = "import socket; socket.create_connection(('192.0.2.1', 443), timeout=1)"
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode != 0 and "network guard" in done.stderr
    assert "192.0.2.1" in log.read_text()


def test_demo_completes_and_every_printed_path_exists(first_run: DemoRun) -> None:
    assert first_run.code == 0, first_run.err
    paths = first_run.paths()
    assert len(paths) == 2 * 3 + 2  # 2 artifacts, 2 CDFs, 2 PNGs, telemetry, status plot
    for path in paths:
        assert path.is_file() and path.stat().st_size > 0, path
    assert sum(p.suffix == ".cdf" for p in paths) == 2
    assert sum(p.suffix == ".png" for p in paths) == 3


def test_demo_contacts_nothing_but_loopback(first_run: DemoRun) -> None:
    assert first_run.code == 0, first_run.err
    assert first_run.refused == ""


def test_demo_uploads_every_cdf_and_telemetry_agrees(first_run: DemoRun) -> None:
    assert first_run.code == 0, first_run.err
    telemetry = next(p for p in first_run.paths() if p.name == "download_telemetry.csv")
    state = TelemetryStore(telemetry).state()
    cdfs = [p for p in first_run.paths() if p.suffix == ".cdf"]
    keys = []
    for cdf in cdfs:
        day = "-".join(re.search(r"_(\d{4})(\d\d)(\d\d)T000000_", cdf.name).groups())
        row = state.get(day, SENSOR_ID, "QUICKLOOK")
        assert row is not None and row.status is Status.UPLOADED
        assert Path(row.cdf_path) == cdf.resolve()
        keys.append(f"s3://{BUCKET}/{row.s3_key}")
        assert len(cdflib.CDF(str(cdf)).varget("Epoch")) > 16_000  # a whole day, few gaps
    assert sorted(first_run.s3_urls()) == sorted(keys)


def test_demo_shows_each_command_it_runs(first_run: DemoRun) -> None:
    commands = [line for line in first_run.out.splitlines() if line.startswith("$ ")]
    assert [c.split()[4] for c in commands] == ["download", "process", "status"]
    assert "--quicklook --upload-to-s3 --s3-bucket " + BUCKET in commands[1]


def test_demo_rerun_without_the_test_extra_replaces_its_files_and_skips_s3(
        first_run: DemoRun, guard_dir: Path) -> None:
    out = first_run.paths()[0].parents[1]
    assert (out / MARKER).is_file()
    (out / "mine.txt").write_text("an operator's file\n")
    again = run_demo(guard_dir, out.parent, "--output-dir", str(out), "--days", "1",
                     hide="boto3,moto")
    assert again.code == 0, again.err
    assert again.refused == ""
    assert "S3: not run (install the test extra" in again.out and not again.s3_urls()
    for path in again.paths():
        assert path.is_file(), path
    assert len(list((out / "raw").glob("REACH-135_*.csv"))) == 1  # day 2 of the first run: gone
    assert (out / "mine.txt").read_text() == "an operator's file\n"


def test_demo_refuses_a_directory_holding_files_it_did_not_make(tmp_path: Path, capsys) -> None:
    (tmp_path / "raw").mkdir()
    assert main(["demo", "--output-dir", str(tmp_path)]) == 2
    assert (f"swxsoc_reach: error: demo output directory {tmp_path} already holds raw not made "
            "by the demo: choose another --output-dir") in capsys.readouterr().err
