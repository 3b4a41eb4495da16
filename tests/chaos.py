"""Kill a command at random instants, rerun it, and check nothing was lost or doubled
(on sys.path through pytest's ``pythonpath``; tests/test_chaos.py and the benchmark use it).

A *campaign* runs one command (download + process + upload, or the workflow) in a
fresh data directory. Each attempt is started in its own session and SIGKILLed, with
its whole process group, once the telemetry has grown by a random number of rows
and a random extra delay has passed (a seeded RNG: the same kill points each run);
then the same command is run again. After the last kill it runs to the end, and the
results must equal an uninterrupted run's: every day complete, the same CDF
contents, one S3 object per day holding the local CDF, one DOWNLOADED / PROCESSED /
UPLOADED row per day, every telemetry line whole, no temporary file left.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import random
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from swxsoc_reach.paths import day_cdf_path
from swxsoc_reach.synthetic import SyntheticOptions
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL, ServerConfig
from swxsoc_reach.upload.keys import s3_key

SENSOR = "REACH-135"
ROWS_PER_DAY = 6  # pending and outcome rows of download, process and upload

ATTEMPT_TIMEOUT_S = 300
# What a killed writer may leave, by our own naming: atomic_path's temporary files
# (also cdflib's ``.part.cdf`` inside them) and a download's spool directories.
TEMPORARY_MARKS = (".part", ".spool-")
IN_PROGRESS = {Status.DOWNLOAD_PENDING: "download", Status.PROCESS_PENDING: "process",
               Status.UPLOAD_PENDING: "upload"}


# A ``sitecustomize.py`` that SIGKILLs its Python process as it renames a temporary file
# into place under a name ending ``$SWXSOC_KILL_AT_RENAME``: a kill at the one instant a
# test needs (the temporary file complete, the final name not yet there).
_KILL_AT_RENAME = """
import os, signal
_suffix, _replace = os.environ["SWXSOC_KILL_AT_RENAME"], os.replace
def _replace_or_die(src, dst, *args, **kwargs):
    if os.fspath(dst).endswith(_suffix):
        os.kill(os.getpid(), signal.SIGKILL)
    return _replace(src, dst, *args, **kwargs)
os.replace = _replace_or_die
"""


def kill_at_rename(env: dict[str, str], directory: Path, suffix: str) -> dict[str, str]:
    """``env`` for a child that is SIGKILLed as it renames a file ending ``suffix`` into place
    (the hook lives in ``directory``)."""
    (directory / "sitecustomize.py").write_text(_KILL_AT_RENAME)
    path = os.pathsep.join(filter(None, [str(directory), env.get("PYTHONPATH", "")]))
    return env | {"PYTHONPATH": path, "SWXSOC_KILL_AT_RENAME": suffix}


def small_days() -> ServerConfig:
    """What the UDL server holds: two hours of one sensor per day, the shape of a day at a
    small part of its cost."""
    return ServerConfig(auth=TEST_CREDENTIAL, data=SyntheticOptions(
        sensor_id=SENSOR, absent=((SENSOR, 2.0, 24.0),)))


def cli_command(root: Path, days: Sequence[dt.date], udl_url: str,
                bucket: str | None) -> list[str]:
    """``download`` then ``process`` (with ``bucket``: and upload) over the range, as one
    command: the operator's two lines."""
    span = ["--start-date", days[0].isoformat(), "--end-date", days[-1].isoformat(),
            "--sensor-id", SENSOR]
    python = [sys.executable, "-m", "swxsoc_reach"]
    download = [*python, "download", *span, "--output-dir", str(root / "raw"),
                "--udl-url", udl_url]
    upload = ["--upload-to-s3", "--s3-bucket", bucket] if bucket else []
    process = [*python, "process", *span, "--input-dir", str(root / "raw"),
               "--output-dir", str(root / "cdf"), *upload]
    return ["bash", "-c", f"{shlex.join(download)} && {shlex.join(process)}"]


def day_cdfs(out: Path, days: Sequence[dt.date]) -> dict[str, Path]:
    """S3 key -> local CDF of each day under the output dir ``out``."""
    return {s3_key(day_cdf_path(out, d, SENSOR).name): day_cdf_path(out, d, SENSOR)
            for d in days}


@dataclass
class KillLog:
    """Where each kill landed: the stages it interrupted (a kill under ``--jobs 2`` may
    interrupt two days' stages at once), or "between stages"."""

    stages: collections.Counter[str] = field(default_factory=collections.Counter)
    kills: int = 0
    finished_before_kill: int = 0

    def record(self, interrupted: Sequence[str]) -> None:
        self.kills += 1
        self.stages.update(interrupted or ["between stages"])

    def describe(self) -> str:
        where = ", ".join(f"{n} in {stage}" for stage, n in sorted(self.stages.items()))
        return (f"{self.kills} kills ({where}); {self.finished_before_kill} attempts ended "
                "before their kill point")


def telemetry_rows(path: Path) -> int:
    """Lines after the header (whole rows only: every append is one whole line)."""
    try:
        return max(0, path.read_bytes().count(b"\n") - 1)
    except FileNotFoundError:
        return 0


def open_stages(path: Path, start_rows: int) -> list[str]:
    """The stages in progress: per day, a pending latest row that this attempt wrote (row
    ``start_rows`` on; a pending row a killed attempt left is not in progress)."""
    rows = TelemetryStore(path).read() if path.exists() else []
    latest: dict[str, tuple[int, Status]] = {}
    for number, row in enumerate(rows):
        latest[row.chunk_date_utc] = (number, row.status)
    return sorted(IN_PROGRESS[status] for number, status in latest.values()
                  if number >= start_rows and status in IN_PROGRESS)


