"""The README's first command, ``python -m swxsoc_reach demo``, as written (less the install
step), in a copy of the clone: the workflow of config/demo.yaml leaves the CDFs, quicklooks,
S3 objects, receipts and telemetry of a plain CLI run of the same days; a second run does
nothing; only 127.0.0.1 is contacted (every Python process of the run, Snakemake's jobs
included, carries a socket guard that records and refuses any other address)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from netguard import guarded_env, write_guard
from results import assert_same_cdf, comparable
from support import png_size

from swxsoc_reach.cli import main
from swxsoc_reach.days import iter_days
from swxsoc_reach.paths import day_cdf_path, quicklook_path
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.clone import copy_workflow_files
from swxsoc_reach.testing.s3_server import MotoServer
from swxsoc_reach.testing.udl_server import UdlServer
from swxsoc_reach.views import demo
from swxsoc_reach.views.sandbox import CREDENTIAL, SandboxOptions, udl_config

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ("venv", "pip")  # words of the install step the CI has just done
TIMEOUT_S = 600


def readme_command() -> list[str]:
    """The README's first command as written, less its install step, with our interpreter."""
    text = (ROOT / "README.md").read_text()
    block = text.split("```shell\n", 1)[1].split("```", 1)[0]
    steps = [shlex.split(step) for step in block.strip().split("&&")]
    (run,) = [words for words in steps if not {Path(w).name for w in words} & set(INSTALL)]
    assert run[0] == ".venv/bin/python", run
    return [sys.executable, *run[1:]]


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

    def s3_objects(self) -> dict[str, int]:
        """The S3 objects the demo listed: URL -> bytes."""
        found = {}
        for line in self.out.splitlines():
            if line.startswith("  s3://"):
                url, size = line.split(maxsplit=1)
                found[url] = int(size.strip("()").removesuffix(" bytes").replace(",", ""))
        return found


@pytest.fixture(scope="module")
def guard_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_guard(tmp_path_factory.mktemp("guard"))


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a clone holds for the demo, where the README's command is run."""
    return copy_workflow_files(ROOT, tmp_path_factory.mktemp("clone"))


def run_readme_command(guard_dir: Path, cwd: Path, *args: str, hide: str = "") -> DemoRun:
    log = guard_dir / f"refused-{len(list(guard_dir.iterdir()))}.log"
    done = subprocess.run([*readme_command(), *args], cwd=cwd,
                          env=guarded_env(guard_dir, log, hide=hide), capture_output=True,
                          text=True, timeout=TIMEOUT_S, check=False)
    return DemoRun(done.returncode, done.stdout, done.stderr,
                   log.read_text() if log.exists() else "")


@pytest.fixture(scope="module")
def first_run(guard_dir: Path, clone: Path) -> DemoRun:
    return run_readme_command(guard_dir, clone)


@pytest.fixture(scope="module")
def second_run(first_run: DemoRun, guard_dir: Path, clone: Path) -> tuple[DemoRun, dict]:
    """The same command again, and the data directory's files (mtimes) before it ran."""
    assert first_run.code == 0, first_run.err
    before = files(demo.load_config(clone).data_dir)
    return run_readme_command(guard_dir, clone), before


def files(directory: Path) -> dict[str, int]:
    """Every file the workflow left (not Snakemake's bookkeeping), with its mtime; the views
    (status plot, report) are drawn again on each run."""
    views = {demo.STATUS_PLOT, demo.REPORT}
    return {str(p.relative_to(directory)): p.stat().st_mtime_ns for p in directory.rglob("*")
            if p.is_file() and ".snakemake" not in p.parts and p.name not in views}


