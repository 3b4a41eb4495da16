"""The disk a day's download and process take at their peak: what the pre-check asks for.

Measured with ``benchmarks/day_disk.py`` (issue 19.3): one full synthetic day
through the real ``download`` (from the local UDL server) and ``process
--quicklook``, the bytes allocated under the output directory sampled every
millisecond or two. Neither stage writes to the temporary directory
(``tempfile.gettempdir()``): spools and the artifact's temporary copy live in a
private directory beside the artifact (``udl/artifact.py``), the CDF's scratch
file beside the CDF (``cdf/write.py``), so only the output directory is checked.

- download: the page spools stay until the artifact is published, so the peak is
  the day's bytes twice (2.00-2.01 x the artifact in every case measured);
- process: the CDF, its summary JSON and its quicklook PNG (1.03 x the CDF for
  ``ALL``, 1.38 x for one sensor: the PNG weighs more beside a small CDF).

Each need is the measured figure times ``MARGIN``: a real UDL day may have larger
records, more duplicates or compress worse than a synthetic one. The benchmark
prints need / peak for every case (1.0 to 1.5 is the target; 1.25-1.29 measured).
Two days at once (``--jobs 2``: one downloading, one processing) each check only
their own need.
"""

from __future__ import annotations

from swxsoc_reach.mission import ALL_SENSORS, expected_records

MIB = 1024 * 1024
MARGIN = 1.25  # on every measured figure below
# Bytes per record of a full synthetic day's artifact, for one sensor (REACH-135, 34,560
# records) and for ALL (1,105,920): zstd packs ALL's mixed sensors a little worse.
ARTIFACT_BYTES_PER_RECORD = {  # (format, compression): (one sensor, ALL)
    ("csv", "none"): (514.0, 513.8),
    ("csv", "zstd"): (49.8, 57.1),
    ("json", "none"): (784.9, 784.8),
    ("json", "zstd"): (50.4, 60.5),
}
SPOOL_COPIES = 2  # at the download's peak: every page's spool and the artifact made of them
# process --quicklook: the peak over the output directory is close to a line in the
# records read (ALL 1,105,920 records: 23.29 MiB; REACH-135 34,560: 1.19 MiB): 21.6 B a
# record (the CDF, gzip level 1) plus 0.48 MiB (the PNG, the summary, the CDF's header).
PRODUCT_BYTES_PER_RECORD = 22
PRODUCT_FIXED = MIB // 2


def download_need(sensor_id: str, output_format: str, compression: str) -> int:
    """Free bytes a full day's download of ``sensor_id`` needs in its output directory."""
    one, every = ARTIFACT_BYTES_PER_RECORD[(output_format, compression)]
    per_record = every if sensor_id == ALL_SENSORS else one
    return int(MARGIN * SPOOL_COPIES * expected_records(sensor_id) * per_record)


def process_need(records: int) -> int:
    """Free bytes ``process`` needs in its output directory for a day of ``records``."""
    return int(MARGIN * (records * PRODUCT_BYTES_PER_RECORD + PRODUCT_FIXED))


def records_in(size_bytes: int, output_format: str, compression: str) -> int:
    """About how many records an artifact of ``size_bytes`` holds, for a day without a
    DOWNLOADED row to say (an artifact copied in): by the fewest bytes per record
    measured for its form, so the estimate errs towards more (by up to 15 %)."""
    measured = ARTIFACT_BYTES_PER_RECORD.get((output_format, compression))
    smallest = min(measured or [low for pair in ARTIFACT_BYTES_PER_RECORD.values()
                                for low in pair])  # a form not measured: err high
    return int(size_bytes // smallest)
