"""process_file end to end: every input value comes back where it belongs (l1c-cdf.md
"From records to arrays", "Name, place, key", "How we know it is right")."""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from swxsoc_reach.cdf import process_file
from swxsoc_reach.cli import main
from swxsoc_reach.mission import sensors
from swxsoc_reach.paths import artifact_name, cdf_relpath, summary_path
from swxsoc_reach.synthetic import SyntheticOptions

ALL_NAME = "reach_all_l1c_prelim_20260101T000000_v1.0.0.cdf"
FILL = -1.0e31


@pytest.mark.parametrize("style", ["json", "repr"])
def test_process_file_returns_every_input_value_when_nested_fields_are(
    style, make_artifact, round_trip, read_cdf, tmp_path
) -> None:
    artifact = make_artifact(SyntheticOptions(nested_style=style), minutes=5)
    (cdf,) = process_file(artifact.path, tmp_path / "out", day=artifact.day)
    assert cdf == tmp_path / "out" / cdf_relpath(ALL_NAME)
    contents = read_cdf(cdf)
    assert contents["sensor_labels"] == sorted({r["idSensor"] for r in artifact.records})
    round_trip(contents, artifact.records)


def test_process_file_keeps_latest_created_at_of_duplicates(
    make_artifact, round_trip, read_cdf, to_datetime64, tmp_path
) -> None:
    artifact = make_artifact(SyntheticOptions(duplicate_fraction=0.2), minutes=5)
    contents = read_cdf(process_file(artifact.path, tmp_path, day=artifact.day)[0])
    cells = round_trip(contents, artifact.records)
    assert len(artifact.records) > len(cells)  # the window really holds duplicates
    # the re-served copy (createdAt six hours later, value x1.5) is the one kept
    older = {(r["idSensor"], r["seoList"][0]["obDescription"], r["obTime"]): r
             for r in artifact.records if r["createdAt"].startswith("2026-01-02T00")}
    reserved = [k for k, r in cells.items() if r["createdAt"].startswith("2026-01-02T06")]
    assert reserved
    times = contents["times"].tolist()
    for sensor, flavor, when in reserved:
        t = times.index(to_datetime64(when).tolist())
        s = contents["sensor_labels"].index(sensor)
        f = list(contents["dosimeter_flavors"][s]).index(flavor)
        assert contents["dose_rate"][t, s, f] == pytest.approx(
            older[sensor, flavor, when]["seoList"][0]["obValue"] * 1.5)


def test_process_file_keeps_latest_created_at_of_a_day_udl_reprocessed(
    udl_server, read_cdf, to_datetime64, tmp_path
) -> None:
    """A day the local UDL server re-serves in part (issue 18.4), through the real
    download: the reprocessed copy of each sample is the one in the CDF."""
    day = dt.date(2026, 1, 1)
    udl_server.reprocess(day, 0.1)
    assert main(["download", "--start-date", str(day), "--end-date", str(day),
                 "--sensor-id", "REACH-135", "--output-dir", str(tmp_path / "raw"),
                 "--udl-url", udl_server.url, "--initial-rate", "50", "--max-rate", "200"]) == 0
    artifact = tmp_path / "raw" / artifact_name(day, "REACH-135", "csv")
    contents = read_cdf(process_file(artifact, tmp_path, day=day)[0])
    with open(artifact, newline="") as fh:
        rows = list(csv.DictReader(fh))
    newer = [r for r in rows if r["createdAt"].startswith("2026-01-02T06")]
    assert len(rows) - len(newer) == 34_560 and len(newer) > 0.05 * 34_560
    t_of = {t: i for i, t in enumerate(contents["times"].tolist())}
    s = contents["sensor_labels"].index("REACH-135")
    flavors = list(contents["dosimeter_flavors"][s])
    for row in newer:  # each reprocessed sample's value is the re-served one (x1.5)
        (seo,) = json.loads(row["seoList"])
        t = t_of[to_datetime64(row["obTime"]).tolist()]
        f = flavors.index(seo["obDescription"])
        assert contents["dose_rate"][t, s, f] == seo["obValue"]


def test_process_file_imputes_missing_sensor_from_observatory(
    make_artifact, round_trip, read_cdf, tmp_path
) -> None:
    artifact = make_artifact(SyntheticOptions(missing_id_fraction=0.2), minutes=5)
    assert any("idSensor" not in r for r in artifact.records)
    (cdf,) = process_file(artifact.path, tmp_path, day=artifact.day)
    round_trip(read_cdf(cdf), artifact.records)


