"""Progress on a terminal: days done / planned with an ETA.

Shown only when stderr is a terminal and not ``--quiet``, so log files and
Snakemake logs stay clean. tqdm draws the bar (no hand-rolled escape codes).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class DayProgress(Protocol):
    """What the day loop reports to."""

    def advance(self, outcome: str) -> None:
        """One day finished with ``outcome``."""


class _Silent:
    def advance(self, outcome: str) -> None:
        """Do nothing: progress is off."""


class _Bar:
    def __init__(self, bar: object) -> None:
        self._bar = bar
        self._counts: dict[str, int] = {}

    def advance(self, outcome: str) -> None:
        """Count the outcome and move the bar one day."""
        self._counts[outcome] = self._counts.get(outcome, 0) + 1
        self._bar.set_postfix_str(  # type: ignore[attr-defined]
            ", ".join(f"{k} {v}" for k, v in sorted(self._counts.items())), refresh=False
        )
        self._bar.update(1)  # type: ignore[attr-defined]


_enabled = True


def set_enabled(enabled: bool) -> None:
    """Turn bars off for the whole process (``--quiet``)."""
    global _enabled
    _enabled = enabled


def bars_enabled() -> bool:
    """True when a bar would be drawn: a terminal on stderr and not ``--quiet``."""
    return _enabled and sys.stderr.isatty()


@contextmanager
def day_progress(total: int, label: str) -> Iterator[DayProgress]:
    """A bar over ``total`` days, or a silent stand-in when bars are off."""
    if not bars_enabled() or total <= 1:
        yield _Silent()
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit="day", file=sys.stderr, leave=True) as bar:
        yield _Bar(bar)
