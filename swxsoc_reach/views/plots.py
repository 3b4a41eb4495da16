"""matplotlib figures off-screen: the ``status --plot`` figure and the shared PNG writer.

Only ``status --plot``, ``quicklook`` and ``process --quicklook`` import this
module, so matplotlib (the ``plots`` extra) loads only when a figure is drawn.
Figures are built with ``matplotlib.figure.Figure`` (no pyplot, no global state,
no display needed) and written atomically, so a half PNG never appears.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from swxsoc_reach.errors import MissingDependencyError
from swxsoc_reach.fsutil import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from swxsoc_reach.views.status import StatusReport

DPI = 100
STATUS_SIZE_IN = (11.0, 7.0)  # -> 1100 x 700 pixels
STAGE_COLORS = {"download": "tab:blue", "process": "tab:orange", "upload": "tab:green"}


def require_matplotlib() -> None:
    """Raise ``MissingDependencyError`` (exit 2) with the install hint when matplotlib is absent."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "plots need matplotlib: pip install 'swxsoc_reach[plots]'") from None


def new_figure(size_in: tuple[float, float]) -> Figure:
    """An off-screen figure of ``size_in`` inches at ``DPI``."""
    require_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=size_in, dpi=DPI, layout="constrained")


def save_png(figure: Figure, path: Path) -> Path:
    """Write ``figure`` to ``path`` as PNG, atomically; return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=DPI)
    return path


@dataclass(frozen=True)
class StatusPlot:
    """What the status figure shows (returned so tests compare it with the telemetry)."""

    days: np.ndarray  # datetime64[D]
    availability_pct: np.ndarray  # NaN where unknown
    seconds: dict[str, np.ndarray]  # stage -> seconds per day (0 where unknown)
    failed_days: np.ndarray  # datetime64[D]: days carrying a failure (DayStatus.failed)


def plot_status(report: StatusReport, path: Path) -> StatusPlot:
    """Draw availability % and the time per stage for each day, failed days marked in red.

    Several sensors or descriptors in one report are summed per day (time) and
    averaged (availability), so the x axis stays one point per day.
    """
    data = _status_arrays(report)
    figure = new_figure(STATUS_SIZE_IN)
    top, bottom = figure.subplots(2, 1, sharex=True)
    days = data.days.astype("datetime64[D]")
    top.plot(days, data.availability_pct, marker="o", markersize=3, linewidth=1,
             color="tab:blue", label="availability")
    top.set_ylabel("availability (% of expected records)")
    top.set_ylim(0, 105)
    bottom_of_stack = np.zeros(len(days))
    for stage, seconds in data.seconds.items():
        bottom.bar(days, seconds, width=0.8, bottom=bottom_of_stack, color=STAGE_COLORS[stage],
                   label=f"{stage}", align="center")
        bottom_of_stack = bottom_of_stack + seconds
    bottom.set_ylabel("time per day (s)")
    bottom.set_xlabel("UTC day")
    for axes in (top, bottom):
        for i, day in enumerate(data.failed_days):
            axes.axvline(day, color="tab:red", alpha=0.35, linewidth=2,
                         label="failed" if i == 0 else None)
        axes.grid(True, alpha=0.3)
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")  # off the data
    title = f"{report.telemetry_file.name}: {len(report.days)} days"
    if len(data.failed_days):
        title += f", {len(data.failed_days)} with a failure (red)"
    figure.suptitle(title)
    _date_axis(bottom)
    save_png(figure, path)
    return data


def _status_arrays(report: StatusReport) -> StatusPlot:
    days = sorted({d.day for d in report.days})
    index = {day: i for i, day in enumerate(days)}
    availability = np.zeros(len(days))
    counted = np.zeros(len(days))
    seconds = {stage: np.zeros(len(days)) for stage in STAGE_COLORS}
    failed: set[dt.date] = set()
    for d in report.days:
        i = index[d.day]
        if d.availability_pct is not None:
            availability[i] += d.availability_pct
            counted[i] += 1
        for stage, values in seconds.items():
            values[i] += getattr(d, f"{stage}_seconds") or 0.0
        if d.failed:
            failed.add(d.day)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counted > 0, availability / np.maximum(counted, 1), np.nan)
    return StatusPlot(
        days=np.array(days, dtype="datetime64[D]"),
        availability_pct=mean,
        seconds=seconds,
        failed_days=np.array(sorted(failed), dtype="datetime64[D]"),
    )


def _date_axis(axes: Any) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=10)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
