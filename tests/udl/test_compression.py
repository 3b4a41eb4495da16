"""Compressed artifacts (``download --artifact-compression zstd``, issue 11.2): the day's
CDF from a ``.zst`` artifact equals the one from the plain artifact, a merge killed with
``kill -9`` leaves no artifact under its final name, and the resume rules treat either
form as the day's artifact (historical-download.md "Resume rules")."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import cdflib
import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

from swxsoc_reach.cli import main
from swxsoc_reach.paths import artifact_name, day_cdf_path, find_artifact
from swxsoc_reach.synthetic import SyntheticOptions
from swxsoc_reach.targets import WorkflowConfig, plan_workflow
from swxsoc_reach.telemetry.schema import Status
from swxsoc_reach.telemetry.store import TelemetryStore

SENSOR = "REACH-135"
DAY = dt.date(2026, 1, 1)
DATA = SyntheticOptions(sensor_id=SENSOR, fractional_seconds=True, duplicate_fraction=0.05,
                        extra_keys=True)


def download(server, raw: Path, *extra: str) -> int:
    return main(["download", "--start-date", DAY.isoformat(), "--end-date", DAY.isoformat(),
                 "--sensor-id", SENSOR, "--output-dir", str(raw), "--udl-url", server.url,
                 "--initial-rate", "50", "--max-rate", "200", "-q", *extra])


def process(raw: Path, out: Path, *extra: str) -> int:
    return main(["process", "--start-date", DAY.isoformat(), "--end-date", DAY.isoformat(),
                 "--sensor-id", SENSOR, "--input-dir", str(raw), "--output-dir", str(out),
                 "-q", *extra])


def requests(server) -> int:
    return server.stats()["counters"].get("requests", 0)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_zstd_artifact_round_trips_to_the_same_cdf(udl_server, tmp_path, fmt) -> None:
    udl_server.configure(data=DATA)
    plain, packed = tmp_path / "plain", tmp_path / "zstd"
    assert download(udl_server, plain / "raw", "--output-format", fmt) == 0
    assert download(udl_server, packed / "raw", "--output-format", fmt,
                    "--artifact-compression", "zstd") == 0
    name = artifact_name(DAY, SENSOR, fmt)
    small = packed / "raw" / f"{name}.zst"
    assert small.is_file() and not (packed / "raw" / name).exists()
    with pa.CompressedInputStream(pa.OSFile(str(small)), "zstd") as stream:
        assert stream.read() == (plain / "raw" / name).read_bytes()  # the same bytes
    assert small.stat().st_size < 0.2 * (plain / "raw" / name).stat().st_size
    row = TelemetryStore(packed / "raw" / "download_telemetry.csv").read()[-1]
    assert row.status is Status.DOWNLOADED and row.csv_path == str(small.resolve())
    assert float(row.csv_size_mb) == pytest.approx(small.stat().st_size / 2**20, abs=0.001)

    for place in (plain, packed):
        assert process(place / "raw", place / "cdf", "--output-format", fmt) == 0
    cdfs = [cdflib.CDF(str(day_cdf_path(p / "cdf", DAY, SENSOR))) for p in (plain, packed)]
    names = cdfs[0].cdf_info().zVariables
    assert names == cdfs[1].cdf_info().zVariables and "Epoch" in names
    for variable in names:
        np.testing.assert_array_equal(cdfs[0].varget(variable), cdfs[1].varget(variable))
    processed = TelemetryStore(packed / "raw" / "download_telemetry.csv").read()[-1]
    assert processed.status is Status.PROCESSED and processed.csv_path == str(small.resolve())


def test_zstd_download_keeps_the_resume_rules(udl_server, tmp_path) -> None:
    udl_server.configure(data=SyntheticOptions(sensor_id=SENSOR))
    raw = tmp_path / "raw"
    packed = raw / f"{artifact_name(DAY, SENSOR, 'csv')}.zst"
    assert download(udl_server, raw, "--artifact-compression", "zstd") == 0
    udl_server.reset_stats()
    # DOWNLOADED and on disk: skipped, compressed or not asked for
    assert download(udl_server, raw, "--artifact-compression", "zstd") == 0
    assert download(udl_server, raw) == 0
    assert requests(udl_server) == 0
    packed.unlink()  # DOWNLOADED but gone: downloaded again
    assert download(udl_server, raw, "--artifact-compression", "zstd") == 0
    assert requests(udl_server) > 0 and packed.is_file()
    statuses = [r.status for r in TelemetryStore(raw / "download_telemetry.csv").read()]
    assert statuses == [Status.DOWNLOAD_PENDING, Status.DOWNLOADED] * 2


def test_find_artifact_with_both_forms_takes_the_downloaded_one_else_plain(tmp_path) -> None:
    plain = tmp_path / artifact_name(DAY, SENSOR, "csv")
    packed = tmp_path / f"{plain.name}.zst"
    packed.touch()
    assert find_artifact(tmp_path, DAY, SENSOR, "csv") == packed  # the only one
    plain.touch()
    assert find_artifact(tmp_path, DAY, SENSOR, "csv") == plain
    assert find_artifact(tmp_path, DAY, SENSOR, "csv", str(packed.resolve())) == packed
    assert find_artifact(tmp_path, DAY, SENSOR, "csv", "/elsewhere/other.csv") == plain
    assert find_artifact(tmp_path, DAY, SENSOR, "json") is None


def test_process_picks_the_form_the_latest_download_wrote(udl_server, tmp_path) -> None:
    udl_server.configure(data=SyntheticOptions(sensor_id=SENSOR))
    raw = tmp_path / "raw"
    assert download(udl_server, raw, "--artifact-compression", "zstd") == 0
    plain = raw / artifact_name(DAY, SENSOR, "csv")
    plain.write_text("not,an\nartifact,at all\n")  # a stray plain file beside it
    assert process(raw, tmp_path / "cdf") == 0
    row = TelemetryStore(raw / "download_telemetry.csv").read()[-1]
    assert row.status is Status.PROCESSED and row.csv_path.endswith(".csv.zst")


KILLED_MERGE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import orjson
    from swxsoc_reach.synthetic import SyntheticOptions, iter_records
    from swxsoc_reach.udl import artifact
    from swxsoc_reach.udl.artifact import DaySpool
    from swxsoc_reach.udl.chunks import Window
    import datetime as dt

    final = Path(sys.argv[1])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    window = Window(start, start + dt.timedelta(hours=1))
    records = list(iter_records(start.date(), SyntheticOptions(sensor_id="REACH-135"),
                                start=window.start, end=window.end))
    copy = artifact.copy_file

    def copy_then_hang(source, target):
        copy(source, target)
        print("merging", flush=True)
        time.sleep(60)

    artifact.copy_file = copy_then_hang
    with DaySpool(final, "csv", compression="zstd") as spool:
        spool.add_page(orjson.dumps(records), window, 0, 0)
        spool.merge()
""")


