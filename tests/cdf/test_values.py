"""Every value UDL's schema allows is handled per record (issue 20.5): ``obQuality`` words
become documented codes (an unrecognised one fill, counted), and a ``senPos`` in another
``senReferenceFrame`` is left out of the GEI position variables, counted. The expectation
(``round_trip``) is conftest's, written out independently of swxsoc_reach.cdf.values."""

from __future__ import annotations

import logging

import orjson
import pytest

from swxsoc_reach.cdf import process_file
from swxsoc_reach.cdf.summary import summary_path
from swxsoc_reach.synthetic import SyntheticOptions

FILL = -1.0e31
WORST = {"GOOD": 0.0, "UNCERTAIN": 65533.0, "UNKNOWN": 65534.0, "BAD": 65535.0}


def with_qualities(*values: object):
    """An edit giving records 0, 1, ... these obQuality values (records 2k and 2k+1 are
    the two flavors of one time)."""
    def edit(records: list[dict]) -> list[dict]:
        for k, value in enumerate(values):
            records[k] = {**records[k], "seoList": [{**records[k]["seoList"][0],
                                                     "obQuality": value}]}
        return records

    return edit


def with_frames(*frames: object):
    """An edit giving records 0, 1, ... these senReferenceFrame values (None: no key)."""
    def edit(records: list[dict]) -> list[dict]:
        for k, frame in enumerate(frames):
            records[k] = {key: v for key, v in records[k].items() if key != "senReferenceFrame"}
            if frame is not None:
                records[k]["senReferenceFrame"] = frame
        return records

    return edit


def time_index(contents, artifact, record: int) -> int:
    when = artifact.records[record]["obTime"].removesuffix("Z")
    return [str(t)[:23] for t in contents["times"]].index(when[:23])


@pytest.mark.parametrize(("output_format", "style"), [("csv", "json"), ("csv", "repr"),
                                                      ("json", "json")])
def test_process_file_maps_quality_words_to_codes_and_unknown_words_to_fill(
        output_format, style, make_artifact, round_trip, read_cdf, tmp_path, caplog) -> None:
    edit = with_qualities("GOOD", "bad", " Uncertain", "UNKNOWN", "EXCELLENT", 4)
    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135", nested_style=style),
                             minutes=1, output_format=output_format, edit=edit)
    with caplog.at_level(logging.INFO, logger="swxsoc_reach.cdf"):
        (cdf,) = process_file(artifact.path, tmp_path, day=artifact.day)
    contents = read_cdf(cdf)
    round_trip(contents, artifact.records)  # each flavor's own code, or fill
    worst = [contents["obQuality"][time_index(contents, artifact, r), 0] for r in (0, 2, 4)]
    assert worst == [WORST["BAD"], WORST["UNKNOWN"], 4.0]  # the unknown word hides nothing
    for name in ("obQuality", "dose_rate_quality"):
        attrs = contents["cdf"].varattsget(name)
        held = contents[name][contents[name] != FILL]
        assert attrs["VALIDMIN"] <= held.min() and held.max() <= attrs["VALIDMAX"]
        assert "GOOD = 0, UNCERTAIN = 65533, UNKNOWN = 65534, BAD = 65535" in attrs["VAR_NOTES"]
    summary = orjson.loads(summary_path(cdf).read_bytes())["quality_words"]
    assert summary == {"codes": {"GOOD": 0, "UNCERTAIN": 65533, "UNKNOWN": 65534, "BAD": 65535},
                       "records": {"GOOD": 1, "UNCERTAIN": 1, "UNKNOWN": 1, "BAD": 1},
                       "unrecognised": 1, "unrecognised_values": {"EXCELLENT": 1}}
    assert "obQuality words mapped to codes: GOOD x1 -> 0, UNCERTAIN x1 -> 65533" in caplog.text
    assert "1 records with an unrecognised obQuality ('EXCELLENT' x1) written as fill" \
        in caplog.text


@pytest.mark.parametrize("output_format", ["csv", "json"])
def test_process_file_leaves_positions_in_another_frame_out_of_gei(
        output_format, make_artifact, round_trip, read_cdf, tmp_path, caplog) -> None:
    # time 0: both flavors ECEF (fill); time 1: TEME and j2000 (the J2000 one's position);
    # time 2: blank and no key (J2000). CSV: every record has the column (J2000 elsewhere);
    # JSON: only these records carry the key, as in an answer mixing older records
    options = SyntheticOptions(sensor_id="REACH-135", extra_keys=output_format == "csv")
    edit = with_frames("ECR/ECEF", "ecr/ecef", "TEME", "j2000", " ", None)
    artifact = make_artifact(options, minutes=1, output_format=output_format, edit=edit)
    with caplog.at_level(logging.INFO, logger="swxsoc_reach.cdf"):
        (cdf,) = process_file(artifact.path, tmp_path, day=artifact.day)
    contents = read_cdf(cdf)
    round_trip(contents, artifact.records)  # another frame's position is never GEI
    t = [time_index(contents, artifact, r) for r in (0, 2, 4)]
    assert [contents["sensor_position_x"][i, 0] for i in t] == [
        FILL, artifact.records[3]["senPos"][0], artifact.records[4]["senPos"][0]]
    assert contents["lat"][t[0], 0] == artifact.records[0]["lat"]  # geodetic: kept
    assert "senReferenceFrame" in contents["cdf"].varattsget("sensor_position_y")["VAR_NOTES"]
    frames = orjson.loads(summary_path(cdf).read_bytes())["reference_frames"]
    assert frames == {"positions_left_out": 3,
                      "frames": {"ECR/ECEF": 1, "ecr/ecef": 1, "TEME": 1}}
    assert "senPos of 3 records left out of sensor_position_x/_y/_z (GEI)" in caplog.text


def test_process_file_without_words_or_frames_counts_nothing(make_artifact, tmp_path) -> None:
    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135", extra_keys=True), minutes=1)
    (cdf,) = process_file(artifact.path, tmp_path, day=artifact.day)
    summary = orjson.loads(summary_path(cdf).read_bytes())
    assert summary["quality_words"]["records"] == dict.fromkeys(WORST, 0)
    assert summary["quality_words"]["unrecognised"] == 0
    assert summary["reference_frames"] == {"positions_left_out": 0, "frames": {}}
