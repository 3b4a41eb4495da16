"""The product opens in three independent readers, passes spacepy's ISTP checks, and its
units, display hints and compression are what every reader expects, for every product
kind (l1c-cdf.md "How we know it is right", "Variables", "Compression")."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from swxsoc_reach.cdf import process_file
from swxsoc_reach.cdf.write import GZIP_LEVEL
from swxsoc_reach.synthetic import SyntheticOptions

DOUBLE_VARIABLES = ("dose_rate", "lat", "lon", "alt", "obQuality", "dose_rate_quality",
                    "sensor_position_x", "sensor_position_y", "sensor_position_z")
TIME_SENSOR = ("lat", "lon", "alt", "obQuality", "sensor_position_x", "sensor_position_y",
               "sensor_position_z")
# spacepy's validdisplaytype wants a spectrogram for every multi-dimensional variable; the
# spec keeps (T, S) variables as labelled time series (l1c-cdf.md: expected, not a finding)
EXPECTED = "Multi dim variable with time_series display type."
# astropy's physical type of each variable's UNITS (cGy/s has none of its own: checked by
# conversion below)
PHYSICAL_TYPES = {"Epoch": "time", "lat": "angle", "lon": "angle", "alt": "length",
                  "sensor_position_x": "length", "sensor_position_y": "length",
                  "sensor_position_z": "length", "obQuality": "dimensionless",
                  "dose_rate_quality": "dimensionless"}
SCENARIOS = {
    "all-sensors": {"options": SyntheticOptions(duplicate_fraction=0.05, gap_fraction=0.1)},
    "fill-heavy": {  # three pods of 32 report, with gaps: most cells are fill
        "options": SyntheticOptions(gap_fraction=0.5),
        "edit": lambda records: [r for r in records
                                 if r["idSensor"] in ("REACH-101", "REACH-140", "REACH-181")],
    },
    "one-sensor": {"options": SyntheticOptions(sensor_id="REACH-135")},
    "single-timestamp": {"options": SyntheticOptions(), "minutes": 5 / 60},
    "one-flavor": {
        "options": SyntheticOptions(sensor_id="REACH-135"),
        "edit": lambda records: [r for r in records
                                 if r["seoList"][0]["obDescription"].startswith("DOSE1")],
    },
    "fractional-seconds": {"options": SyntheticOptions(fractional_seconds=True)},
}


@pytest.fixture(params=sorted(SCENARIOS))
def product(request, make_artifact, tmp_path) -> Path:
    """One CDF per scenario (2 minutes of data unless the scenario says otherwise)."""
    spec = {"minutes": 2, **SCENARIOS[request.param]}
    artifact = make_artifact(**spec)
    return process_file(artifact.path, tmp_path / "out", day=artifact.day)[0]


@pytest.fixture
def pycdf():
    """spacepy's reader, which wraps NASA's own CDF library (bundled in the wheel)."""
    from spacepy import pycdf

    return pycdf


def test_product_passes_spacepy_istp_checks(product, pycdf) -> None:
    from spacepy.pycdf import istp

    with pycdf.CDF(str(product)) as cdf:
        # FileChecks.all also runs VariableChecks.all on every variable
        assert istp.FileChecks.all(cdf) == [f"{name}: {EXPECTED}" for name in TIME_SENSOR]
        for name in cdf:
            expected = [EXPECTED] if name in TIME_SENSOR else []
            assert istp.VariableChecks.all(cdf[name]) == expected, name


def test_product_display_types_draw_a_line_per_sensor_or_a_spectrogram(product, pycdf) -> None:
    with pycdf.CDF(str(product)) as cdf:
        for name in DOUBLE_VARIABLES:
            attrs = cdf[name].attrs
            if name in TIME_SENSOR:
                assert cdf[name].shape[1:] == cdf["sensor_ids"].shape, name
                assert (attrs["DISPLAY_TYPE"], attrs["LABL_PTR_1"]) == (
                    "time_series", "sensor_labels"), name
            else:  # (T, S, F): sensor x time, one panel per flavor
                assert attrs["DISPLAY_TYPE"] == "spectrogram", name
                assert len(cdf[name].shape) == 3, name


def test_product_units_parse_in_astropy_to_the_intended_physical_type(product, pycdf) -> None:
    import astropy.units as u

    with pycdf.CDF(str(product)) as cdf:
        units = {name: cdf[name].attrs["UNITS"] for name in cdf if "UNITS" in cdf[name].attrs}
        assert set(units) == {"Epoch", *DOUBLE_VARIABLES}  # every variable that has a unit
        for name, text in units.items():
            parsed = u.Unit(text)  # what swxsoc's SWXData does with UNITS
            if name == "dose_rate":
                # 1 rad = 1 cGy: UDL's rad/s values, convertible to the SI unit by 0.01
                assert parsed.to(u.Gy / u.s) == pytest.approx(0.01)
                assert parsed.to(u.J / (u.kg * u.s)) == pytest.approx(0.01)
                assert "rad/s (= cGy/s)" in cdf[name].attrs["CATDESC"]
            else:
                assert str(parsed.physical_type) == PHYSICAL_TYPES[name], name
        for name in DOUBLE_VARIABLES:  # SI_conversion "factor>unit" agrees with astropy
            factor, _, si = cdf[name].attrs["SI_conversion"].partition(">")
            if si.strip():
                assert u.Unit(units[name]).to(si) == pytest.approx(float(factor)), name
            else:
                assert u.Unit(units[name]) == u.dimensionless_unscaled, name


def test_product_compresses_data_variables_only(product, pycdf) -> None:
    with pycdf.CDF(str(product)) as cdf:
        for name in cdf:
            kind, level = cdf[name].compress()
            if cdf[name].attrs["VAR_TYPE"] == "data":
                assert (kind.value, level) == (pycdf.const.GZIP_COMPRESSION.value,
                                               GZIP_LEVEL), name
            else:  # Epoch and the metadata variables: CDAWeb flags a compressed Epoch
                assert kind.value == pycdf.const.NO_COMPRESSION.value, name


def test_product_opens_in_cdflib_xarray(product) -> None:
    from cdflib.xarray import cdf_to_xarray

    ds = cdf_to_xarray(str(product), to_datetime=True, fillval_to_nan=True)
    n_t = ds.sizes["Epoch"]
    n_s, n_f = ds.sizes["sensor_ids"], ds.sizes["dosimeter_flavor_ids"]
    assert ds["dose_rate"].dims == ("Epoch", "sensor_ids", "dosimeter_flavor_ids")
    assert ds["dose_rate"].shape == (n_t, n_s, n_f)
    assert ds["lat"].dims == ("Epoch", "sensor_ids")
    assert ds["Epoch"].dtype == np.dtype("datetime64[ns]")
    assert np.isfinite(ds["dose_rate"].values).any()


def test_product_opens_in_pyistp(product, caplog) -> None:
    import pyistp

    with caplog.at_level(logging.WARNING):
        loader = pyistp.load(file=str(product))
        assert sorted(loader.data_variables()) == sorted(DOUBLE_VARIABLES)
        for name in DOUBLE_VARIABLES:
            variable = loader.data_variable(name)
            assert variable is not None, name
            assert [axis.name for axis in variable.axes][:2] == ["Epoch", "sensor_ids"]
            assert variable.values.shape[0] == len(variable.axes[0].values)
    assert "Non compliant" not in caplog.text


def test_product_variables_have_the_spec_types_and_attributes(product, pycdf) -> None:
    with pycdf.CDF(str(product)) as cdf:
        n_s, n_f = cdf["sensor_ids"].shape[0], cdf["dosimeter_flavor_ids"].shape[0]
        types = {name: pycdf.lib.cdftypenames[cdf[name].type()] for name in cdf}
        assert types["Epoch"] == "CDF_TIME_TT2000"
        assert {types[n] for n in DOUBLE_VARIABLES} == {"CDF_DOUBLE"}
        assert {types[n] for n in ("sensor_ids", "dosimeter_flavor_ids")} == {"CDF_INT4"}
        assert {types[n] for n in ("sensor_labels", "dosimeter_flavor_labels",
                                   "dosimeter_flavors")} == {"CDF_CHAR"}
        assert cdf.version()[0] == 3
        assert cdf["dose_rate"].shape[1:] == (n_s, n_f)
        assert cdf["dosimeter_flavors"].shape == (n_s, n_f)
        assert not cdf["sensor_labels"].rv() and cdf["Epoch"].rv()
        assert list(cdf["sensor_ids"][...]) == [int(x.split("-")[1])
                                                for x in cdf["sensor_labels"][...]]
        assert list(cdf["dosimeter_flavor_labels"][...]) == [f"flavor_{k}" for k in range(n_f)]
        assert list(cdf["dosimeter_flavor_ids"][...]) == list(range(n_f))

        epoch = cdf["Epoch"].attrs
        assert (epoch["VAR_TYPE"], epoch["UNITS"], epoch["TIME_BASE"], epoch["TIME_SCALE"],
                epoch["REFERENCE_POSITION"], epoch["RESOLUTION"]) == (
            "support_data", "ns", "J2000", "Terrestrial Time (TT)", "rotating Earth geoid", "5s")
        dose = cdf["dose_rate"].attrs
        assert (dose["UNITS"], dose["DEPEND_0"], dose["DEPEND_1"], dose["DEPEND_2"],
                dose["LABL_PTR_1"], dose["LABL_PTR_2"], dose["VALIDMIN"]) == (
            "cGy/s", "Epoch", "sensor_ids", "dosimeter_flavor_ids", "sensor_labels",
            "dosimeter_flavor_labels", 0.0)
        for name in ("lat", "lon", "alt", "obQuality", "sensor_position_x"):
            attrs = cdf[name].attrs
            assert (attrs["DEPEND_0"], attrs["DEPEND_1"], attrs["LABL_PTR_1"]) == (
                "Epoch", "sensor_ids", "sensor_labels")
        assert (cdf["lat"].attrs["VALIDMIN"], cdf["lat"].attrs["VALIDMAX"]) == (-90.0, 90.0)
        assert (cdf["lon"].attrs["VALIDMIN"], cdf["lon"].attrs["VALIDMAX"]) == (-180.0, 360.0)
        assert cdf["alt"].attrs["VALIDMIN"] == 0.0
        assert cdf["alt"].attrs["UNITS"] == "km"
        for name in DOUBLE_VARIABLES:
            assert cdf[name].attrs["FILLVAL"] == -1e31
            assert cdf[name].attrs["VAR_TYPE"] == "data"
        assert cdf["sensor_labels"].attrs["FORMAT"] == "A9"  # REACH-101: the string length
        assert cdf["dosimeter_flavor_labels"].attrs["FORMAT"] == "A8"
        width = max(len(f) for f in np.ravel(cdf["dosimeter_flavors"][...]))
        assert cdf["dosimeter_flavors"].attrs["FORMAT"] == f"A{width}"
        for name in ("sensor_labels", "sensor_ids", "dosimeter_flavor_labels",
                     "dosimeter_flavor_ids", "dosimeter_flavors"):
            assert cdf[name].attrs["VAR_TYPE"] == "metadata"
            assert {"CATDESC", "FIELDNAM", "FILLVAL", "FORMAT"} <= set(cdf[name].attrs)
