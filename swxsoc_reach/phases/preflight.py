"""Checks that stop a range instead of failing its days one by one (issue 9.4).

Before any day: the output directory exists or can be made, is a directory and
takes a file (a usage error, exit 2). Before each day: the file system holds the
space the day will need (``diskneed``: measured, with a margin; too little stops
the range; the days after it get no row). Between days: ``FaultStreak`` stops the
range once a few days in a row failed with the same systemic cause (UDL unreachable
or refusing the credential, S3 unusable, disk full, permission denied), which every
later day would hit too.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from swxsoc_reach.errors import ConfigError, RangeStoppedError, SystemicError

MIB = 1024 * 1024
# Systemic OS errors: the disk or the permissions, not the day's data.
_SYSTEMIC_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM,
                              errno.EROFS})
STREAK_LIMIT = 3  # days in a row failing the same systemic way before the range stops


def check_output_dir(path: Path, *, create: bool) -> None:
    """Refuse an output directory that is a file, cannot be made or takes no file.

    ``create`` is False for a dry run: then only a path that exists is checked.
    Writing is probed with a real temporary file (``os.access`` answers yes to root on
    a read-only mount).
    """
    if path.exists() and not path.is_dir():
        raise ConfigError(f"output directory {path} exists and is not a directory")
    if not create and not path.exists():
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path, prefix=".swxsoc_reach-probe-"):
            pass
    except OSError as exc:
        raise ConfigError(f"output directory {path} is not writable: "
                          f"{exc.strerror or exc}") from None


def check_free_space(path: Path, needed: int, what: str) -> None:
    """Stop the range unless the file system of ``path`` has ``needed`` bytes free."""
    free = shutil.disk_usage(path).free
    if free < needed:
        raise RangeStoppedError(
            f"{what}: not enough free space in {path}: {free / MIB:.1f} MiB free, "
            f"{needed / MIB:.1f} MiB needed; free some space (or point --output-dir "
            "elsewhere) and rerun the same command")


def systemic_cause(exc: BaseException) -> str | None:
    """A short name for a fault every later day would hit too, or None for the day's own.

    A ``SystemicError`` names itself by class; an OS error of the disk or of the
    permissions (``ENOSPC``, ``EACCES``, ...) by its errno, wherever it sits in the
    chain of causes (a ``CdfError`` wrapping a full disk is still a full disk).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, SystemicError):
            return type(current).__name__
        if isinstance(current, OSError) and current.errno in _SYSTEMIC_ERRNOS:
            return f"{errno.errorcode[current.errno]} ({os.strerror(current.errno)})"
        current = current.__cause__ or current.__context__
    return None


class FaultStreak:
    """Counts consecutive days that failed with one systemic cause."""

    def __init__(self, limit: int = STREAK_LIMIT) -> None:
        self._limit = limit
        self._cause: str | None = None
        self._days = 0

    def record(self, exc: BaseException | None) -> str | None:
        """Note a day's end (``exc`` when it failed); return why to stop, or None."""
        cause = None if exc is None else systemic_cause(exc)
        if cause is None:
            self._cause, self._days = None, 0
            return None
        self._days = self._days + 1 if cause == self._cause else 1
        self._cause = cause
        if self._days < self._limit:
            return None
        message = " ".join(str(exc).split())
        return (f"stopped after {self._days} days in a row failed the same way ({cause}): "
                f"{message}; the days after them were not attempted. Fix the cause, then "
                "rerun with --retry-failed")
