"""The resume tables of both specs, one parametrize row per table row."""

from __future__ import annotations

import pytest

from swxsoc_reach.telemetry.resume import (
    DayFacts,
    DownloadAction,
    ProcessAction,
    decide_download,
    decide_process,
)
from swxsoc_reach.telemetry.schema import STATUS_STAGE, Row, Stage, Status

D = DownloadAction
P = ProcessAction


def _row(status: Status, *, stage: Stage | None = None, cdf_path: str = "") -> Row:
    return Row(chunk_date_utc="2026-01-01", status=status, cdf_path=cdf_path,
               stage=stage or STATUS_STAGE.get(status))


# historical-download.md "Resume rules" (+ a Phase 2 latest row with the artifact present)
@pytest.mark.parametrize(
    ("latest", "artifact", "retry", "expected"),
    [
        (None, False, False, D.DOWNLOAD),
        (_row(Status.DOWNLOADED), True, False, D.SKIP_COMPLETE),
        (_row(Status.DOWNLOADED), False, False, D.DOWNLOAD),
        (_row(Status.SKIPPED_NO_DATA), False, False, D.SKIP_NO_DATA),
        (_row(Status.SKIPPED_NO_DATA), False, True, D.SKIP_NO_DATA),
        (_row(Status.FAILED, stage=Stage.DOWNLOAD), False, False, D.SKIP_FAILED),
        (_row(Status.FAILED, stage=Stage.DOWNLOAD), False, True, D.DOWNLOAD),
        (_row(Status.DOWNLOAD_PENDING), False, False, D.DOWNLOAD),
        (_row(Status.DOWNLOAD_PENDING), True, False, D.DOWNLOAD),
    ],
)
def test_resume_download_table(latest, artifact, retry, expected) -> None:
    assert decide_download(latest, latest, artifact_exists=artifact, retry_failed=retry) is expected


@pytest.mark.parametrize("status", [Status.PROCESSED, Status.UPLOADED, Status.FAILED,
                                    Status.SKIPPED_NO_INPUT, Status.PROCESS_PENDING])
def test_resume_download_skips_day_with_phase2_row_while_artifact_exists(status) -> None:
    latest = _row(status, stage=Stage.PROCESS)
    downloaded = _row(Status.DOWNLOADED)
    assert decide_download(latest, downloaded, artifact_exists=True,
                           retry_failed=False) is D.SKIP_COMPLETE
    # artifact gone: the Phase 1 row decides (DOWNLOADED without file -> download again)
    assert decide_download(latest, downloaded, artifact_exists=False,
                           retry_failed=False) is D.DOWNLOAD


def test_resume_download_keeps_phase1_failure_behind_a_phase2_row() -> None:
    latest = _row(Status.SKIPPED_NO_INPUT)
    failed = _row(Status.FAILED, stage=Stage.DOWNLOAD)
    assert decide_download(latest, failed, artifact_exists=False,
                           retry_failed=False) is D.SKIP_FAILED


# historical-process.rst "Restart semantics"
@pytest.mark.parametrize(
    ("latest", "cdf", "artifact", "upload", "retry", "expected"),
    [
        (None, False, True, False, False, P.PROCESS),
        (None, False, True, True, False, P.PROCESS_AND_UPLOAD),
        (None, False, False, False, False, P.NO_INPUT),
        (_row(Status.UPLOADED), True, True, True, False, P.SKIP_COMPLETE),
        (_row(Status.UPLOADED), False, True, False, False, P.SKIP_COMPLETE),
        (_row(Status.PROCESSED), True, True, True, False, P.UPLOAD_ONLY),
        (_row(Status.PROCESSED), True, True, False, False, P.SKIP_COMPLETE),
        (_row(Status.PROCESSED), False, True, False, False, P.PROCESS),
        (_row(Status.PROCESSED), False, True, True, False, P.PROCESS_AND_UPLOAD),
        (_row(Status.UPLOAD_PENDING), True, True, True, False, P.UPLOAD_ONLY),
        (_row(Status.UPLOAD_PENDING), False, True, True, False, P.PROCESS_AND_UPLOAD),
        (_row(Status.UPLOAD_PENDING), True, True, False, False, P.SKIP_COMPLETE),
        (_row(Status.UPLOAD_PENDING), False, True, False, False, P.PROCESS),
        (_row(Status.PROCESS_PENDING), True, True, False, False, P.PROCESS),
        (_row(Status.PROCESS_PENDING), False, True, True, False, P.PROCESS_AND_UPLOAD),
        (_row(Status.FAILED, stage=Stage.PROCESS), False, True, False, False, P.SKIP_FAILED),
        (_row(Status.FAILED, stage=Stage.PROCESS), False, True, False, True, P.PROCESS),
        (_row(Status.FAILED, stage=Stage.PROCESS, cdf_path="/x.cdf"), True, True, True, True,
         P.UPLOAD_ONLY),
        (_row(Status.FAILED, stage=Stage.PROCESS, cdf_path="/x.cdf"), False, True, True, True,
         P.PROCESS_AND_UPLOAD),
        (_row(Status.FAILED, stage=Stage.PROCESS, cdf_path="/x.cdf"), True, True, False, True,
         P.SKIP_COMPLETE),
        (_row(Status.SKIPPED_NO_INPUT), False, False, False, False, P.NO_INPUT),
        (_row(Status.SKIPPED_NO_INPUT), False, True, False, False, P.PROCESS),
        (_row(Status.DOWNLOADED), False, True, False, False, P.PROCESS),
        (_row(Status.DOWNLOADED), True, True, False, False, P.PROCESS),
        (_row(Status.DOWNLOAD_PENDING), False, True, False, False, P.PROCESS),
        (_row(Status.SKIPPED_NO_DATA), False, False, False, False, P.NO_INPUT),
        (_row(Status.FAILED, stage=Stage.DOWNLOAD), False, True, False, False, P.PROCESS),
    ],
)
def test_resume_process_table(latest, cdf, artifact, upload, retry, expected) -> None:
    facts = DayFacts(artifact_exists=artifact, cdf_exists=cdf)
    assert decide_process(latest, facts, upload=upload, retry_failed=retry) is expected


@pytest.mark.parametrize("action", list(P))
def test_resume_process_action_counts_as_work_unless_skip(action) -> None:
    assert action.is_work is (action not in (P.SKIP_COMPLETE, P.SKIP_FAILED))
