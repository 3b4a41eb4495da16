"""Where every file of the pipeline lives: artifact, CDF and S3 key names from the specs.

- Artifact (historical-download.md): ``{prefix}_{start}_{end}.{fmt}``, prefix
  ``REACH-ALL`` or the sensor id, times ``%Y%m%dT%H%M%S``; ``.zst`` appended when
  written zstd-compressed (``download --artifact-compression zstd``, issue 11.2).
- CDF (l1c-cdf.md): ``reach_{mode}_l1c_prelim_{YYYYMMDDThhmmss}_v{X.Y.Z}.cdf``,
  placed at ``l1c/prelim/YYYY/MM/DD/<name>`` locally and as the S3 key. That archive
  tree holds only CDFs (issue 17.6): what is written about a CDF (its product summary,
  its quicklook) lives in the about tree beside it, ``about/l1c/prelim/YYYY/MM/DD/``,
  and upload receipts under ``process --receipt-dir``.

Kept free of heavy imports: the workflow's target helper calls it in every job.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable
from pathlib import Path

from swxsoc_reach.days import day_window
from swxsoc_reach.errors import ConfigError
from swxsoc_reach.mission import ALL_SENSORS

TIME_FORMAT = "%Y%m%dT%H%M%S"
ARTIFACT_FORMATS = ("csv", "json")
ARTIFACT_COMPRESSIONS = ("none", "zstd")
_COMPRESSED_SUFFIX = {"none": "", "zstd": ".zst"}
DEFAULT_DATA_VERSION = "1.0.0"
CDF_LEVEL_DIR = ("l1c", "prelim")
ABOUT_DIR = "about"  # beside the archive tree l1c/: summaries and quicklooks of its CDFs
SUMMARY_SUFFIX = ".summary.json"
QUICKLOOK_SUFFIX = ".quicklook.png"
# what versions before issue 17 wrote beside the CDF instead: <stem>.json, <stem>.png
LEGACY_SUFFIXES = {SUMMARY_SUFFIX: ".json", QUICKLOOK_SUFFIX: ".png"}
_DATA_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_CDF_NAME = re.compile(
    r"^reach_(?P<mode>all|\d+)_l1c_prelim_(?P<time>\d{8}T\d{6})_v(?P<version>\d+\.\d+\.\d+)\.cdf$"
)


def artifact_prefix(sensor_id: str) -> str:
    """``REACH-ALL`` for all sensors, else the sensor id itself."""
    return "REACH-ALL" if sensor_id == ALL_SENSORS else sensor_id


def artifact_name(day: dt.date, sensor_id: str, output_format: str,
                  compression: str = "none") -> str:
    """The Phase 1 artifact name of one UTC day (``.zst`` appended for ``zstd``)."""
    start, end = day_window(day)
    prefix = artifact_prefix(sensor_id)
    suffix = _COMPRESSED_SUFFIX[compression]
    return f"{prefix}_{start:{TIME_FORMAT}}_{end:{TIME_FORMAT}}.{output_format}{suffix}"


def artifact_compression(path: Path | str) -> str:
    """``zstd`` for an artifact whose name ends ``.zst``, else ``none``."""
    return "zstd" if str(path).endswith(_COMPRESSED_SUFFIX["zstd"]) else "none"


def artifact_format(path: Path | str) -> str:
    """An artifact's format from its name, whatever its compression (``x.csv.zst`` -> csv)."""
    name = Path(path).name.removesuffix(_COMPRESSED_SUFFIX["zstd"])
    return name.rpartition(".")[2]


def find_artifact(input_dir: Path, day: dt.date, sensor_id: str, output_format: str,
                  downloaded: str | None = None) -> Path | None:
    """Find the day's artifact in ``input_dir`` by the download naming pattern.

    The exact Phase 1 name is preferred, plain or compressed; any other file
    starting at the day's midnight (a hand-made or older artifact) is accepted as
    a fallback. When a day has both forms (re-downloaded with another
    ``--artifact-compression``), the one named by ``downloaded`` (the ``csv_path``
    of the day's latest DOWNLOADED row) wins, else the plain one.
    """
    directory = Path(input_dir)
    names = [artifact_name(day, sensor_id, output_format, c) for c in ARTIFACT_COMPRESSIONS]
    if downloaded and Path(downloaded).name in names:
        names.insert(0, Path(downloaded).name)
    for name in names:
        if (directory / name).is_file():
            return directory / name
    start, _ = day_window(day)
    for compression in ARTIFACT_COMPRESSIONS:
        pattern = (f"{artifact_prefix(sensor_id)}_{start:{TIME_FORMAT}}_*.{output_format}"
                   f"{_COMPRESSED_SUFFIX[compression]}")
        matches = sorted(p for p in directory.glob(pattern) if p.is_file())
        if matches:
            return matches[0]
    return None


def instrument_mode(sensor_id: str) -> str:
    """``all`` for every sensor, else the sensor's number (``REACH-135`` -> ``135``)."""
    return "all" if sensor_id == ALL_SENSORS else sensor_id.split("-", 1)[1]


def cdf_name(start: dt.datetime, sensor_id: str, data_version: str = DEFAULT_DATA_VERSION) -> str:
    """The L1C CDF file name for a product starting at ``start``."""
    mode = instrument_mode(sensor_id)
    return f"reach_{mode}_l1c_prelim_{start:{TIME_FORMAT}}_v{data_version}.cdf"