@pytest.fixture(scope="module")
def cli_run(clone: Path, udl_server_session: UdlServer, moto_server_process: MotoServer,
            tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """download, then process --quicklook --upload-to-s3, of config/demo.yaml's days against
    the sandbox's UDL data: the output dir and the bucket's objects (URL -> bytes)."""
    config = demo.load_config(clone)
    sel = config.selection
    udl_server_session.configure(udl_config(SandboxOptions()))
    moto_server_process.reset()
    moto_server_process.client().create_bucket(Bucket=config.s3_bucket)
    out = tmp_path_factory.mktemp("cli")
    env = moto_server_process.environ(BASICAUTH=CREDENTIAL)
    days = ["--start-date", sel.start.isoformat(), "--end-date", sel.end.isoformat(),
            "--sensor-id", sel.sensor_id]
    for command in (["download", "--output-dir", str(out), "--udl-url", udl_server_session.url],
                    ["process", "--input-dir", str(out), "--output-dir", str(out), "--quicklook",
                     "--upload-to-s3", "--s3-bucket", str(config.s3_bucket)]):
        subprocess.run([sys.executable, "-m", "swxsoc_reach", *command, *days], env=env,
                       check=True, capture_output=True, timeout=TIMEOUT_S)
    listing = moto_server_process.client().list_objects_v2(Bucket=config.s3_bucket)
    objects = {f"s3://{config.s3_bucket}/{o['Key']}": o["Size"] for o in listing["Contents"]}
    return out, objects


def test_network_guard_refuses_and_records_other_addresses(guard_dir: Path,
                                                           tmp_path: Path) -> None:
    """The guard the demo tests rely on does catch an outside connection."""
    log = tmp_path / "refused.log"
    probe = "import socket; socket.create_connection(('192.0.2.1', 443), timeout=1)"
    done = subprocess.run([sys.executable, "-c", probe], env=guarded_env(guard_dir, log),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0 and "network guard" in done.stderr
    assert "192.0.2.1" in log.read_text()


def test_readme_first_command_installs_then_runs_the_demo() -> None:
    """The install step is what CI does; what is left is one demo command."""
    assert readme_command()[1:] == ["-m", "swxsoc_reach", "demo"]


def test_demo_runs_the_workflow_and_contacts_nothing_but_loopback(first_run: DemoRun) -> None:
    assert first_run.code == 0, first_run.err
    assert first_run.refused == ""
    shown = [line for line in first_run.out.splitlines() if line.startswith("$ ")]
    assert shown[0] == "$ snakemake --configfile config/demo.yaml"
    assert [c.split()[4] for c in shown[1:]] == ["status", "report"]
    assert "Demo complete" in first_run.out
    for path in first_run.paths():
        assert path.exists(), path
    (page,) = [p for p in first_run.paths() if p.suffix == ".html"]
    assert page.read_text().lstrip().lower().startswith("<!doctype html")


def test_demo_next_hint_runs_as_printed_without_an_activated_venv(first_run: DemoRun) -> None:
    """Issue 19.6: the hint said a bare ``python``, which only an activated venv finds."""
    assert first_run.code == 0, first_run.err
    hint = first_run.out.split("\nNext:\n", 1)[1].splitlines()[0].strip()
    assert hint.startswith(f"{shlex.quote(sys.executable)} -m swxsoc_reach status ")
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env["PATH"] = "/usr/bin:/bin"  # a fresh shell: no venv on the PATH
    done = subprocess.run(hint, shell=True, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stderr
    assert "days (" in done.stdout  # the status summary


def test_demo_leaves_what_the_cli_leaves_for_the_same_days(
        first_run: DemoRun, clone: Path, cli_run: tuple[Path, dict[str, int]]) -> None:
    assert first_run.code == 0, first_run.err
    config = demo.load_config(clone)
    sel = config.selection
    out, cli_objects = cli_run
    days = list(iter_days(sel.start, sel.end))
    cdfs = [p for p in first_run.paths() if p.suffix == ".cdf"]
    assert cdfs == [config.local(config.cdf(day)) for day in days]
    for day, cdf in zip(days, cdfs, strict=True):
        assert_same_cdf(cdf, day_cdf_path(out, day, sel.sensor_id))
        width, height = png_size(quicklook_path(cdf))
        assert width > 300 and height > 200
        assert quicklook_path(cdf) in first_run.paths()
    for archive in (cdfs[0].parents[4], out / "l1c"):  # the demo's and the CLI's: only CDFs
        assert {p.suffix for p in archive.rglob("*") if p.is_file()} == {".cdf"}, archive
    ours = TelemetryStore(sel.telemetry_file).read()
    theirs = TelemetryStore(out / "download_telemetry.csv").read()
    assert sorted(comparable(ours)) == sorted(comparable(theirs))  # the workflow goes day by day
    assert first_run.s3_objects() == cli_objects
    for cdf in cdfs:
        row = TelemetryStore(sel.telemetry_file).state().get(
            day_of(cdf).isoformat(), sel.sensor_id, sel.descriptor)
        assert row is not None and row.status is Status.UPLOADED
        assert first_run.s3_objects()[f"s3://{row.s3_bucket}/{row.s3_key}"] == cdf.stat().st_size
        receipt = config.local(config.receipt(day_of(cdf)))
        assert json.loads(receipt.read_text()) == {"bucket": row.s3_bucket, "key": row.s3_key}


def day_of(cdf: Path) -> dt.date:
    return dt.datetime.strptime(cdf.name.split("_")[4][:8], "%Y%m%d").date()


def test_demo_second_run_does_nothing_and_keeps_the_telemetry(
        second_run: tuple[DemoRun, dict], clone: Path) -> None:
    again, before = second_run
    assert again.code == 0, again.err
    assert again.refused == ""
    assert "swxsoc_reach: nothing to do:" in again.err  # the workflow's own plan line
    assert "Nothing to do: every day of config/demo.yaml" in again.out
    assert files(demo.load_config(clone).data_dir) == before  # no file written or touched


def test_demo_without_moto_exits_2_before_touching_anything(guard_dir: Path,
                                                            tmp_path: Path) -> None:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    run = run_readme_command(guard_dir, tmp_path, hide="moto")
    assert run.code == 2, run.err
    assert ("swxsoc_reach: error: the sandbox's local S3 endpoint needs moto and boto3 (the test "
            "extra): pip install -e '.[test]'") in run.err
    assert "Traceback" not in run.err
    assert not (tmp_path / "demo-output").exists()


def test_demo_refuses_a_data_directory_holding_files_it_did_not_make(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    data = demo.load_config(tmp_path).data_dir
    data.mkdir(parents=True)
    (data / "mine.txt").write_text("an operator's file\n")
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--fresh"]) == 2
    assert (f"swxsoc_reach: error: demo data directory {data} already holds files not made by "
            "the demo: change data_dir in config/demo.yaml or move them"
            ) in capsys.readouterr().err
    assert (data / "mine.txt").read_text() == "an operator's file\n"


def test_demo_fresh_empties_only_the_directory_it_marked(tmp_path: Path) -> None:
    data = tmp_path / "demo-output" / "demo"
    demo._claim(data, fresh=False)  # a new directory: marked as the demo's
    (data / "raw").mkdir()
    (data / "raw" / "download_telemetry.csv").write_text("kept without --fresh\n")
    demo._claim(data, fresh=False)
    assert (data / "raw" / "download_telemetry.csv").is_file()
    demo._claim(data, fresh=True)
    assert sorted(p.name for p in data.iterdir()) == [demo.MARKER]


def test_demo_ctrl_c_stops_the_workflow_and_both_servers_cleanly(guard_dir: Path,
                                                                 tmp_path: Path) -> None:
    """Ctrl-C as a terminal sends it (the whole foreground group) while a job runs."""
    clone = copy_workflow_files(ROOT, tmp_path / "clone")
    telemetry = demo.load_config(clone).selection.telemetry_file
    env = guarded_env(guard_dir, tmp_path / "refused.log")
    with subprocess.Popen(readme_command(), cwd=clone, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          process_group=0) as process:
        deadline = time.monotonic() + TIMEOUT_S
        while not (telemetry.is_file() and "DOWNLOAD_PENDING" in telemetry.read_text()):
            assert process.poll() is None and time.monotonic() < deadline, "no job started"
            time.sleep(0.1)  # polling for the first job's first row, under a deadline
        family = [psutil.Process(process.pid),
                  *psutil.Process(process.pid).children(recursive=True)]
        assert any("snakemake" in " ".join(p.cmdline()) for p in family)
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 130, err
    assert "swxsoc_reach: interrupted; rerun the same command to resume" in err
    assert "Traceback" not in err
    _, alive = psutil.wait_procs(family, timeout=30)
    assert alive == []
    assert not (tmp_path / "refused.log").exists()