def test_process_file_drops_and_logs_records_without_any_sensor(
    make_artifact, round_trip, read_cdf, tmp_path, caplog
) -> None:
    def orphan(records):
        del records[0]["idSensor"]
        records[0]["observatoryName"] = "Iridium-999"
        return records

    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135"), minutes=5, edit=orphan)
    with caplog.at_level(logging.INFO, logger="swxsoc_reach.cdf"):
        (cdf,) = process_file(artifact.path, tmp_path, day=artifact.day)
    assert "dropped 1 records without idSensor" in caplog.text
    round_trip(read_cdf(cdf), artifact.records[1:])


def reverse_seo_keys(records):
    return [{**r, "seoList": [dict(reversed(r["seoList"][0].items()))]} for r in records]


def add_second_seo_entry(records):
    other = {"obType": "x", "obValue": 9.0, "obQuality": "99", "obDescription": "OTHER"}
    return [{**r, "seoList": [*r["seoList"], other]} if k % 3 == 1 else r  # not the first
            for k, r in enumerate(records)]


def vary_quality_width(records):
    return [{**r, "seoList": [{**r["seoList"][0], "obQuality": str(16 * (k % 2) + k % 3)}]}
            for k, r in enumerate(records)]


@pytest.mark.parametrize("style", ["json", "repr"])
@pytest.mark.parametrize("edit", [reverse_seo_keys, add_second_seo_entry, vary_quality_width])
def test_process_file_reads_first_seo_entry_when_cells(style, edit, make_artifact, round_trip,
                                                      read_cdf, tmp_path) -> None:
    artifact = make_artifact(SyntheticOptions(nested_style=style, sensor_id="REACH-135"),
                             minutes=10, edit=edit)
    (cdf,) = process_file(artifact.path, tmp_path, day=artifact.day)
    round_trip(read_cdf(cdf), artifact.records)


@pytest.mark.parametrize("style", ["json", "repr"])
def test_process_file_writes_fill_for_null_observation_fields(style, make_artifact, read_cdf,
                                                              to_datetime64, tmp_path) -> None:
    def nulls(records):
        seo = {k: v for k, v in records[4]["seoList"][0].items() if k != "obQuality"}
        records[4] = {**records[4], "seoList": [{**seo, "obValue": None}], "lat": None}
        return records

    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135", nested_style=style),
                             minutes=1, edit=nulls)
    contents = read_cdf(process_file(artifact.path, tmp_path, day=artifact.day)[0])
    record = artifact.records[4]
    t = contents["times"].tolist().index(to_datetime64(record["obTime"]).tolist())
    f = list(contents["dosimeter_flavors"][0]).index(record["seoList"][0]["obDescription"])
    assert contents["dose_rate"][t, 0, f] == FILL
    assert contents["dose_rate_quality"][t, 0, f] == FILL
    assert contents["dose_rate"][t, 0, 1 - f] != FILL  # the other flavor is untouched
    assert contents["obQuality"][t, 0] == contents["dose_rate_quality"][t, 0, 1 - f]
    assert contents["lat"][t, 0] == artifact.records[5]["lat"]  # from the other flavor
    assert np.count_nonzero(contents["dose_rate"] == FILL) == 1


@pytest.mark.parametrize(
    "options",
    [
        SyntheticOptions(shuffle_columns=True, extra_keys=True, seed=3),
        SyntheticOptions(fractional_seconds=True),
        SyntheticOptions(gap_fraction=0.3, seed=5),
    ],
    ids=["shuffled-extra-columns", "fractional-seconds", "gaps"],
)
def test_process_file_returns_every_input_value_when_artifact_has(
    options, make_artifact, round_trip, read_cdf, tmp_path
) -> None:
    artifact = make_artifact(options, minutes=5)
    (cdf,) = process_file(artifact.path, tmp_path, day=artifact.day)
    round_trip(read_cdf(cdf), artifact.records)


def test_process_file_reads_json_artifacts(make_artifact, round_trip, read_cdf, tmp_path) -> None:
    artifact = make_artifact(SyntheticOptions(duplicate_fraction=0.1, missing_id_fraction=0.1),
                             minutes=3, output_format="json")
    (cdf,) = process_file(artifact.path, tmp_path, day=artifact.day)
    assert cdf.name == ALL_NAME
    round_trip(read_cdf(cdf), artifact.records)


