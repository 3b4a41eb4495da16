"""One real campaign for the coverage, summary, heat map and report tests (tests/views).

Built once per session (the ``campaign`` fixture of tests/views/conftest.py) from
real ``download`` (the local UDL server) and ``process`` (moto S3) runs over an
``ALL`` range of small days, shaped so that every day state occurs once and a
sensor disappears from the server for part of the range:

    D1, D2    REACH-135 served            complete
    D3, D4    REACH-136 served (135 gone) complete
    D5        UDL holds nothing           no data in UDL
    D6        UDL answers HTTP 400        failed (download)
    D7        downloaded, artifact lost   no input
    D8        processed, CDF deleted      product missing
    D9        download killed (SIGKILL)   interrupted
    D10       artifact made by hand (no download row), REACH-135   complete
    D11       downloaded only             awaiting next stage
    D12       complete, summary deleted   complete without a summary
    D13       no row                      not started
    D14       complete, then audited: UDL holds more          changed in UDL
    D15       complete, then audited: its S3 object is gone   out of step
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import point_aws_at

from swxsoc_reach.cdf.summary import summary_path
from swxsoc_reach.cli import main
from swxsoc_reach.days import iso_utc, iter_days, utc_now
from swxsoc_reach.paths import artifact_name, day_cdf_path
from swxsoc_reach.synthetic import SyntheticOptions, write_day
from swxsoc_reach.telemetry.audits import AuditStore, DayAudit, Finding
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore
from swxsoc_reach.testing.s3_server import MotoServer
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL, ServerConfig, UdlServer

DAYS = tuple(iter_days(dt.date(2026, 3, 1), dt.date(2026, 3, 15)))
D1, D2, D3, D4, D5, D6, D7, D8, D9, D10, D11, D12, D13, D14, D15 = DAYS
BUCKET = "campaign-test-bucket"
KEPT, GONE = "REACH-135", "REACH-136"  # KEPT leaves the server on D3..D8; GONE serves then
EXPECTED_STATES = {
    D1: "complete", D2: "complete", D3: "complete", D4: "complete", D5: "no data in UDL",
    D6: "failed", D7: "no input", D8: "product missing", D9: "interrupted", D10: "complete",
    D11: "awaiting next stage", D12: "complete", D13: "not started", D14: "changed in UDL",
    D15: "out of step",
}
_SMALL = 0.4  # gap_fraction: 60 % of each day's samples: small days, visible on the map


@dataclass(frozen=True)
class Campaign:
    """Where the campaign's files are, and the status range covering it."""

    raw: Path
    out: Path
    telemetry: Path

    def cdf(self, day: dt.date) -> Path:
        return day_cdf_path(self.out, day, "ALL")

    def range_args(self) -> list[str]:
        return ["--telemetry-file", str(self.telemetry), "--start-date", D1.isoformat(),
                "--end-date", DAYS[-1].isoformat()]


def _days(start: dt.date, end: dt.date) -> list[str]:
    return ["--start-date", start.isoformat(), "--end-date", end.isoformat()]


def _serve(server: UdlServer, sensor: str, **faults: object) -> None:
    server.configure(ServerConfig(data=SyntheticOptions(sensor_id=sensor, gap_fraction=_SMALL),
                                  auth=TEST_CREDENTIAL, **faults))  # type: ignore[arg-type]


def _kill_mid_download(server: UdlServer, raw: Path, telemetry: Path, day: dt.date) -> None:
    """Start a real download of ``day`` and SIGKILL it once its pending row is written."""
    _serve(server, GONE, latency_s=0.2)
    env = {**os.environ, "BASICAUTH": TEST_CREDENTIAL}
    child = subprocess.Popen(
        [sys.executable, "-m", "swxsoc_reach", "download", *_days(day, day), "--output-dir",
         str(raw), "--udl-url", server.url, "--max-concurrent-requests", "1", "-q"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        store = TelemetryStore(telemetry)
        while child.poll() is None:  # a condition, polled: the row appears within a second
            if any(r.chunk_date_utc == day.isoformat() and r.status is Status.DOWNLOAD_PENDING
                   for r in store.read()):
                break
        assert child.poll() is None, "the download ended before it could be interrupted"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)


def _record_audits(telemetry: Path) -> None:
    """What an audit after the runs found of D14 and D15 (``audit`` itself is tested in
    tests/phases/test_audit.py)."""
    state = TelemetryStore(telemetry).state()
    now = iso_utc(utc_now())
    held = {day: int(state.get_download(day.isoformat(), "ALL", "QUICKLOOK").records_downloaded)
            for day in (D14, D15)}
    AuditStore(telemetry).append([
        DayAudit(D14.isoformat(), "ALL", "QUICKLOOK", now, held[D14] + 100, held[D14],
                 (Finding("udl_changed", f"UDL holds {held[D14] + 100} records, the "
                          f"artifact {held[D14]}"),)),
        DayAudit(D15.isoformat(), "ALL", "QUICKLOOK", now, held[D15], held[D15],
                 (Finding("s3_missing", "the object does not exist"),)),
    ])


def build_campaign(base: Path, udl_server_session: UdlServer,
                   moto_server_process: MotoServer) -> Campaign:
    """Run the campaign of the module docstring under ``base``."""
    raw, out = base / "raw", base / "cdf"
    telemetry = raw / "download_telemetry.csv"
    moto_server_process.reset()
    moto_server_process.client().create_bucket(Bucket=BUCKET)
    url = udl_server_session.url
    download = ["download", "--output-dir", str(raw), "--udl-url", url, "-q"]
    process = ["process", "--input-dir", str(raw), "--output-dir", str(out), "-q"]
    upload = [*process, "--upload-to-s3", "--s3-bucket", BUCKET]
    with pytest.MonkeyPatch.context() as env:
        point_aws_at(env, moto_server_process)
        env.setenv("BASICAUTH", TEST_CREDENTIAL)
        _serve(udl_server_session, KEPT)
        assert main([*download, *_days(D1, D2)]) == 0
        assert main([*download, *_days(D11, D12)]) == 0
        _serve(udl_server_session, GONE, empty_days=frozenset({D5}), fail_days=((D6, 400),))
        assert main([*download, *_days(D3, D8)]) == 1  # D6 FAILED
        (raw / artifact_name(D7, "ALL", "csv")).unlink()
        write_day(raw / artifact_name(D10, "ALL", "csv"), D10,
                  SyntheticOptions(sensor_id=KEPT, gap_fraction=_SMALL), hours=6)
        # D5..D7: SKIPPED_NO_INPUT; D6 still carries its failed download (exit 1 or 0 by
        # the exit-code rules; the tests check the states, not this run's code)
        assert main([*upload, *_days(D1, D7)]) in (0, 1)
        assert main([*process, *_days(D8, D8)]) == 0
        assert main([*upload, *_days(D10, D10)]) == 0
        assert main([*upload, *_days(D12, D12)]) == 0
        _kill_mid_download(udl_server_session, raw, telemetry, D9)
        _serve(udl_server_session, KEPT)
        assert main([*download, *_days(D14, D15)]) == 0
        assert main([*upload, *_days(D14, D15)]) == 0
    _record_audits(telemetry)
    made = Campaign(raw, out, telemetry)
    made.cdf(D8).unlink()
    summary_path(made.cdf(D12)).unlink()
    return made
