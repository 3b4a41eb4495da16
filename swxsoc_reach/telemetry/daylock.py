"""Per-day locks: one process works on a (day, sensor, descriptor) at a time.

A lock is a POSIX record lock (``fcntl.lockf``) on a small file in ``.locks/``
beside the telemetry file. The operating system drops it when its process ends,
however it ends (``kill -9`` included), so a lock is never stale and there is no
unlock step; POSIX locks also work across hosts on NFS, where SLURM jobs share
the telemetry. The holder writes ``pid@host since <time>`` into the file so the
process that finds the day busy can say who works on it, and ``status`` can tell
a day being worked on now from one left pending by an interrupted run.

Caveat of POSIX locks: closing *any* descriptor of the file drops the process's
lock, so a holder never opens its own lock file again (``probe`` is for others).
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import os
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

from swxsoc_reach.days import iso_utc, utc_now

LOCK_DIR = ".locks"
_BUSY = (errno.EACCES, errno.EAGAIN)
# Linux's struct flock: l_type, l_whence (short), l_start, l_len (off_t), l_pid, padding
_FLOCK = "hhqqi4x"


def lock_path(telemetry_file: Path, day: dt.date, sensor_id: str, descriptor: str) -> Path:
    """The lock file of one day: ``<telemetry dir>/.locks/<day>_<sensor>_<descriptor>.lock``."""
    name = f"{day.isoformat()}_{sensor_id}_{descriptor}.lock"
    return Path(telemetry_file).parent / LOCK_DIR / name


@dataclass
class DayLock:
    """A held day lock; ``release`` (or the end of the process) lets it go."""

    path: Path
    _fd: int | None

    def release(self) -> None:
        """Drop the lock (closing the descriptor releases it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DayLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@dataclass(frozen=True)
class Busy:
    """The day is held by another live process."""

    holder: str  # ``pid@host since <time>``, as that process wrote it


def try_lock(path: Path) -> DayLock | Busy:
    """Take the lock at ``path`` without waiting; ``Busy`` names the holder if taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
        os.close(fd)
        if exc.errno in _BUSY:
            return Busy(holder or "another process")
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}@{socket.gethostname()} since {iso_utc(utc_now())}\n".encode(), 0)
    return DayLock(path, fd)


def probe(path: Path) -> str | None:
    """Who holds the lock at ``path`` now (its ``pid@host ...`` line), or None if no one.

    Asks with ``F_GETLK``, which takes no lock: a probe never makes a worker find the
    day busy. Not for the holder itself (see the module's caveat).
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        kind = struct.unpack(_FLOCK, fcntl.fcntl(fd, fcntl.F_GETLK, query))[0]
        if kind == fcntl.F_UNLCK:
            return None
        return os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "another process"
    finally:
        os.close(fd)
