"""Working on a day alone: its lock, a fresh decision, and the leftovers of killed writers.

Two processes (two CLI runs, workflow jobs, SLURM jobs on a shared file system)
must never work on one day at once, and a day another process finished since
this run planned must not be done again. So before a day's first row the day
loop (``dayloop.run_days``) asks ``DayGuard.enter``, which

1. takes the day's lock (``telemetry.daylock``) or, when a live process holds
   it, skips the day with a warning naming that process;
2. decides the day again from the latest read of the telemetry, reading it
   afresh only when someone other than this run appended to it since the last
   read (``WatchedStore`` knows, from the offsets of its own appends), so a lone
   run reads the file once more at most;
3. removes what killed writers left of the day's files (``fsutil.remove_leftovers``),
   safe now that no other writer of them can be running.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from swxsoc_reach.fsutil import remove_leftovers
from swxsoc_reach.telemetry.daylock import Busy, lock_path, try_lock
from swxsoc_reach.telemetry.schema import Row
from swxsoc_reach.telemetry.store import TelemetryState, TelemetryStore

if TYPE_CHECKING:
    import datetime as dt

    from swxsoc_reach.phases.dayloop import DayPlan, DaySelection  # dayloop imports this

logger = logging.getLogger(__name__)


class WatchedStore(TelemetryStore):
    """The telemetry store of one run, knowing whether anyone else appended since it read."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._expected: int | None = None  # the size the file has if only we wrote; None: unknown

    def append(self, row: Row) -> tuple[int, int]:
        """Append as ``TelemetryStore`` does, noting whether the file had grown meanwhile."""
        before, after = super().append(row)
        self._expected = after if before == self._expected else None
        return before, after

    def changed(self) -> bool:
        """True when the file may hold rows this run has not read (or never read it)."""
        return self._expected is None or _size(self.path) != self._expected

    def fresh_state(self) -> TelemetryState:
        """Read the latest rows again; later appends by others make ``changed`` true."""
        size = _size(self.path)  # before the read: a row appended during it is read again
        state = self.state()
        self._expected = size
        return state


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


Replan = Callable[[TelemetryState, "DayPlan"], "DayPlan"]
Finals = Callable[["DayPlan"], Sequence[Path]]


class _Request(Protocol):
    selection: DaySelection


_R = TypeVar("_R", bound=_Request)


def replan_with(plan: Callable[[_R, TelemetryState], list[DayPlan]], request: _R) -> Replan:
    """A ``Replan`` from a phase's own ``plan``: that plan over the one day, from ``state``."""

    def replan(state: TelemetryState, day_plan: DayPlan) -> DayPlan:
        day = day_plan.day
        one = dataclasses.replace(request.selection, start=day, end=day, limit_days=None)
        (fresh,) = plan(dataclasses.replace(request, selection=one), state)
        return fresh

    return replan


class DayGuard:
    """Enters each planned day of a run alone, with a decision that is still true."""

    def __init__(self, stage: str, store: WatchedStore, sensor_id: str, descriptor: str,
                 replan: Replan, finals: Finals) -> None:
        self.stage = stage
        self.store = store
        self._key = (sensor_id, descriptor)
        self._replan = replan
        self._finals = finals
        self.busy: dict[dt.date, str] = {}  # day -> holder, for the summary
        # The latest fresh read: a day is decided from it even when nobody appended since,
        # since another run may have finished this day before that read and after the plan.
        self._state: TelemetryState | None = None

    @contextlib.contextmanager
    def enter(self, plan: DayPlan) -> Iterator[DayPlan | None]:
        """Hold the day's lock for the block; yield the plan to work on, or None to skip."""
        held = try_lock(lock_path(self.store.path, plan.day, *self._key))
        if isinstance(held, Busy):
            logger.warning("%s %s: skipped: another process works on this day (%s)",
                           plan.day, self.stage, held.holder)
            self.busy[plan.day] = held.holder
            yield None
            return
        with held:
            if self.store.changed():
                self._state = self.store.fresh_state()
            if self._state is not None:  # read since the plan: the plan may be stale
                fresh = self._replan(self._state, plan)
                if not fresh.is_work:
                    logger.info("%s %s: %s (done by another process since the plan)",
                                plan.day, self.stage, fresh.action)
                    yield None
                    return
                plan = fresh
            for final in self._finals(plan):
                for left in remove_leftovers(final):
                    logger.info("%s %s: removed %s, left by an interrupted write",
                                plan.day, self.stage, left)
            yield plan
