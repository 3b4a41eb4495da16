"""Small helpers several test modules share (on sys.path through pytest's ``pythonpath``)."""

from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path

import pytest

from swxsoc_reach.testing.s3_server import UNSET_VARS, MotoServer


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR), read back from the file itself."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def point_aws_at(env: pytest.MonkeyPatch, server: MotoServer) -> None:
    """Point AWS SDKs at the local moto ``server``, every other credential source off."""
    for name in UNSET_VARS:
        env.delenv(name, raising=False)
    for name, value in server.env().items():
        env.setenv(name, value)


APT_LOCK = "/var/lock/swxsoc-reach-tests-apt"  # one apt-get at a time across test workers


def apt_install(*packages: str) -> None:
    """Install Debian packages (``apt-get update`` first), one apt run at a time.

    CI starts from a clean machine, so a test that needs a Debian tool installs it;
    ``flock`` keeps parallel test workers (and slurm_cluster.sh) from meeting on dpkg's lock.
    """
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"],
                    ["apt-get", "install", "-y", "--no-install-recommends", *packages]):
        subprocess.run(["flock", APT_LOCK, *command], check=True, env=env, capture_output=True)
