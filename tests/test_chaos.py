"""Chaos: ``download`` + ``process --upload-to-s3`` (local UDL server, moto S3) SIGKILLed
with its process group at random instants (a seeded RNG over telemetry rows and delays,
every stage hit, the upload included), each kill followed by the same command: every
day ends as in an uninterrupted run (tests/chaos.py says what is compared). The same for
the workflow: tests/workflow/test_workflow_kill.py. More kill points:
benchmarks/chaos_kills.py."""

from __future__ import annotations

import datetime as dt
import random

from chaos import (
    ROWS_PER_DAY,
    SENSOR,
    KillLog,
    assert_same_objects,
    assert_settled,
    cli_command,
    day_cdfs,
    run_campaign,
    small_days,
)
from results import assert_same_cdf

from swxsoc_reach.paths import day_cdf_path

DAYS = [dt.date(2026, 6, 1) + dt.timedelta(days=i) for i in range(3)]
SEED = 9
KILL_POINTS, KILLS, MAX_CAMPAIGNS = 30, 5, 12  # campaigns of up to 5 kills, to 30 in all


def test_chaos_cli_kill9_anywhere_then_rerun_ends_as_an_uninterrupted_run(
        udl_server, s3_server, tmp_path) -> None:
    udl_server.configure(small_days())
    env = s3_server.environ()
    s3 = s3_server.client()
    clean = tmp_path / "clean"
    done = run_campaign(cli_command(clean, DAYS, udl_server.url, None), tmp_path, env,
                        clean / "raw" / "download_telemetry.csv", random.Random(SEED), 0,
                        0, KillLog())
    assert done.returncode == 0, done.stderr

    rng, log = random.Random(SEED), KillLog()
    campaigns = 0
    while log.kills < KILL_POINTS:
        campaign, campaigns = campaigns, campaigns + 1
        assert campaigns <= MAX_CAMPAIGNS, log.describe()
        root, bucket = tmp_path / f"c{campaign}", f"chaos-{campaign}"
        s3.create_bucket(Bucket=bucket)
        telemetry = root / "raw" / "download_telemetry.csv"
        final = run_campaign(cli_command(root, DAYS, udl_server.url, bucket), tmp_path, env,
                             telemetry, rng, min(KILLS, KILL_POINTS - log.kills),
                             ROWS_PER_DAY * len(DAYS), log)
        assert final.returncode == 0, final.stdout + final.stderr
        assert_settled(telemetry, [d.isoformat() for d in DAYS], [root])
        for day in DAYS:
            assert_same_cdf(day_cdf_path(root / "cdf", day, SENSOR),
                            day_cdf_path(clean / "cdf", day, SENSOR))
        assert_same_objects(s3, bucket, day_cdfs(root / "cdf", DAYS))
    print(f"CLI chaos: {campaigns} campaigns, {log.describe()}")
    assert {"download", "process", "upload"} <= set(log.stages), log.describe()
