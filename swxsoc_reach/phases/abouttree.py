"""Move what an older version wrote beside the CDFs out of the archive tree (issue 17.6).

Before issue 17, ``process`` wrote a CDF's product summary (``<stem>.json``) and its
quicklook (``<stem>.png``) beside it, in ``l1c/prelim/YYYY/MM/DD/``: a tree an operator
syncs to the bucket, where the SWxSOC name parser rejects them. They now live in the
about tree (``paths.summary_path``, ``paths.quicklook_path``). Readers still find the
old files; ``process`` (not a dry run) moves those of the days of its range.

A move is a hard link, then the old name's removal: the new name appears complete at
once, never replaces a file, and a kill between leaves the same file under both names,
which the next run finishes. Where both names hold different files, the newer one is
kept under the new name. A file system without hard links gets a copy published
atomically instead.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from swxsoc_reach.fsutil import atomic_path, fsync_dir
from swxsoc_reach.paths import (
    CDF_LEVEL_DIR,
    LEGACY_SUFFIXES,
    about_path,
    cdf_data_version,
)

logger = logging.getLogger(__name__)

_KIND_OF = {legacy: suffix for suffix, legacy in LEGACY_SUFFIXES.items()}  # ".json" -> ...
_NO_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK)


def move_legacy_files(output_dir: Path, days: Iterable[dt.date]) -> int:
    """Move the summaries and quicklooks an older version left beside the CDFs of ``days``
    (in ``output_dir``'s archive tree) to the about tree; return how many moved.

    Only names such a version wrote (``<CDF stem>.json``, ``<CDF stem>.png``) are touched.
    A file that cannot be moved (permissions) is left where it is, still read, with a
    warning.
    """
    moved = 0
    for day in days:
        directory = Path(output_dir).joinpath(*CDF_LEVEL_DIR, f"{day:%Y}", f"{day:%m}",
                                              f"{day:%d}")
        try:
            names = os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            stem, dot, extension = name.rpartition(".")
            kind = _KIND_OF.get(dot + extension)
            if kind is None or cdf_data_version(stem + ".cdf") is None:
                continue
            old = directory / name
            new = Path(about_path(str(directory / (stem + ".cdf")), kind))
            try:
                moved += _move(old, new)
            except OSError as exc:
                logger.warning("%s: not moved to %s: %s (it is still read where it is)", old,
                               new, exc.strerror or exc)
    if moved:
        logger.info("moved %d summary/quicklook file(s) an older version left in the archive "
                    "tree to %s", moved, Path(output_dir) / "about")
    return moved


def _move(old: Path, new: Path) -> bool:
    """Give ``old``'s file the name ``new`` and remove ``old``; False if another run did."""
    new.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(old, new)
    except FileNotFoundError:
        return False  # moved meanwhile by another run
    except FileExistsError:
        if old.stat().st_mtime_ns > new.stat().st_mtime_ns:
            os.replace(old, new)  # the file beside the CDF is the newer: it wins
            fsync_dir(new.parent)
            return True
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        _copy(old, new)
    fsync_dir(new.parent)
    old.unlink(missing_ok=True)
    fsync_dir(old.parent)
    return True


def _copy(old: Path, new: Path) -> None:
    """Where hard links are not supported: a complete copy appears under ``new``."""
    if new.exists():
        return
    with atomic_path(new) as tmp:
        shutil.copy2(old, tmp)