def test_process_file_epoch_equals_input_times_exactly(make_artifact, read_cdf, to_datetime64,
                                                       tmp_path) -> None:
    import cdflib

    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-101", fractional_seconds=True),
                             minutes=2)
    contents = read_cdf(process_file(artifact.path, tmp_path, day=artifact.day)[0])
    want = np.unique(np.array([to_datetime64(r["obTime"]) for r in artifact.records]))
    np.testing.assert_array_equal(cdflib.cdfepoch.to_datetime(contents["Epoch"]), want)
    assert contents["cdf"].varinq("Epoch").Data_Type_Description == "CDF_TIME_TT2000"


def test_process_file_makes_valid_cdf_from_single_timestamp(
    make_artifact, round_trip, read_cdf, tmp_path
) -> None:
    artifact = make_artifact(minutes=5 / 60)  # one 5 s step: every sensor once
    contents = read_cdf(process_file(artifact.path, tmp_path, day=artifact.day)[0])
    assert len(contents["Epoch"]) == 1
    assert contents["cdf"].attget("RESOLUTION", "Epoch").Data == "5s"  # the nominal cadence
    round_trip(contents, artifact.records)


def test_process_file_pads_flavors_when_a_sensor_has_one(
    make_artifact, round_trip, read_cdf, tmp_path
) -> None:
    def drop_dose2_of_135(records):
        return [r for r in records if r["idSensor"] != "REACH-135"
                or r["seoList"][0]["obDescription"].startswith("DOSE1")]

    artifact = make_artifact(minutes=2, edit=drop_dose2_of_135)
    contents = read_cdf(process_file(artifact.path, tmp_path, day=artifact.day)[0])
    s = contents["sensor_labels"].index("REACH-135")
    assert list(contents["dosimeter_flavors"][s]) == ["DOSE1 (Flavor X) in rad/second", ""]
    assert np.all(contents["dose_rate"][:, s, 1] == FILL)
    round_trip(contents, artifact.records)


def test_process_file_makes_valid_cdf_for_sensor_with_one_flavor_only(
    make_artifact, round_trip, read_cdf, tmp_path
) -> None:
    def dose1_only(records):
        return [r for r in records if r["seoList"][0]["obDescription"].startswith("DOSE1")]

    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135"), minutes=2, edit=dose1_only)
    contents = read_cdf(process_file(artifact.path, tmp_path, day=artifact.day)[0])
    # the dataset's shape whatever the day holds: F = 2, the missing flavor blank and fill
    assert contents["dosimeter_flavors"].tolist() == [["DOSE1 (Flavor X) in rad/second", ""]]
    round_trip(contents, artifact.records)


def test_process_file_sensor_axis_is_the_mission_table_when_day_holds_few_sensors(
    make_artifact, only_sensors, round_trip, read_cdf, tmp_path
) -> None:
    reporting = ("REACH-108", "REACH-135", "REACH-181")
    artifact = make_artifact(minutes=2, edit=only_sensors(*reporting))
    contents = read_cdf(process_file(artifact.path, tmp_path, day=artifact.day)[0])
    table = sensors()
    assert contents["sensor_labels"] == [s.sensor_id for s in table]  # 32, sorted
    assert len(table) == 32
    for s, sensor in enumerate(table):
        # a silent sensor carries the mission table's flavors, as UDL spells them
        assert list(contents["dosimeter_flavors"][s]) == [
            f"DOSE{k + 1} (Flavor {flavor}) in rad/second" for k, flavor in
            enumerate(sensor.flavors)]
    np.testing.assert_array_equal(contents["cdf"].varget("sensor_ids"),
                                  [s.number for s in table])
    round_trip(contents, artifact.records)  # silent sensors: every cell fill


def test_process_file_adds_unknown_sensor_to_the_axis_with_a_warning(
    make_artifact, round_trip, read_cdf, tmp_path, caplog
) -> None:
    def newcomer(records):  # a pod the table does not know yet, between two it does
        return [*records, *({**r, "idSensor": "REACH-150"} for r in records
                            if r["idSensor"] == "REACH-149")]

    artifact = make_artifact(minutes=1, edit=newcomer)
    with caplog.at_level(logging.WARNING, logger="swxsoc_reach.cdf"):
        contents = read_cdf(process_file(artifact.path, tmp_path, day=artifact.day)[0])
    assert "REACH-150 not in the REACH sensor table" in caplog.text
    labels = contents["sensor_labels"]
    assert len(labels) == 33 and labels == sorted(labels)
    assert labels.index("REACH-150") == labels.index("REACH-149") + 1
    round_trip(contents, artifact.records)


