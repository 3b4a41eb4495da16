"""Quicklook PNG of one L1C CDF: dose rate against time, and on a map.

Reads the variables l1c-cdf.md "Variables" fixes (``Epoch``, ``dose_rate``,
``dosimeter_flavors``, ``sensor_labels``, ``lat``, ``lon``), turns FILLVAL into
gaps, and draws two panels. Top: for one sensor, its dose rate (log scale) per
flavor against UTC time; for several (an ``ALL`` CDF: 32 sensors, 64 lines that
would hide each other), a sensor x time image of the highest dosimeter's rate, one
row per sensor, on the log colour scale the map uses, so a silent sensor is an
empty row. Bottom: a longitude-latitude scatter coloured by that rate on a plain
lon/lat grid (no coastlines: no coastline data ships with the package's
dependencies, and nothing is downloaded at run time). ``quicklook`` draws one file;
``process --quicklook`` calls ``write_quicklook`` after each CDF. The figure's
data are read back from the matplotlib artists and returned, so a test can
check that what is drawn is what the file holds.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from swxsoc_reach.errors import ConfigError, InputDataError
from swxsoc_reach.paths import quicklook_path

logger = logging.getLogger(__name__)

FIGURE_SIZE_IN = (11.0, 9.0)  # -> 1100 x 900 pixels at plots.DPI
DOSE_CMAP = "viridis"  # the image's and the map's colours, one log scale for both
EMPTY_COLOR = "white"  # an image cell without a sample (no colour of viridis)
IMAGE_COLUMNS = 720  # time bins of the image at most: ~1 px each in the figure's width
_FLAVOR = re.compile(r"\(Flavor (?P<name>[^)]+)\)")  # "DOSE1 (Flavor X) in rad/second" -> X
_VARIABLES = ("Epoch", "dose_rate", "dosimeter_flavors", "sensor_labels", "lat", "lon")


@dataclass(frozen=True)
class DayData:
    """The variables a quicklook needs, fill already turned into NaN."""

    name: str
    times: np.ndarray  # datetime64[ns], (T)
    dose_rate: np.ndarray  # rad/s, (T, S, F)
    flavors: np.ndarray  # obDescription per (S, F); "" or " " where a slot is empty
    sensor_labels: np.ndarray  # (S)
    lat: np.ndarray  # degrees, (T, S)
    lon: np.ndarray  # degrees, (T, S)


@dataclass(frozen=True)
class DoseImage:
    """The top panel of a several-sensor quicklook: one row per sensor, one column per
    time bin, each cell the highest rate any of the sensor's dosimeters had in it."""

    rows: tuple[str, ...]  # sensor labels, top to bottom
    values: np.ndarray  # rad/s, (S, B); NaN where the bin holds no sample of the sensor
    edges: np.ndarray  # datetime64[ns], (B + 1) the bins' edges
    rgba: np.ndarray  # (S, B, 4) the colours drawn, 0..1; empty cells transparent
    extent_px: tuple[float, float, float, float]  # left, top, right, bottom in the PNG


@dataclass(frozen=True)
class Quicklook:
    """What the figure shows, read back from its artists."""

    path: Path
    series: dict[str, list[tuple[np.ndarray, np.ndarray]]]  # flavor -> (times, dose) per line
    map_lon: np.ndarray
    map_lat: np.ndarray
    map_dose: np.ndarray
    image: DoseImage | None = None  # several sensors: the image drawn instead of lines


def read_day(cdf_path: Path) -> DayData:
    """Read the quicklook variables; a file that is not such a CDF is an ``InputDataError``."""
    import cdflib
    from cdflib.epochs import CDFepoch

    cdf_path = Path(cdf_path)
    if not cdf_path.is_file():
        raise ConfigError(f"{cdf_path}: no such file")
    try:
        cdf = cdflib.CDF(str(cdf_path))
    except (OSError, ValueError) as exc:  # cdflib says "Not a CDF file..." as OSError
        raise InputDataError(f"{cdf_path}: not a readable CDF ({exc})") from None
    present = set(cdf.cdf_info().zVariables)
    missing = [name for name in _VARIABLES if name not in present]
    if missing:
        raise InputDataError(f"{cdf_path}: not a REACH L1C CDF (no variable "
                             f"{', '.join(missing)})")
    epoch = np.asarray(cdf.varget("Epoch"), dtype=np.int64)
    return DayData(
        name=cdf_path.name,
        times=np.asarray(CDFepoch.to_datetime(epoch)).astype("datetime64[ns]"),
        dose_rate=_unfilled(cdf, "dose_rate"),
        flavors=np.atleast_2d(np.asarray(cdf.varget("dosimeter_flavors"), dtype=str)),
        sensor_labels=np.atleast_1d(np.asarray(cdf.varget("sensor_labels"), dtype=str)),
        lat=_unfilled(cdf, "lat"),
        lon=_unfilled(cdf, "lon"),
    )


