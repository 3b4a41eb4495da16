"""Stand-in for ``sdc_aws_utils.config.parser``: a science file name -> its parts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def parser(filename: str) -> dict[str, Any]:
    """Split ``<instrument>_<mode>_<level>_<descriptor>_<time>_v<version>.cdf``.

    ``time`` has a ``.value`` like the astropy Time the real parser returns.
    """
    instrument, mode, level, descriptor, time, version = Path(filename).stem.split("_")
    start = dt.datetime.strptime(time, "%Y%m%dT%H%M%S")
    return {"instrument": instrument, "mode": mode, "level": level, "descriptor": descriptor,
            "time": SimpleNamespace(value=start), "version": version.removeprefix("v")}
