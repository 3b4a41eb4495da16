"""Shared fixtures. Every test writes only under ``tmp_path`` and talks only to 127.0.0.1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from support import point_aws_at

from swxsoc_reach.synthetic import SyntheticOptions, write_artifact
from swxsoc_reach.testing.s3_server import MotoServer, running_moto_server
from swxsoc_reach.testing.udl_server import TEST_CREDENTIAL, ServerConfig, UdlServer

# --- Phase 1 artifacts: short synthetic days --------------------------------------------

InputDirs = Callable[..., tuple[Path, Path]]


@pytest.fixture
def input_dirs(tmp_path: Path) -> InputDirs:
    """Factory: write short days of one sensor as Phase 1 artifacts; return (raw, out) dirs.

    Half an hour of REACH-135 per day: the shape of a day at a tiny fraction of its cost.
    """

    def make(days: Sequence[dt.date], sensor_id: str = "REACH-135",
             hours: float = 0.5) -> tuple[Path, Path]:
        raw, out = tmp_path / "raw", tmp_path / "cdf"
        for day in days:
            write_artifact(raw, day, SyntheticOptions(sensor_id=sensor_id), hours=hours)
        return raw, out

    return make


# --- AWS: one moto server process per test session (S3, Secrets Manager, ...) -------------


@pytest.fixture(scope="session")
def moto_server_process() -> Iterator[MotoServer]:
    """The session's moto server on 127.0.0.1 (use ``s3_server``, which also empties it)."""
    with running_moto_server() as server:
        yield server


@pytest.fixture
def s3_server(moto_server_process: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """A moto server, emptied for this test, with the environment pointing AWS SDKs at it.

    The environment is what a user would set (``AWS_ENDPOINT_URL``, dummy keys,
    ``AWS_DEFAULT_REGION``), with every other credential source switched off.
    Subprocesses get the same through ``s3_server.environ()``.
    """
    moto_server_process.reset()
    point_aws_at(monkeypatch, moto_server_process)
    return moto_server_process


# --- UDL: one local UDL server on a thread per test session -----------------------------


@pytest.fixture(scope="session")
def udl_server_session() -> Iterator[UdlServer]:
    """The session's local UDL server (use ``udl_server``, which also resets it)."""
    with UdlServer(ServerConfig(auth=TEST_CREDENTIAL)) as server:
        yield server


@pytest.fixture
def udl_server(udl_server_session: UdlServer, monkeypatch: pytest.MonkeyPatch) -> UdlServer:
    """The local UDL server serving one sensor (REACH-135), no faults, counters zeroed.

    ``BASICAUTH`` holds the server's credential; ``SECRET_ARN_UDL`` and
    ``UDL_BASE_URL`` are unset. Change behaviour with ``udl_server.configure(...)``.
    """
    udl_server_session.configure(ServerConfig(
        data=SyntheticOptions(sensor_id="REACH-135"), auth=TEST_CREDENTIAL))
    monkeypatch.setenv("BASICAUTH", TEST_CREDENTIAL)
    monkeypatch.delenv("SECRET_ARN_UDL", raising=False)
    monkeypatch.delenv("UDL_BASE_URL", raising=False)
    return udl_server_session