def _unfilled(cdf: Any, name: str) -> np.ndarray:
    """A data variable as float with FILLVAL (and anything outside VALIDMIN..MAX) as NaN."""
    values = np.array(cdf.varget(name), dtype=float)
    attrs = cdf.varattsget(name)
    bad = values == float(attrs.get("FILLVAL", -1e31))
    if "VALIDMIN" in attrs and "VALIDMAX" in attrs:
        with np.errstate(invalid="ignore"):
            bad |= (values < float(attrs["VALIDMIN"])) | (values > float(attrs["VALIDMAX"]))
    values[bad] = np.nan
    return values


def flavor_name(description: str) -> str:
    """``DOSE1 (Flavor X) in rad/second`` -> ``X``; an unusual description is kept whole."""
    match = _FLAVOR.search(description)
    return match["name"] if match else description.strip()


def write_quicklook(cdf_path: Path, png_path: Path | None = None) -> Quicklook:
    """Draw ``cdf_path`` to ``png_path`` (default: ``paths.quicklook_path``, in the about tree);
    return what was drawn."""
    from swxsoc_reach.views import plots

    data = read_day(cdf_path)
    png_path = Path(png_path) if png_path is not None else quicklook_path(cdf_path)
    figure = plots.new_figure(FIGURE_SIZE_IN)
    top, bottom = figure.subplots(2, 1, height_ratios=(1, 1.15))
    highest = _highest_dose(data)
    norm = _log_norm(highest)
    several = len(data.sensor_labels) > 1
    series, image = {}, None
    if several:
        image = _draw_dose_image(figure, top, data, highest, norm)
    else:
        series = _draw_dose_rate(top, data)
    scatter = _draw_map(figure, bottom, data, highest, norm)
    start = np.datetime_as_string(data.times[0], unit="s") if len(data.times) else "-"
    sensors = f"{len(data.sensor_labels)} sensors" if several else data.sensor_labels[0]
    figure.suptitle(f"{data.name}\n{sensors}, {len(data.times):,} times from {start}Z")
    plots.save_png(figure, png_path)
    if image is not None:  # after saving: the constrained layout has placed the image
        image = _placed(figure, image)
    offsets = np.asarray(scatter.get_offsets())
    return Quicklook(png_path, series, offsets[:, 0].copy(), offsets[:, 1].copy(),
                     np.asarray(scatter.get_array()).copy(), image)


def write_quicklook_or_warn(cdf_path: Path, day: dt.date) -> Path | None:
    """``write_quicklook`` for ``process --quicklook``: the PNG, or None and a warning.

    The day's CDF is already written and recorded, so no plotting problem may fail it.
    """
    try:
        png = write_quicklook(cdf_path).path
    except Exception as exc:  # a by-product: the per-day boundary must not see it
        logger.warning("%s quicklook: not drawn for %s: %s: %s", day, Path(cdf_path).name,
                       type(exc).__name__, exc)
        logger.debug("%s quicklook: traceback", day, exc_info=True)
        return None
    logger.info("%s quicklook: %s", day, png)
    return png


def _draw_dose_rate(axes: Any, data: DayData) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """One line per dosimeter of the one sensor, one colour per flavor; log scale."""
    names = sorted({flavor_name(d) for d in data.flavors.ravel() if d.strip()})
    colors = {name: f"C{i % 10}" for i, name in enumerate(names)}
    labelled: set[str] = set()
    for s, f in np.ndindex(data.flavors.shape):
        description = data.flavors[s, f]
        if not description.strip():
            continue  # an empty slot of a sensor with fewer dosimeters
        name = flavor_name(description)
        positive = np.where(data.dose_rate[:, s, f] > 0, data.dose_rate[:, s, f], np.nan)
        axes.plot(data.times, positive, color=colors[name], linewidth=0.9, alpha=0.9, gid=name,
                  label=None if name in labelled else f"flavor {name}")
        labelled.add(name)
    axes.set_yscale("log")
    axes.set_ylabel("dose rate (rad/s)")
    axes.set_xlabel("UTC time")
    axes.grid(True, which="major", alpha=0.3)
    if labelled:
        handles, labels = axes.get_legend_handles_labels()
        ordered = sorted(zip(labels, handles, strict=True))  # flavors in name order
        axes.legend([h for _, h in ordered], [lb for lb, _ in ordered], loc="upper right",
                    fontsize="small", ncols=min(len(labelled), 6))
    _date_axis(axes)
    series: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for line in axes.get_lines():
        series.setdefault(line.get_gid(), []).append(
            (np.asarray(line.get_xdata()), np.asarray(line.get_ydata(), dtype=float)))
    return series


def _highest_dose(data: DayData) -> np.ndarray:
    """(T, S) the highest positive rate of each sensor's dosimeters; NaN where all are fill."""
    positive = np.where(data.dose_rate > 0, data.dose_rate, np.nan)
    return np.fmax.reduce(positive, axis=2)  # fmax skips NaN: NaN only where all are