def test_kill9_mid_merge_leaves_no_compressed_artifact_and_a_rerun_cleans_up(
        tmp_path) -> None:
    final = tmp_path / f"{artifact_name(DAY, SENSOR, 'csv')}.zst"
    with subprocess.Popen([sys.executable, "-c", KILLED_MERGE, str(final)],
                          stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == "merging\n"
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(timeout=30)
    assert not final.exists()
    left = sorted(p.name for p in tmp_path.iterdir())
    spools = [name for name in left if name.startswith(f".{final.name}.spool-")]
    assert len(spools) == 1 and any((tmp_path / spools[0]).glob("artifact"))  # half-written
    subprocess.run([sys.executable, "-c", KILLED_MERGE.replace("time.sleep(60)", "pass"),
                    str(final)], check=True, stdout=subprocess.DEVNULL, timeout=120)
    assert [p.name for p in tmp_path.iterdir() if p.name != ".locks"] == [final.name]
    table = pa_csv.read_csv(final)  # pyarrow reads the zstd stream by its name
    assert table.num_rows == 2 * 720 and "id" in table.column_names
    assert json.loads(table.column("senPos")[0].as_py())  # nested cells stay JSON text


def test_workflow_asks_for_and_finds_compressed_artifacts(tmp_path) -> None:
    """The workflow key ``artifact_compression`` names the download rule's output and
    its flag; planning finds a day's ``.zst`` artifact by the same day pattern."""
    config = WorkflowConfig.from_config({
        "start_date": DAY.isoformat(), "end_date": DAY.isoformat(), "data_dir": "data",
        "input_dir": "raw", "output_dir": ".", "telemetry_file": None, "sensor_id": SENSOR,
        "descriptor": "QUICKLOOK", "output_format": "csv", "retry_failed": False,
        "limit_days": None, "download": True, "udl_url": None, "upload_to_s3": False,
        "s3_bucket": None, "aws_region": None, "artifact_compression": "zstd",
        "window_minutes": 5}, base=tmp_path)
    assert config.artifact(DAY) == f"raw/{artifact_name(DAY, SENSOR, 'csv')}.zst"
    assert "--artifact-compression zstd --window-minutes 5" in config.download_flags()
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / f"{artifact_name(DAY, SENSOR, 'csv')}.zst").touch()
    (target,) = plan_workflow(config).days.values()
    assert not target.download and target.artifact == config.artifact(DAY)
