"""A network guard for subprocess tests (on sys.path through pytest's ``pythonpath``).

``write_guard(directory)`` leaves a ``sitecustomize.py`` there; every Python process
started with that directory on ``PYTHONPATH`` then refuses, and records in
``$SWXSOC_NET_GUARD_LOG``, any connection or name lookup that is not loopback, and
can hide packages (``$SWXSOC_HIDE_MODULES``) as if they were not installed. The
demo and sandbox tests run through it, so "only 127.0.0.1" covers every child
(Snakemake, its jobs, moto).
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

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


def write_guard(directory: Path) -> Path:
    """Put the guard's ``sitecustomize.py`` in ``directory``; return the directory."""
    (directory / "sitecustomize.py").write_text(GUARD)
    return directory


def guarded_env(guard_dir: Path, log: Path, *, hide: str = "") -> dict[str, str]:
    """A newcomer's environment under the guard: no UDL or AWS settings, no credential."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "UDL_")) and k not in ("BASICAUTH", "SECRET_ARN_UDL")}
    return env | {"PYTHONPATH": os.pathsep.join(filter(None, [str(guard_dir),
                                                             env.get("PYTHONPATH", "")])),
                  "SWXSOC_NET_GUARD_LOG": str(log), "SWXSOC_HIDE_MODULES": hide}
