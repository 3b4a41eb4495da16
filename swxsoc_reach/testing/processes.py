"""Stopping the local server subprocesses (UDL, moto) the same way everywhere."""

from __future__ import annotations

import subprocess

STOP_TIMEOUT_S = 10


def stop_process(process: subprocess.Popen) -> None:
    """Terminate ``process`` and wait for it; kill it if it has not gone in 10 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)
