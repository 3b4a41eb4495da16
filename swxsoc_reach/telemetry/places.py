"""Paths in telemetry rows: written relative to the telemetry file, read back absolute.

historical-download.md ("Telemetry", ``csv_path``) and issue 17.3: a data directory
copied or moved as a whole must keep its campaign's state. Rows written from now on
hold paths relative to the telemetry file's directory, so they follow the file.
Rows an older version wrote hold absolute paths: used as they are while they exist;
after a move they are re-rooted by name, trying the path's trailing parts under the
telemetry file's directory and its parents (``raw/x.csv`` beside the telemetry,
``cdf/l1c/...`` one level up), and each re-rooting learnt is tried first for the
next path, so a decade of old rows costs about one ``stat`` each.
"""

from __future__ import annotations

import os
from pathlib import Path

# How far above the telemetry file's directory a moved campaign's files are looked
# for: the data directory that holds both the artifacts and the CDFs (raw/ and cdf/).
_ANCESTORS = 2


class RowPlaces:
    """Translate the path cells of one telemetry file's rows."""

    def __init__(self, telemetry_file: Path) -> None:
        # real: lookups compare with Path.resolve() (a symlinked data dir still matches)
        self.base = os.path.realpath(os.path.dirname(os.path.abspath(telemetry_file)))
        self._roots: list[tuple[str, str]] = []  # learnt (old prefix, new prefix), newest first

    def to_cell(self, path: str) -> str:
        """The cell written for ``path``: relative to the telemetry file's directory."""
        if not path or not os.path.isabs(path):
            return path
        return os.path.relpath(path, self.base)

    def from_cell(self, cell: str) -> str:
        """The absolute path a cell names ("" stays ""); see the module docstring."""
        if not cell:
            return cell
        if not os.path.isabs(cell):
            return os.path.normpath(os.path.join(self.base, cell))
        if os.path.exists(cell):
            return cell
        return self._reroot(cell) or cell

    def _reroot(self, old: str) -> str | None:
        """Where an older row's absolute path lives now, or None when nowhere to be found."""
        for old_prefix, new_prefix in self._roots:
            if old.startswith(old_prefix + os.sep):
                moved = new_prefix + old[len(old_prefix):]
                if os.path.exists(moved):
                    return moved
        parts = Path(old).parts
        for depth in range(_ANCESTORS + 1):
            root = self.base
            for _ in range(depth):
                root = os.path.dirname(root)
            for keep in range(1, len(parts) - 1):  # the name, then its parents too
                moved = os.path.join(root, *parts[-keep:])
                if os.path.exists(moved):
                    self._roots.insert(0, (os.path.join(*parts[:-keep]), root))
                    return moved
        return None
