"""Late data in the local UDL server (issue 18.4, udl.md): records of chosen days held back
and released later, and samples re-served as reprocessed copies.

A ``Hold`` keeps back a seeded share of a day's records (or of some sensors'),
released later so the day grows as UDL's holdings do when records arrive late.
Reprocessing re-serves a share of a day's samples beside the originals (same
``idSensor``, ``obDescription`` and ``obTime``, a later ``createdAt``, a new
``id``: ``synthetic``'s ``duplicate_fraction`` copies). ``Holdings`` is the
whole state, changed by the server's ``--hold``/``--reprocess`` flags and its
``/_holdings`` endpoint in one text form: ``hold=DAY[:FRACTION][:SENSOR,...]``,
``release=DAY|all``, ``reprocess=DAY[:FRACTION]``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from swxsoc_reach.errors import ConfigError
from swxsoc_reach.mission import get_sensor
from swxsoc_reach.synthetic import SyntheticOptions

if TYPE_CHECKING:
    from swxsoc_reach.testing.udl_data import Slab


class HoldingsError(ValueError):
    """A hold, release or reprocess value that cannot be read (HTTP 400, usage error)."""


_KEY_SPAN = float(2**32)  # record keys are the first 32 bits of their ids


@dataclass(frozen=True)
class Hold:
    """Records of one day that UDL has not received yet: a share of them, or of some sensors.

    Which records are held is fixed by their ids (themselves seeded): a record is
    held when the first 32 bits of its id fall below ``fraction``, so a smaller
    fraction holds a subset of a larger one (releasing part of a day adds records).
    """

    day: dt.date
    fraction: float = 1.0  # share of the matching records held back, (0, 1]
    sensors: frozenset[str] = frozenset()  # only records of these idSensor values (empty: all)

    def __post_init__(self) -> None:
        if not 0.0 < self.fraction <= 1.0:
            raise HoldingsError(f"hold fraction {self.fraction:g} must lie in (0, 1]")

    @property
    def text(self) -> str:
        """``DAY:FRACTION[:SENSOR,...]``, what ``parse_hold`` reads."""
        sensors = ",".join(sorted(self.sensors))
        return f"{self.day}:{self.fraction!r}" + (f":{sensors}" if sensors else "")

    def mask(self, slab: Slab, index: np.ndarray) -> np.ndarray:
        """Which of the records at ``index`` are held back."""
        held = slab.keys[index].astype(np.float64) < self.fraction * _KEY_SPAN
        if self.sensors:
            held &= np.isin(slab.sensors[index], [s.encode() for s in self.sensors])
        return held


@dataclass(frozen=True)
class Holdings:
    """Which days are held back (in part) and which are re-served with reprocessed samples."""

    held: tuple[Hold, ...] = ()
    reprocessed: tuple[tuple[dt.date, float], ...] = ()  # (day, share of samples re-served)

    def holding(self, hold: Hold) -> Holdings:
        """These holdings with ``hold`` replacing any earlier hold of its day."""
        kept = tuple(h for h in self.held if h.day != hold.day)
        return dataclasses.replace(self, held=tuple(sorted((*kept, hold), key=_by_day)))

    def releasing(self, day: dt.date | None = None) -> Holdings:
        """These holdings with the day's held records served again (every day's: None)."""
        return dataclasses.replace(self, held=tuple(h for h in self.held
                                                   if day is not None and h.day != day))

    def reprocessing(self, day: dt.date, fraction: float) -> Holdings:
        """These holdings with ``fraction`` of the day's samples re-served (0: none)."""
        _check_reprocess_fraction(fraction)
        kept = tuple(r for r in self.reprocessed if r[0] != day)
        added = ((day, fraction),) if fraction else ()
        return dataclasses.replace(self, reprocessed=tuple(sorted((*kept, *added))))

    def changed(self, params: Mapping[str, Sequence[str]]) -> Holdings:
        """Apply the admin endpoint's ``release``, ``hold`` and ``reprocess`` values, in
        that order (``release=all`` releases every day); ``HoldingsError``."""
        unknown = sorted(set(params) - {"release", "hold", "reprocess"})
        if unknown:
            raise HoldingsError(f"unknown holdings parameter(s): {', '.join(unknown)}; "
                                "use hold=DAY[:FRACTION][:SENSOR,...], release=DAY|all, "
                                "reprocess=DAY[:FRACTION]")
        result = self
        for text in params.get("release", ()):
            result = result.releasing(None if text == "all" else _parse_day(text))
        for text in params.get("hold", ()):
            result = result.holding(parse_hold(text))
        for text in params.get("reprocess", ()):
            result = result.reprocessing(*parse_reprocess(text))
        return result

    def hold_of(self, day: dt.date) -> Hold | None:
        """The day's hold, if any."""
        return next((h for h in self.held if h.day == day), None)

    def options_for(self, options: SyntheticOptions, day: dt.date) -> SyntheticOptions:
        """The synthetic options the day is served with: reprocessed copies added (a share
        at or below the data's own ``duplicate_fraction`` adds none)."""
        share = next((f for d, f in self.reprocessed if d == day), 0.0)
        if share <= options.duplicate_fraction:
            return options
        return dataclasses.replace(options, duplicate_fraction=share)

    def as_json(self) -> dict[str, Any]:
        """What ``/_holdings`` answers."""
        return {"held": [{"day": h.day.isoformat(), "fraction": h.fraction,
                          "sensors": sorted(h.sensors)} for h in self.held],
                "reprocessed": [{"day": d.isoformat(), "fraction": f}
                                for d, f in self.reprocessed]}


