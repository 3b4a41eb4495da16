"""Atomic file creation: the only way a final file name appears on disk.

A reader (or a resumed run) must never see a half-written artifact, CDF or
sentinel under its final name, so everything is written to a temporary name in
the same directory, fsync'ed, then renamed; the directory is fsync'ed too so the
rename survives a power cut. A kill between the two leaves the temporary file
(``.<final name>.<8 random characters>.part``); ``remove_leftovers`` clears those of
one final name when its day is next worked on, under the day's lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".part"
# tempfile.mkstemp's random part: 8 of "a-z0-9_" (CPython's _RandomNameSequence)
_RANDOM_PART = r"[a-z0-9_]{8}"


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry (a rename) to stable storage."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it into place on success.

    For writers that insist on opening the file themselves (cdflib). On any
    exception the temporary file is removed and ``final`` is left untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=TEMP_SUFFIX, dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()  # writers such as cdflib refuse to overwrite an existing file
        yield tmp
        publish(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def publish(tmp: Path, final: Path) -> None:
    """Give the complete file ``tmp`` (same file system) the name ``final``, durably:
    its data fsync'ed, renamed, the directory fsync'ed."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    fsync_dir(final.parent)


@contextlib.contextmanager
def atomic_write(final: Path) -> Iterator[BinaryIO]:
    """Yield a binary file object whose content appears at ``final`` only when complete."""
    with atomic_path(final) as tmp, open(tmp, "wb") as fh:
        yield fh
        fh.flush()


def write_bytes_atomic(final: Path, data: bytes) -> None:
    """Write ``data`` to ``final`` atomically (small files such as sentinels)."""
    with atomic_write(final) as fh:
        fh.write(data)


def remove_leftovers(final: Path) -> list[Path]:
    """Remove the temporary files ``atomic_path`` left beside ``final`` (killed writers).

    Only names of exactly that pattern go (or that name plus ``final``'s own suffix:
    cdflib writes ``<temporary>.cdf`` inside the slot), nothing else. Call it only while
    no other writer of ``final`` can be running (the day's lock held): theirs look the same.
    """
    final = Path(final)
    pattern = re.compile(re.escape(f".{final.name}.") + _RANDOM_PART + re.escape(TEMP_SUFFIX)
                         + f"(?:{re.escape(final.suffix)})?")
    removed = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in os.scandir(final.parent):
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks (artifacts reach ~600 MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