@dataclass(frozen=True)
class KillPoint:
    """Kill once the telemetry grew by ``rows`` rows (and, if given, a stage opened by a
    ``status`` row is in progress), ``extra_s`` later."""

    rows: int
    extra_s: float
    status: Status | None = None

    def reached(self, telemetry: Path, start_rows: int) -> bool:
        if telemetry_rows(telemetry) < start_rows + self.rows:
            return False
        return self.status is None or IN_PROGRESS[self.status] in open_stages(telemetry,
                                                                              start_rows)


def kill_attempt(command: Sequence[str], cwd: Path, env: dict[str, str], telemetry: Path,
                 point: KillPoint, log: KillLog) -> bool:
    """Run ``command`` until ``point``, then SIGKILL its process group; False when the
    command ended first (the campaign is then complete)."""
    start_rows = telemetry_rows(telemetry)
    child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + ATTEMPT_TIMEOUT_S
    while not point.reached(telemetry, start_rows) and child.poll() is None:
        assert time.monotonic() < deadline, f"{command[:3]} stalled"
        time.sleep(0.005)  # polling a condition (the kill point), under a deadline
    try:
        child.wait(timeout=point.extra_s)  # the random instant after that row
        log.finished_before_kill += 1
        return False
    except subprocess.TimeoutExpired:
        pass
    interrupted = open_stages(telemetry, start_rows)
    os.killpg(child.pid, signal.SIGKILL)
    log.record(interrupted)
    child.wait()
    wait_group_gone(child.pid)
    return True


def wait_group_gone(pgid: int, timeout_s: float = 60) -> None:
    """Return once no process of the killed group is left (decoders, snakemake jobs)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        assert time.monotonic() < deadline, f"process group {pgid} outlived SIGKILL"
        time.sleep(0.01)  # polling a condition, under a deadline


# Kill point kinds, in turn: anywhere (a random number of new rows, then a random delay),
# then inside each stage (once the stage's pending row is written, a short random delay
# later): the stages are short next to the start-up of a command, and a kill at a
# random time alone would seldom land in an upload.
KINDS: tuple[Status | None, ...] = (Status.DOWNLOAD_PENDING, Status.PROCESS_PENDING,
                                    Status.UPLOAD_PENDING, None)
# The longest delay after a stage's pending row, as a part of the campaign's extra_max_s.
# An upload of these small CDFs to moto on loopback takes ~20 ms (its telemetry says),
# less than the polling resolves: it is killed as soon as its pending row is seen.
STAGE_DELAY_PART = {Status.DOWNLOAD_PENDING: 1 / 8, Status.PROCESS_PENDING: 1 / 8,
                    Status.UPLOAD_PENDING: 0.0}


def draw_kill_point(rng: random.Random, number: int, rows_left: int,
                    extra_max_s: float) -> KillPoint:
    """Kill point ``number`` of a campaign: its kind in turn, its instant at random."""
    status = KINDS[number % len(KINDS)]
    if status is None:
        return KillPoint(rng.randrange(max(1, rows_left)), rng.uniform(0, extra_max_s))
    # one new row at least: the pending row a killed attempt left is not this one's
    return KillPoint(1, rng.uniform(0, extra_max_s * STAGE_DELAY_PART[status]), status)


def run_campaign(command: Sequence[str], cwd: Path, env: dict[str, str], telemetry: Path,
                 rng: random.Random, kills: int, rows_per_run: int, log: KillLog,
                 extra_max_s: float = 0.4) -> subprocess.CompletedProcess[str]:
    """Up to ``kills`` killed attempts of ``command`` (fewer when one ends before its kill
    point), then one to the end (returned)."""
    for number in range(kills):
        point = draw_kill_point(rng, number, rows_per_run - telemetry_rows(telemetry),
                                extra_max_s)
        if not kill_attempt(command, cwd, env, telemetry, point, log):
            break
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=ATTEMPT_TIMEOUT_S)


def assert_settled(telemetry: Path, days: Sequence[str], dirs: Sequence[Path],
                   final: Status = Status.UPLOADED, *, once: bool = True) -> None:
    """Every day ends ``final``, each stage's outcome recorded (once, unless ``once`` is
    false); no FAILED row, no torn row, no temporary file left under ``dirs``."""
    store = TelemetryStore(telemetry)
    rows = store.read()
    assert len(rows) == telemetry_rows(telemetry), "a telemetry line is torn or damaged"
    state = store.state()
    for day in days:
        latest = state.get(day, SENSOR, "QUICKLOOK")
        assert latest is not None and latest.status is final, (day, latest)
        outcomes = collections.Counter(r.status for r in rows if r.chunk_date_utc == day)
        for status in (Status.DOWNLOADED, Status.PROCESSED, Status.UPLOADED):
            if status is Status.UPLOADED and final is not Status.UPLOADED:
                continue
            assert outcomes[status] == 1 if once else outcomes[status] >= 1, (
                day, status, outcomes)
        assert outcomes[Status.FAILED] == 0, (day, outcomes)
    left = [p for d in dirs for p in d.rglob("*")
            if any(mark in p.name for mark in TEMPORARY_MARKS)]
    assert not left, left


def assert_same_objects(s3: object, bucket: str, expected: dict[str, Path]) -> None:
    """The bucket holds exactly one object per CDF key, with the local CDF's bytes."""
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])  # type: ignore[attr-defined]
    assert sorted(o["Key"] for o in listed) == sorted(expected)
    for key, path in expected.items():
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[attr-defined]
        assert body == path.read_bytes(), key
