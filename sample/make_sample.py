"""Regenerate the bundled sample: three UTC days of one REACH sensor as Phase 1 artifacts.

``config/range.yaml`` runs the workflow over these days and the tests use them as
real input. The data come from ``swxsoc_reach.synthetic`` (deterministic), so this
script rewrites byte-identical files. Whole days are kept (a day is the unit of
every phase); 90 % of the 5-second samples are dropped as gaps so the three files
stay near 1.6 MB each instead of 16 MB.

    python sample/make_sample.py [--output-dir sample/raw]
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from swxsoc_reach.days import iter_days
from swxsoc_reach.synthetic import SyntheticOptions, write_artifact

SENSOR_ID = "REACH-135"
FIRST_DAY = dt.date(2025, 9, 3)
LAST_DAY = dt.date(2025, 9, 5)
OPTIONS = SyntheticOptions(seed=2025, sensor_id=SENSOR_ID, gap_fraction=0.9)


def main() -> None:
    """Write the sample artifacts (Phase 1 names) into the output directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=Path(__file__).parent / "raw")
    args = parser.parse_args()
    for day in iter_days(FIRST_DAY, LAST_DAY):
        path = write_artifact(args.output_dir, day, OPTIONS)
        print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