def check_data_version(data_version: str) -> str:
    """Return ``data_version`` if it is ``X.Y.Z`` (it goes into names and keys), else raise
    ``ConfigError``."""
    if not _DATA_VERSION.match(data_version):
        raise ConfigError(f"data version {data_version!r} is not of the form X.Y.Z "
                          "(e.g. 1.1.0)")
    return data_version


def cdf_data_version(name: str) -> str | None:
    """The ``X.Y.Z`` of an L1C CDF name (or path), None if it is not one."""
    # os.path, not Path: status asks this of every day of a decade (~5x cheaper)
    match = _CDF_NAME.match(os.path.basename(name))
    return match["version"] if match else None


def version_order(version: str) -> tuple[int, ...]:
    """``X.Y.Z`` as numbers, for ordering (``1.0.10`` after ``1.0.9``)."""
    return tuple(int(part) for part in version.split("."))


def newest_revisions(paths: Iterable[Path | str]) -> list[Path]:
    """Of L1C CDFs, the newest version of each product and start time, in time order.

    A range whose days mix revisions (``X.Y.Z`` and the ``X.Y.(Z+1)`` a refresh made,
    archive-sync.md) is read as one dataset from these, as pyspedas' ``last_version``
    picks among the files it downloads. Names that are not L1C CDF names are left out.
    """
    best: dict[tuple[str, str], tuple[tuple[int, ...], Path]] = {}
    for path in map(Path, paths):
        match = _CDF_NAME.match(path.name)
        if match is None:
            continue
        key, order = (match["mode"], match["time"]), version_order(match["version"])
        if key not in best or order > best[key][0]:
            best[key] = (order, path)
    return [best[key][1] for key in sorted(best, key=lambda key: (key[1], key[0]))]


def cdf_relpath(name: str) -> str:
    """``l1c/prelim/YYYY/MM/DD/<name>``, the date taken from the name (also the S3 key)."""
    match = _CDF_NAME.match(name)
    if match is None:
        raise ValueError(f"{name!r} is not an L1C CDF name (reach_<mode>_l1c_prelim_...)")
    time = match["time"]
    return "/".join((*CDF_LEVEL_DIR, time[0:4], time[4:6], time[6:8], name))


def day_cdf_path(
    output_dir: Path, day: dt.date, sensor_id: str, data_version: str = DEFAULT_DATA_VERSION
) -> Path:
    """Where the orchestrators put the CDF of one UTC day (named by the day's start)."""
    start, _ = day_window(day)
    return Path(output_dir) / cdf_relpath(cdf_name(start, sensor_id, data_version))


def upload_receipt_path(receipt_dir: Path, name: str) -> Path:
    """Where ``process --receipt-dir`` records a CDF's confirmed upload: ``<dir>/<place>.json``.

    The place is the CDF's relative path (also its S3 key), so the workflow can name
    a day's receipt before the upload happens.
    """
    return Path(receipt_dir) / (cdf_relpath(name) + ".json")


def summary_path(cdf_path: Path | str) -> Path:
    """Where a CDF's product summary lives (``cdf.summary``): ``<stem>.summary.json`` in the
    about tree (``about_path``)."""
    return Path(about_path(str(cdf_path), SUMMARY_SUFFIX))


def quicklook_path(cdf_path: Path | str) -> Path:
    """Where ``process --quicklook`` and ``quicklook`` put a CDF's PNG:
    ``<stem>.quicklook.png`` in the about tree (``about_path``)."""
    return Path(about_path(str(cdf_path), QUICKLOOK_SUFFIX))


def about_path(cdf_path: str, suffix: str) -> str:
    """``<root>/about/l1c/prelim/YYYY/MM/DD/<stem><suffix>`` for a CDF at its archive place
    ``<root>/l1c/prelim/YYYY/MM/DD/<name>``; beside any other CDF (a file handed to
    ``quicklook``, which is no archive).

    On strings: ``status`` resolves one for every day of a decade.
    """
    head, name = os.path.split(cdf_path)
    stem = name[:-4] if name.endswith(".cdf") else name
    match = _CDF_NAME.match(name)
    if match is not None:
        time = match["time"]
        place = "/".join((*CDF_LEVEL_DIR, time[0:4], time[4:6], time[6:8]))
        if head == place or head.endswith("/" + place):
            return f"{head[:len(head) - len(place)]}{ABOUT_DIR}/{place}/{stem}{suffix}"
    return os.path.join(head, stem + suffix)


def legacy_about_path(cdf_path: Path | str, suffix: str) -> Path:
    """Where a version before issue 17 put that file: beside the CDF, in the archive tree
    (``<stem>.json``, ``<stem>.png``). Still read; ``process`` moves it (``phases.abouttree``)."""
    path = Path(cdf_path)
    return path.with_name(path.stem + LEGACY_SUFFIXES[suffix])


def find_about_file(cdf_path: Path | str, suffix: str) -> Path | None:
    """A CDF's summary or quicklook on disk: in the about tree, else where a version before
    issue 17 put it (beside the CDF); None when neither is there."""
    for path in (Path(about_path(str(cdf_path), suffix)), legacy_about_path(cdf_path, suffix)):
        if path.is_file():
            return path
    return None