def _log_norm(values: np.ndarray) -> Any:
    """One log colour scale over the day's finite rates, shared by the image and the map."""
    from matplotlib.colors import LogNorm

    finite = values[np.isfinite(values)]
    return LogNorm(finite.min(), finite.max()) if finite.size else LogNorm(1e-9, 1e-3)


def _time_bins(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each time's bin and the bins' edges: one bin per sample cadence, at most
    ``IMAGE_COLUMNS`` (a day's 17,280 times of 5 s in 720 bins of 2 min)."""
    ns = times.astype("datetime64[ns]").astype(np.int64)
    step = int(np.median(np.diff(ns))) if len(ns) > 1 else 10**9
    step = max(step, 1)
    start, stop = int(ns[0]), int(ns[-1]) + step
    bins = int(min(IMAGE_COLUMNS, max(1, round((stop - start) / step))))
    index = np.clip((ns - start) * bins // (stop - start), 0, bins - 1)
    edges = np.linspace(start, stop, bins + 1).astype(np.int64).astype("datetime64[ns]")
    return index, edges


def _draw_dose_image(figure: Any, axes: Any, data: DayData, highest: np.ndarray,
                     norm: Any) -> DoseImage:
    """Sensor x time image of ``highest``, each cell the highest of its bin."""
    from matplotlib import colormaps
    from matplotlib.dates import date2num

    rows = len(data.sensor_labels)
    if len(data.times):
        index, edges = _time_bins(data.times)
        values = np.full((edges.size - 1, rows), np.nan)
        np.fmax.at(values, index, highest)  # per bin; fmax keeps NaN out of filled bins
        values = values.T
    else:
        edges, values = np.array([0, 1], dtype="datetime64[ns]"), np.full((rows, 1), np.nan)
    cmap = colormaps[DOSE_CMAP].with_extremes(bad=(0, 0, 0, 0))  # empty: the background
    x0, x1 = date2num(edges[0]), date2num(edges[-1])
    image = axes.imshow(np.ma.masked_invalid(values), aspect="auto", interpolation="nearest",
                        cmap=cmap, norm=norm, extent=(x0, x1, rows - 0.5, -0.5))
    axes.set_facecolor(EMPTY_COLOR)
    axes.set_yticks(range(rows))
    axes.set_yticklabels(data.sensor_labels, fontsize=6 if rows > 16 else "small")
    axes.set_ylabel(f"sensor (empty: no sample; {_bin_text(edges)} bins)")
    axes.set_xlabel("UTC time")
    axes.xaxis_date()
    _date_axis(axes)
    figure.colorbar(image, ax=axes, label="dose rate, highest dosimeter (rad/s)",
                    fraction=0.046, pad=0.02)
    rgba = image.to_rgba(np.ma.masked_invalid(values))
    return DoseImage(tuple(str(label) for label in data.sensor_labels), values, edges, rgba,
                     (0.0, 0.0, 0.0, 0.0))


def _bin_text(edges: np.ndarray) -> str:
    seconds = float((edges[-1] - edges[0]) / np.timedelta64(1, "s")) / max(edges.size - 1, 1)
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def _placed(figure: Any, image: DoseImage) -> DoseImage:
    """``image`` with where the saved PNG holds it, in pixels from the top left."""
    from swxsoc_reach.views.plots import extent_px

    (axes_image,) = [artist for axes in figure.axes for artist in axes.get_images()]
    return replace(image, extent_px=extent_px(figure, axes_image))


def _date_axis(axes: Any) -> None:
    from swxsoc_reach.views.plots import date_axis

    date_axis(axes, minticks=4, maxticks=12)  # a day: more ticks than status's range


def _draw_map(figure: Any, axes: Any, data: DayData, highest: np.ndarray, norm: Any) -> Any:
    """Every (time, sensor) position coloured by the highest dose rate of its dosimeters."""
    keep = np.isfinite(highest) & np.isfinite(data.lat) & np.isfinite(data.lon)
    lon, lat, value = data.lon[keep], data.lat[keep], highest[keep]
    order = np.argsort(value, kind="stable")  # the highest rates drawn last, on top
    scatter = axes.scatter(lon[order], lat[order], c=value[order], s=2, cmap=DOSE_CMAP,
                           norm=norm, linewidths=0, rasterized=True)
    figure.colorbar(scatter, ax=axes, label="dose rate, highest dosimeter (rad/s)",
                    fraction=0.046, pad=0.02)
    axes.set_xlim(-180, 180)
    axes.set_ylim(-90, 90)
    axes.set_xticks(np.arange(-180, 181, 30))
    axes.set_yticks(np.arange(-90, 91, 30))
    axes.set_xlabel("geodetic longitude (degrees east)")
    axes.set_ylabel("geodetic latitude (degrees north)")
    axes.set_aspect("equal")
    axes.grid(True, alpha=0.4)
    return scatter
