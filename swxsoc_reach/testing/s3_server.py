"""A moto server on loopback: a real AWS endpoint for tests, benchmarks and the demo.

moto's server answers every service it emulates (S3, Secrets Manager, ...) on
one port. It runs as a subprocess (``python -m moto.server``) on 127.0.0.1 and
a free port; ``start_moto_server`` returns once it answers HTTP. Clients reach it
the way a user's would, through the environment (``MotoServer.env``): the
endpoint, dummy credentials, and every other credential source switched off, so
nothing leaves the machine (no instance metadata at 169.254.169.254, no
``~/.aws`` files).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swxsoc_reach.testing.processes import stop_process

HOST = "127.0.0.1"
REGION = "us-east-1"
# Dummy values: moto accepts any; tests grep logs and telemetry for them.
ACCESS_KEY_ID = "AKIAMOTOTESTKEY00001"
SECRET_ACCESS_KEY = "moto-test-secret-0123456789abcdefSECRET"
# Variables that would send a client elsewhere or to other credentials.
UNSET_VARS: tuple[str, ...] = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_REGION", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
)
_START_ATTEMPTS = 3  # a free port can be taken between probing and binding


@dataclass
class MotoServer:
    """A running moto server process and how to reach it."""

    port: int
    process: subprocess.Popen[bytes]
    host: str = HOST

    @property
    def url(self) -> str:
        """The endpoint URL (``AWS_ENDPOINT_URL``)."""
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment variables that point any AWS SDK at this server, and only here."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "NO_PROXY": f"{self.host},localhost",
            "no_proxy": f"{self.host},localhost",
        }

    def environ(self, base: Mapping[str, str] | None = None, **changes: str) -> dict[str, str]:
        """A whole environment for a subprocess: ``base`` (default ``os.environ``) + ``env()``."""
        environ = {k: v for k, v in (os.environ if base is None else base).items()
                   if k not in UNSET_VARS}
        return {**environ, **self.env(), **changes}

    def client(self, service: str = "s3") -> Any:
        """A boto3 client for this server, configured explicitly (not from the environment)."""
        import boto3

        return boto3.session.Session().client(
            service, endpoint_url=self.url, region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)

    def reset(self) -> None:
        """Forget every bucket, object and secret (moto's reset API)."""
        status = _request(self.host, self.port, "POST", "/moto-api/reset", timeout_s=10)
        if status != 200:
            raise RuntimeError(f"moto reset at {self.url} answered HTTP {status}")

    def stop(self) -> None:
        """Terminate the server and wait for it (killed if it does not go in 10 s)."""
        stop_process(self.process)


def free_port(host: str = HOST) -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start_moto_server(timeout_s: float = 60.0, log_path: Path | None = None,
                      port: int = 0) -> MotoServer:
    """Start a moto server on 127.0.0.1 and ``port`` (0: a free one); return once it answers.

    Its request log goes to ``log_path`` (appended), else nowhere. Its own process
    group: a Ctrl-C meant for its parent does not stop it behind the parent's back
    (the parent stops it, then knows it is gone).
    """
    last_error = ""
    for _ in range(1 if port else _START_ATTEMPTS):
        chosen = port or free_port()
        with contextlib.ExitStack() as stack:
            log = stack.enter_context(open(log_path, "ab")) if log_path else subprocess.DEVNULL
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(chosen)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, process_group=0)
        server = MotoServer(chosen, process)
        deadline = time.monotonic() + timeout_s
        while process.poll() is None and time.monotonic() < deadline:
            if _request(HOST, chosen, "GET", "/moto-api/", timeout_s=1) is not None:
                return server
            time.sleep(0.05)  # polling for the server to answer, under a deadline
        server.stop()
        last_error = (f"exited with {process.returncode}" if process.returncode is not None
                      else f"did not answer within {timeout_s} s")
    raise RuntimeError(f"moto server on {HOST} {last_error} (is moto[server] installed?)")


@contextlib.contextmanager
def running_moto_server(**kwargs: Any) -> Iterator[MotoServer]:
    """``start_moto_server`` for the duration of a ``with`` block."""
    server = start_moto_server(**kwargs)
    try:
        yield server
    finally:
        server.stop()


def _request(host: str, port: int, method: str, path: str, timeout_s: float) -> int | None:
    """The HTTP status of one request, or None when nothing answers (no proxies involved)."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        connection.request(method, path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()
