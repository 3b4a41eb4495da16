"""Coverage: which sensor (or dosimeter) delivered how much on which day, from the summaries.

A grid of rows (the 32 sensors, or with ``flavor`` the 64 dosimeters) by days.
A complete day's cell is its availability: samples kept / samples a day has
(``cdf.summary``), so a sensor that died reads 0 on exactly the days it was
silent instead of pulling an average down. Every other day carries its
``DayState`` across the whole column (failed, no data in UDL, not started ...):
a day UDL has no data for is its own state, never a 0 % loss.

``coverage_grid`` builds it from a ``StatusReport`` (no CDF is opened);
``format_coverage`` renders it as a table, CSV or JSON (``status --coverage``);
``views.plots`` draws it as the heat map.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from swxsoc_reach.views.status import DayState, StatusReport

if TYPE_CHECKING:
    import datetime as dt

    from swxsoc_reach.views.status import DayStatus

LEVELS = ("sensor", "flavor")
# the text table's code for a day that is not complete (a complete cell is its percentage)
STATE_CODES = {
    DayState.AWAITING: "aw",
    DayState.FAILED: "F",
    DayState.NO_DATA: "nd",
    DayState.NO_INPUT: "ni",
    DayState.INTERRUPTED: "int",
    DayState.RUNNING: "run",
    DayState.NOT_STARTED: "--",
    DayState.PRODUCT_MISSING: "pm",
    DayState.CHANGED_IN_UDL: "udl",
    DayState.OUT_OF_STEP: "oos",
}
NO_SUMMARY_CODE = "?"  # complete, but its CDF predates the summary file
_URGENCY = list(DayState)[::-1]  # several products on one day: the most urgent state wins


@dataclass(frozen=True)
class CoverageGrid:
    """Rows x days: availability (0..1) of complete days, and each day's state."""

    level: str  # "sensor" or "flavor"
    rows: tuple[str, ...]  # REACH-101 ... or REACH-101 X, REACH-101 Y ...
    days: tuple[dt.date, ...]
    states: tuple[DayState, ...]  # per day
    availability: np.ndarray  # (rows, days) float; NaN where the day is not complete or unknown

    @property
    def has_summary(self) -> np.ndarray:
        """Per day: a complete day whose summary was read (False: drawn as 'no summary')."""
        known = ~np.isnan(self.availability).all(axis=0)
        return np.array([s is DayState.COMPLETE for s in self.states]) & known


def coverage_grid(report: StatusReport, level: str = "sensor") -> CoverageGrid:
    """Build the grid of ``report`` at ``level`` (``sensor`` or ``flavor``)."""
    if level not in LEVELS:
        raise ValueError(f"coverage level {level!r} is not one of {', '.join(LEVELS)}")
    by_day: dict[dt.date, list[DayStatus]] = {}
    for day in report.days:
        by_day.setdefault(day.day, []).append(day)
    days = tuple(sorted(by_day))
    rows = _rows(report, level)
    index = {row: i for i, row in enumerate(rows)}
    nan = float("nan")
    columns: list[list[float]] = []  # per day: plain floats (numpy per cell is ~10x slower)
    states = []
    for day in days:
        entries = by_day[day]
        state = max((DayState(e.state) for e in entries), key=_URGENCY.index)
        states.append(state)
        column = [nan] * len(rows)
        columns.append(column)
        if state is not DayState.COMPLETE:
            continue
        for entry in entries:
            product = report.product(entry)
            if product is None:
                continue
            if level == "sensor":
                cells = product.sensor_availability().items()
            else:
                cells = [(_flavor_row(label, name), product.availability(label, f))
                         for label in product.sensors
                         for f, name in enumerate(product.flavors(label))]
            for row, value in cells:
                i = index.get(row)
                if value is not None and i is not None and not value <= column[i]:
                    column[i] = value  # the larger, when several products hold a sensor
    availability = np.array(columns, dtype=float).T.reshape(len(rows), len(days))
    return CoverageGrid(level, rows, days, tuple(states), availability)


def _rows(report: StatusReport, level: str) -> tuple[str, ...]:
    """Every sensor (or dosimeter) any summary names; else the sensors the report names."""
    rows: set[str] = set()
    for product in report.products.values():
        for label in product.sensors:
            if level == "sensor":
                rows.add(label)
            else:
                rows.update(_flavor_row(label, name) for name in product.flavors(label))
    if not rows:
        rows = {d.sensor_id for d in report.days}
    return tuple(sorted(rows))


def _flavor_row(sensor_id: str, description: str) -> str:
    from swxsoc_reach.views.quicklook import flavor_name

    return f"{sensor_id} {flavor_name(description)}"


def _column(row: str) -> str:
    """A short column head: ``REACH-135`` -> ``135``, ``REACH-135 X`` -> ``135X``."""
    return row.removeprefix("REACH-").replace(" ", "")


def _cells(grid: CoverageGrid, j: int) -> list[str]:
    state = grid.states[j]
    if state is not DayState.COMPLETE:
        return [STATE_CODES[state]] * len(grid.rows)
    column = grid.availability[:, j].tolist()  # plain floats format ~10x faster
    if all(v != v for v in column):  # NaN everywhere
        return [NO_SUMMARY_CODE] * len(grid.rows)
    return ["-" if v != v else f"{100 * v:.0f}" for v in column]


def format_coverage(grid: CoverageGrid, fmt: str = "table") -> str:
    """The grid as ``table`` (days down, sensors across, %), ``csv`` or ``json``."""
    if fmt == "csv":
        return _coverage_csv(grid)
    if fmt == "json":
        return _coverage_json(grid)
    heads = [_column(row) for row in grid.rows]
    width = max([3, *(len(h) for h in heads)])
    lines = [" ".join(["day       ", *(h.rjust(width) for h in heads)])]
    for j, day in enumerate(grid.days):
        lines.append(" ".join([day.isoformat(), *(c.rjust(width) for c in _cells(grid, j))]))
    legend = ", ".join(f"{code} {state.value}" for state, code in STATE_CODES.items())
    lines += ["", f"cells: % of a day's samples per {grid.level} on complete days; "
                  f"{legend}; {NO_SUMMARY_CODE} complete without a summary file"]
    return "\n".join(lines) + "\n"


def _percent(value: float) -> float | None:
    return None if np.isnan(value) else round(100 * float(value), 2)


def _coverage_csv(grid: CoverageGrid) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["day", "state", *grid.rows])
    for j, day in enumerate(grid.days):
        values = [_percent(v) for v in grid.availability[:, j]]
        writer.writerow([day.isoformat(), grid.states[j].value,
                         *("" if v is None else f"{v:.2f}" for v in values)])
    return buffer.getvalue()


def _coverage_json(grid: CoverageGrid) -> str:
    return json.dumps({
        "level": grid.level,
        "rows": list(grid.rows),
        "days": [{"day": day.isoformat(), "state": grid.states[j].value,
                  "availability_pct": [_percent(v) for v in grid.availability[:, j]]}
                 for j, day in enumerate(grid.days)],
    }, indent=2) + "\n"
