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
from swxsoc_reach.views.coverage import CoverageGrid, coverage_grid
from swxsoc_reach.views.status import DayState

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


# The state colours of the coverage map (complete days are coloured by availability
# instead). Distinct from every colour of the availability map (viridis: dark purple
# at 0 % to yellow at 100 %), so a no-data or unstarted day never reads as a loss.
STATE_COLORS = {
    "complete, no summary": "#7f7f7f",
    DayState.AWAITING: "#9ecae1",
    DayState.FAILED: "#d62728",
    DayState.NO_DATA: "#d9d9d9",
    DayState.NO_INPUT: "#ff7f0e",
    DayState.INTERRUPTED: "#e377c2",
    DayState.RUNNING: "#bcbd22",
    DayState.NOT_STARTED: "#ffffff",
    DayState.PRODUCT_MISSING: "#8c564b",
    DayState.CHANGED_IN_UDL: "#9467bd",
    DayState.OUT_OF_STEP: "#17becf",
}
AVAILABILITY_CMAP = "viridis"


@dataclass(frozen=True)
class StatusPlot:
    """What the status figure shows (returned so tests compare it with the data and pixels)."""

    grid: CoverageGrid
    cells_rgba: np.ndarray  # (rows, days, 4) the colours drawn, 0..1
    extent_px: tuple[float, float, float, float]  # heat map (left, top, right, bottom) in PNG px
    days: np.ndarray  # datetime64[D]
    seconds: dict[str, np.ndarray]  # stage -> seconds per day (0 where unknown)
    failed_days: np.ndarray  # datetime64[D]: days carrying a failure (DayStatus.failed)
    seconds_ylim: tuple[float, float] = (0.0, 1.0)  # the time-per-day axis as drawn


def cell_colors(grid: CoverageGrid) -> np.ndarray:
    """RGBA per (row, day): availability through the colour map, else the day's state colour."""
    require_matplotlib()
    from matplotlib import colormaps
    from matplotlib.colors import to_rgba

    rgba = colormaps[AVAILABILITY_CMAP](np.nan_to_num(grid.availability, nan=0.0))
    summarized = grid.has_summary
    for j, state in enumerate(grid.states):
        if state is DayState.COMPLETE and summarized[j]:
            missing = np.isnan(grid.availability[:, j])  # a sensor this day's file lacks
            rgba[missing, j] = to_rgba(STATE_COLORS[DayState.NOT_STARTED])
            continue
        key = "complete, no summary" if state is DayState.COMPLETE else state
        rgba[:, j] = to_rgba(STATE_COLORS[key])
    return rgba


def plot_status(report: StatusReport, path: Path, level: str = "sensor") -> StatusPlot:
    """Draw the coverage heat map (rows x days, states coloured) over the time per stage.

    Several sensors or descriptors in one report share a day's column (coverage) and
    are summed per day (time), so the x axis stays one column per day.
    """
    grid = coverage_grid(report, level)
    rgba = cell_colors(grid)
    data = _stage_arrays(report, grid)
    rows = len(grid.rows)
    figure = new_figure(STATUS_SIZE_IN)
    top, bottom = figure.subplots(2, 1, height_ratios=(2.2, 1))
    days = data["days"]
    # one cell per day: x from the day's start to the next one's, in matplotlib date units
    from matplotlib.dates import date2num

    x0 = date2num(days[0]) if len(days) else 0.0
    x1 = date2num(days[-1]) + 1 if len(days) else 1.0
    image = top.imshow(rgba, aspect="auto", interpolation="nearest",
                       extent=(x0, x1, rows - 0.5, -0.5))
    top.set_yticks(range(rows))
    top.set_yticklabels(grid.rows, fontsize=_label_size(rows))
    top.set_ylabel("sensor" if level == "sensor" else "dosimeter (sensor flavor)")
    top.xaxis_date()
    date_axis(top)
    _legend(figure, top)
    stack = np.zeros(len(days))
    for stage, seconds in data["seconds"].items():
        bottom.bar(days, seconds, width=0.8, bottom=stack, color=STAGE_COLORS[stage],
                   label=stage, align="edge")
        stack = stack + seconds
    bottom.set_xlim(x0, x1)
    # a time is never negative; with none recorded yet matplotlib would centre an empty
    # axis on 0 (-0.04 to 0.04 s): start at 0 and say why the panel is empty
    bottom.set_ylim(0, stack.max() * 1.05 if stack.any() else 1.0)
    if not stack.any():
        bottom.text(0.5, 0.5, "no stage timings recorded yet", transform=bottom.transAxes,
                    ha="center", va="center", color="0.4")
    bottom.set_ylabel("time per day (s)")
    bottom.set_xlabel("UTC day")
    for i, day in enumerate(data["failed"]):
        bottom.axvline(date2num(day) + 0.5, color=STATE_COLORS[DayState.FAILED], alpha=0.35,
                       linewidth=2, label="failed" if i == 0 else None)
    bottom.grid(True, alpha=0.3)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    date_axis(bottom)
    failed = len(data["failed"])
    title = (f"{report.telemetry_file.name}: {len(days)} days x {rows} "
             f"{'sensors' if level == 'sensor' else 'dosimeters'}")
    if failed:
        title += f", {failed} with a failure (red)"
    figure.suptitle(title)
    save_png(figure, path)
    # after saving: the constrained layout the PNG was drawn with has placed the image
    return StatusPlot(grid, rgba, extent_px(figure, image),
                      np.array(days, dtype="datetime64[D]"), data["seconds"],
                      np.array(data["failed"], dtype="datetime64[D]"),
                      tuple(float(v) for v in bottom.get_ylim()))


def _label_size(rows: int) -> str | float:
    return "small" if rows <= 32 else 4.5  # 64 dosimeter labels in ~390 px: 6 px a row


def _legend(figure: Figure, axes: Any) -> None:
    """State patches and the availability colour bar, right of the heat map."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=color, edgecolor="black", linewidth=0.5, label=str(key))
               for key, color in STATE_COLORS.items()]
    figure.legend(handles=handles, loc="outside right upper", fontsize="small", title="day",
                  title_fontsize="small")
    mappable = ScalarMappable(norm=Normalize(0, 100), cmap=AVAILABILITY_CMAP)
    figure.colorbar(mappable, ax=axes, label="complete day: % of samples", pad=0.01,
                    fraction=0.03)


def _stage_arrays(report: StatusReport, grid: CoverageGrid) -> dict[str, Any]:
    index = {day: j for j, day in enumerate(grid.days)}
    seconds = {stage: np.zeros(len(grid.days)) for stage in STAGE_COLORS}
    failed: set[dt.date] = set()
    for d in report.days:
        for stage, values in seconds.items():
            values[index[d.day]] += getattr(d, f"{stage}_seconds") or 0.0
        if d.failed:
            failed.add(d.day)
    return {"days": list(grid.days), "seconds": seconds, "failed": sorted(failed)}


def extent_px(figure: Figure, artist: Any) -> tuple[float, float, float, float]:
    """Where a saved figure holds ``artist``: left, top, right, bottom in pixels from the
    PNG's top left (call after ``save_png``: the constrained layout places it then)."""
    left, lower, right, upper = artist.get_window_extent().extents
    height = figure.bbox.height
    return (left, height - upper, right, height - lower)


def date_axis(axes: Any, minticks: int = 3, maxticks: int = 10) -> None:
    """Concise UTC date ticks on ``axes``' x axis."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=minticks, maxticks=maxticks)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