def test_process_file_names_single_sensor_product_by_its_number(make_artifact, read_cdf,
                                                                tmp_path) -> None:
    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135"), minutes=2)
    assert artifact.path.name.startswith("REACH-135_")
    (cdf,) = process_file(artifact.path, tmp_path, day=artifact.day)  # sensor from the file name
    assert cdf.name == "reach_135_l1c_prelim_20260101T000000_v1.0.0.cdf"
    assert read_cdf(cdf)["sensor_labels"] == ["REACH-135"]  # its one sensor, not the table
    attrs = read_cdf(cdf)["globals"]
    assert attrs["Instrument_mode"] == "135"
    assert attrs["Logical_source"] == "reach_135_l1c_prelim"
    (explicit,) = process_file(artifact.path, tmp_path / "x", day=artifact.day,
                               sensor_id="REACH-135")
    assert explicit.name == cdf.name


def test_process_file_names_all_sensor_product_all(make_artifact, tmp_path) -> None:
    artifact = make_artifact(minutes=1, name="hand-made.csv")
    assert process_file(artifact.path, tmp_path, day=artifact.day)[0].name == ALL_NAME


def test_process_file_drops_records_outside_the_day(make_artifact, round_trip, read_cdf, tmp_path,
                                                    caplog) -> None:
    def add_neighbours(records):
        before = {**records[0], "obTime": "2025-12-31T23:59:55.000Z"}
        after = {**records[-1], "obTime": "2026-01-02T00:00:00.000Z"}
        return [before, *records, after]

    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135"), minutes=2,
                             edit=add_neighbours)
    with caplog.at_level(logging.INFO, logger="swxsoc_reach.cdf"):
        (cdf,) = process_file(artifact.path, tmp_path, day=artifact.day)
    assert "2 outside the day" in caplog.text
    round_trip(read_cdf(cdf), artifact.records[1:-1])


def test_process_file_names_window_by_first_sample_without_day(make_artifact, read_cdf,
                                                               tmp_path) -> None:
    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135", fractional_seconds=True),
                             minutes=2, start_minute=90)
    (cdf,) = process_file(artifact.path, tmp_path)
    first = min(r["obTime"] for r in artifact.records)  # 2026-01-01T01:30:00.xxxZ
    assert first.startswith("2026-01-01T01:30:00")
    assert cdf.name == "reach_135_l1c_prelim_20260101T013000_v1.0.0.cdf"
    assert read_cdf(cdf)["globals"]["Logical_file_id"] == cdf.name.removesuffix(".cdf")


def test_process_file_writes_into_cwd_by_default(make_artifact, tmp_path, monkeypatch) -> None:
    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135"), minutes=1)
    monkeypatch.delenv("LAMBDA_ENVIRONMENT", raising=False)
    monkeypatch.chdir(tmp_path)
    (cdf,) = process_file(artifact.path, day=artifact.day)
    assert cdf == tmp_path / cdf_relpath(cdf.name) and cdf.is_file()


def test_process_file_writes_into_temp_dir_under_lambda(make_artifact, tmp_path,
                                                        monkeypatch) -> None:
    import tempfile

    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135"), minutes=1)
    lambda_tmp = tmp_path / "lambda-tmp"
    lambda_tmp.mkdir()
    monkeypatch.setenv("LAMBDA_ENVIRONMENT", "1")
    monkeypatch.setattr(tempfile, "tempdir", str(lambda_tmp))
    monkeypatch.chdir(tmp_path)
    (cdf,) = process_file(artifact.path, day=artifact.day)
    assert cdf == lambda_tmp / cdf_relpath(cdf.name) and cdf.is_file()


def test_process_file_logs_one_info_line_with_counts(make_artifact, tmp_path, caplog) -> None:
    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135", duplicate_fraction=0.2),
                             minutes=5)
    with caplog.at_level(logging.INFO, logger="swxsoc_reach.cdf"):
        process_file(artifact.path, tmp_path, day=artifact.day)
    lines = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(lines) == 1
    n_in = len(artifact.records)
    kept = 2 * 60  # 5 minutes at 5 s, two flavors
    message = lines[0].getMessage()
    assert f"{n_in} records in, {kept} kept, {n_in - kept} dropped" in message
    assert f"({n_in - kept} duplicates" in message and message.endswith(" s")


