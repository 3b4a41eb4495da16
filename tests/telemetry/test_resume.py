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
        (_row(Status.DOWNLOADED), False, False, D.REDOWNLOAD),
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
    # artifact gone, product not made: the Phase 1 row decides (DOWNLOADED without file
    # -> download again)
    assert decide_download(latest, downloaded, artifact_exists=False,
                           retry_failed=False) is D.REDOWNLOAD
    # artifact gone after the product was made: it was a cache (issue 17.2)
    assert decide_download(latest, downloaded, artifact_exists=False, retry_failed=False,
                           product_exists=True) is D.SKIP_PRODUCT


@pytest.mark.parametrize("latest_download", [_row(Status.DOWNLOADED), None])
def test_resume_download_never_fetches_a_day_whose_product_exists(latest_download) -> None:
    assert decide_download(_row(Status.UPLOADED), latest_download, artifact_exists=False,
                           retry_failed=True, product_exists=True) is D.SKIP_PRODUCT


@pytest.mark.parametrize(("latest_download", "retry", "expected"), [
    (_row(Status.DOWNLOAD_PENDING), False, D.DOWNLOAD),  # a refresh killed mid-way: resumed
    (_row(Status.FAILED, stage=Stage.DOWNLOAD), False, D.SKIP_FAILED),  # a refresh failed
    (_row(Status.FAILED, stage=Stage.DOWNLOAD), True, D.DOWNLOAD),
])
def test_resume_download_resumes_an_interrupted_or_failed_refresh(latest_download, retry,
                                                                  expected) -> None:
    """A day whose product exists and whose latest download did not end (a refresh, killed
    or failed) is resumed or waits for --retry-failed: never taken as complete."""
    for artifact in (True, False):  # the old artifact stays until the new one is complete
        assert decide_download(latest_download, latest_download, artifact_exists=artifact,
                               retry_failed=retry, product_exists=True) is expected


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
        # recorded once; a rerun while the input is still absent writes no new row
        (_row(Status.SKIPPED_NO_INPUT), False, False, False, False, P.SKIP_NO_INPUT),
        (_row(Status.SKIPPED_NO_INPUT), False, True, False, False, P.PROCESS),
        (_row(Status.DOWNLOADED), False, True, False, False, P.PROCESS),
        (_row(Status.DOWNLOADED), True, True, False, False, P.PROCESS),
        (_row(Status.DOWNLOAD_PENDING), False, True, False, False, P.PROCESS),
        (_row(Status.SKIPPED_NO_DATA), False, False, False, False, P.SKIP_NO_DATA),
        (_row(Status.SKIPPED_NO_DATA), False, True, False, False, P.PROCESS),
        (_row(Status.FAILED, stage=Stage.DOWNLOAD), False, True, False, False, P.PROCESS),
        # a failed download without artifact stays FAILED, whatever process is told
        (_row(Status.FAILED, stage=Stage.DOWNLOAD), False, False, False, False, P.SKIP_FAILED),
        (_row(Status.FAILED, stage=Stage.DOWNLOAD), False, False, False, True, P.SKIP_FAILED),
    ],
)
def test_resume_process_table(latest, cdf, artifact, upload, retry, expected) -> None:
    facts = DayFacts(artifact_exists=artifact, cdf_exists=cdf)
    assert decide_process(latest, facts, upload=upload, retry_failed=retry) is expected


@pytest.mark.parametrize("action", list(P))
def test_resume_process_action_counts_as_work_unless_skip(action) -> None:
    assert action.is_work is (action not in (P.SKIP_COMPLETE, P.SKIP_FAILED, P.SKIP_NO_DATA,
                                             P.SKIP_NO_INPUT))


OLD = "/out/l1c/prelim/2026/01/01/reach_all_l1c_prelim_20260101T000000_v1.0.0.cdf"
NEW = "reach_all_l1c_prelim_20260101T000000_v1.1.0.cdf"


# l1c-cdf.md "versions": "CDF on disk" is the CDF of the version asked, and a row about
# another version's CDF does not make the day complete for this one
@pytest.mark.parametrize(
    ("status", "upload", "expected_new", "expected_same"),
    [
        (Status.UPLOADED, True, P.PROCESS_AND_UPLOAD, P.SKIP_COMPLETE),
        (Status.UPLOADED, False, P.PROCESS, P.SKIP_COMPLETE),
        (Status.PROCESSED, False, P.PROCESS, P.SKIP_COMPLETE),
        (Status.PROCESSED, True, P.PROCESS_AND_UPLOAD, P.UPLOAD_ONLY),
        (Status.UPLOAD_PENDING, True, P.PROCESS_AND_UPLOAD, P.UPLOAD_ONLY),
    ],
)
def test_resume_process_redoes_day_complete_only_for_another_version(
        status, upload, expected_new, expected_same) -> None:
    latest = _row(status, cdf_path=OLD)
    asked_new = DayFacts(artifact_exists=True, cdf_exists=False, cdf_name=NEW)
    assert decide_process(latest, asked_new, upload=upload, retry_failed=False) is expected_new
    asked_same = DayFacts(artifact_exists=True, cdf_exists=True, cdf_name=OLD.rpartition("/")[2])
    assert decide_process(latest, asked_same, upload=upload, retry_failed=False) is expected_same


# archive-sync.md "Findings": an object a current audit found missing or different in S3
# is uploaded again from the local CDF, only in upload mode and only while that CDF is
# there and unchanged (a changed one is restored, never sent)
@pytest.mark.parametrize(
    ("upload", "cdf", "expected"),
    [(True, True, P.UPLOAD_ONLY), (False, True, P.SKIP_COMPLETE),
     (True, False, P.SKIP_COMPLETE)],
)
def test_resume_process_uploads_again_an_uploaded_day_with_s3_drift(upload, cdf,
                                                                   expected) -> None:
    facts = DayFacts(artifact_exists=True, cdf_exists=cdf, s3_drift=True)
    assert decide_process(_row(Status.UPLOADED), facts, upload=upload,
                          retry_failed=False) is expected