def _by_day(hold: Hold) -> dt.date:
    return hold.day


DEFAULT_REPROCESS_FRACTION = 0.1


def _parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HoldingsError(f"{text!r} is not a day YYYY-MM-DD") from None


def _parse_fraction(text: str, whole: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise HoldingsError(f"{whole!r}: {text!r} is not a fraction") from None


def parse_hold(text: str) -> Hold:
    """``DAY[:FRACTION][:SENSOR,...]`` (fraction 1 by default: the whole day, or the whole
    of the sensors named); ``HoldingsError``."""
    day, *rest = text.split(":")
    fraction, sensors = 1.0, frozenset[str]()
    if rest and rest[0] and (rest[0][0].isdigit() or rest[0][0] == "."):
        fraction = _parse_fraction(rest.pop(0), text)
    if rest:
        sensors = frozenset(s for s in rest.pop(0).split(",") if s)
        if not sensors:
            raise HoldingsError(f"{text!r}: no sensor named after the last colon")
        for sensor in sensors:
            try:
                get_sensor(sensor)
            except ConfigError as exc:
                raise HoldingsError(f"{text!r}: {exc}") from None
    if rest:
        raise HoldingsError(f"{text!r} is not DAY[:FRACTION][:SENSOR,...]")
    return Hold(_parse_day(day), fraction, sensors)


def parse_reprocess(text: str) -> tuple[dt.date, float]:
    """``DAY[:FRACTION]`` (fraction 0.1 by default); ``HoldingsError``."""
    day, _, fraction = text.partition(":")
    share = _parse_fraction(fraction, text) if fraction else DEFAULT_REPROCESS_FRACTION
    return _parse_day(day), _check_reprocess_fraction(share)


def _check_reprocess_fraction(fraction: float) -> float:
    if not 0.0 <= fraction <= 1.0:
        raise HoldingsError(f"reprocess fraction {fraction:g} must lie in [0, 1]")
    return fraction


NO_HOLDINGS = Holdings()  # nothing held back, nothing reprocessed


def holdings_from(holds: Iterable[Hold], reprocessed: Iterable[tuple[dt.date, float]]) -> Holdings:
    """``Holdings`` from ``--hold`` and ``--reprocess`` values (a later one for a day wins)."""
    holdings = Holdings()
    for hold in holds:
        holdings = holdings.holding(hold)
    for day, fraction in reprocessed:
        holdings = holdings.reprocessing(day, fraction)
    return holdings


def holdings_from_json(data: Mapping[str, Any]) -> Holdings:
    """``Holdings`` from what ``/_holdings`` answers (``Holdings.as_json``)."""
    return Holdings(
        held=tuple(Hold(dt.date.fromisoformat(h["day"]), h["fraction"], frozenset(h["sensors"]))
                   for h in data["held"]),
        reprocessed=tuple((dt.date.fromisoformat(r["day"]), r["fraction"])
                          for r in data["reprocessed"]))
