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
import functools
import os
import shutil
import tempfile
from pathlib import Path

from swxsoc_reach.errors import ConfigError, RangeStoppedError, SystemicError
from swxsoc_reach.telemetry.schema import PENDING_STAGE, Row, Status

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
    permissions (``ENOSPC``, ``EACCES``, ...) by its errno symbol, wherever it sits in
    the chain of causes (a ``CdfError`` wrapping a full disk is still a full disk).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, SystemicError):
            return type(current).__name__
        if isinstance(current, OSError) and current.errno in _SYSTEMIC_ERRNOS:
            return errno.errorcode[current.errno]
        current = current.__cause__ or current.__context__
    return None


def error_type_of(exc: BaseException) -> str:
    """A FAILED row's ``error_type``: the class, and the systemic cause when it differs.

    ``OSError[ENOSPC]``, ``CdfError[EACCES]``: the row alone then says the fault was
    systemic, so the parallel jobs of a workflow run can read a streak from the telemetry.
    """
    name, cause = type(exc).__name__, systemic_cause(exc)
    return name if cause in (None, name) else f"{name}[{cause}]"


def cause_of_row(row: Row) -> str | None:
    """The systemic cause a FAILED row records (``error_type_of``), or None."""
    if row.status is not Status.FAILED:
        return None
    name, bracket, cause = row.error_type.partition("[")
    if bracket:
        return cause.rstrip("]") or None
    return name if name in _systemic_class_names() else None


def describe_cause(cause: str) -> str:
    """``ENOSPC (No space left on device)`` for an errno symbol; a class name as it is."""
    number = getattr(errno, cause, None) if cause.isupper() else None
    return f"{cause} ({os.strerror(number)})" if isinstance(number, int) else cause


@functools.cache
def _systemic_class_names() -> frozenset[str]:
    found, todo = set(), [SystemicError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return frozenset(found)


class FaultStreak:
    """Counts consecutive days that failed with one systemic cause."""

    def __init__(self, limit: int = STREAK_LIMIT, retry_hint: str = "--retry-failed") -> None:
        self._limit = limit
        self._retry_hint = retry_hint
        self._cause: str | None = None
        self._days = 0
        self._message = ""

    def record(self, exc: BaseException | None) -> str | None:
        """Note a day's end (``exc`` when it failed); return why to stop, or None."""
        cause = None if exc is None else systemic_cause(exc)
        return self._note(cause, "" if exc is None else str(exc))

    def record_row(self, row: Row) -> str | None:
        """Note a day's outcome row (a pending row is no outcome: ignored)."""
        if row.status in PENDING_STAGE:
            return self.describe()
        return self._note(cause_of_row(row), row.error_message)

    def describe(self, not_attempted: str = "the days after them") -> str | None:
        """Why to stop, once the streak is long enough (naming the days left alone as
        ``not_attempted`` says); else None."""
        if self._cause is None or self._days < self._limit:
            return None
        return (f"stopped after {self._days} days in a row failed the same way "
                f"({describe_cause(self._cause)}): {self._message}; {not_attempted} were "
                f"not attempted. Fix the cause, then rerun with {self._retry_hint}")

    def _note(self, cause: str | None, message: str) -> str | None:
        if cause is None:
            self._cause, self._days = None, 0
            return None
        self._days = self._days + 1 if cause == self._cause else 1
        self._cause = cause
        self._message = " ".join(message.split())
        return self.describe()