def test_process_file_keeps_global_attributes_of_the_spec(make_artifact, read_cdf,
                                                          tmp_path) -> None:
    import swxsoc_reach

    artifact = make_artifact(SyntheticOptions(descriptor="PROVISIONAL"), minutes=1)
    (cdf,) = process_file(artifact.path, tmp_path, day=artifact.day, data_version="1.2.3")
    attrs = read_cdf(cdf)["globals"]
    assert cdf.name == "reach_all_l1c_prelim_20260101T000000_v1.2.3.cdf"
    assert attrs["Data_version"] == "1.2.3"
    assert attrs["UDL_Source"] == "PROVISIONAL"
    assert attrs["Logical_source"] == "reach_all_l1c_prelim"
    assert attrs["Logical_file_id"] == "reach_all_l1c_prelim_20260101T000000_v1.2.3"
    assert attrs["Instrument_mode"] == "all"
    assert swxsoc_reach.__version__ in attrs["Generated_by"]
    assert attrs["Software_version"] == swxsoc_reach.__version__
    assert attrs["Parents"] == artifact.path.name  # provenance: the artifact it was made from
    assert dt.date.fromisoformat(attrs["Generation_date"])
    for name, value in {
        "Data_level": "L1C>Level 1 C", "Data_type": "prelim>Preliminary",
        "Descriptor": "REACH>Responsive Environmental Assessment Commercially Hosted",
        "Discipline": "Space Physics>Magnetospheric Science, Space Weather",
        "Instrument_type": "Particle Flux (space)", "Mission_group": "REACH",
        "PI_affiliation": "The Aerospace Corporation", "PI_name": "Joe Mazur",
        "DOI": "https://doi.org/10.5281/zenodo.5988170", "Time_resolution": "5 seconds",
        "File_naming_convention":
            "instrument_instrument-mode_data-level_data-type_start-time_vX.Y.Z",
        "Logical_source_description": "Preliminary Dosimeter measurements from the "
            "Responsive Environmental Assessment Commercially Hosted",
    }.items():
        assert attrs[name] == value, name
    for name in ("Project", "Source_name", "TEXT", "Acknowledgment", "Rules_of_use"):
        assert attrs[name].strip(), name


def test_process_file_import_is_light() -> None:
    code = ("import sys, swxsoc_reach.cdf; "
            "print(sorted(m for m in ('pyarrow', 'pandas', 'cdflib', 'numpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip() == "[]"


def test_process_file_does_not_load_pandas_for_csv(make_artifact, tmp_path) -> None:
    # pyarrow imports pandas (0.3 s) on to_numpy() and Python scalars; a single-day
    # process must not pay for it (whole-process target 1.5 s)
    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135", duplicate_fraction=0.1,
                                              missing_id_fraction=0.1), minutes=2)
    code = ("import datetime as dt, sys; from swxsoc_reach.cdf import process_file; "
            f"process_file({str(artifact.path)!r}, {str(tmp_path)!r}, day=dt.date(2026, 1, 1)); "
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip() == "False"


def test_process_file_overwrites_previous_product(make_artifact, read_cdf, tmp_path) -> None:
    first = make_artifact(SyntheticOptions(sensor_id="REACH-135"), minutes=1)
    (cdf,) = process_file(first.path, tmp_path, day=first.day)
    second = make_artifact(SyntheticOptions(sensor_id="REACH-135"), minutes=2)
    assert process_file(second.path, tmp_path, day=second.day) == [cdf]
    assert len(read_cdf(cdf)["Epoch"]) == 24
    # no temporary left behind, and nothing but the CDF (its summary is in the about tree)
    assert [p.name for p in cdf.parent.iterdir()] == [cdf.name]
    assert summary_path(cdf).is_file()


def test_process_file_accepts_str_paths(make_artifact, tmp_path) -> None:
    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135"), minutes=1)
    (cdf,) = process_file(str(artifact.path), str(tmp_path), day=artifact.day)
    assert isinstance(cdf, Path) and cdf.is_file()


def test_process_file_rejects_malformed_data_version(make_artifact, tmp_path) -> None:
    from swxsoc_reach.errors import ConfigError

    artifact = make_artifact(SyntheticOptions(sensor_id="REACH-135"), minutes=1)
    with pytest.raises(ConfigError, match=r"'1\.0' is not of the form X\.Y\.Z"):
        process_file(artifact.path, tmp_path, day=artifact.day, data_version="1.0")
