"""The product opens in three independent readers and passes spacepy's ISTP checks
(l1c-cdf.md "How we know it is right", "Variables")."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from swxsoc_reach.cdf import process_file
from swxsoc_reach.synthetic import SyntheticOptions

DOUBLE_VARIABLES = ("dose_rate", "lat", "lon", "alt", "obQuality", "dose_rate_quality",
                    "sensor_position_x", "sensor_position_y", "sensor_position_z")
SCENARIOS = {
    "all-sensors": {"options": SyntheticOptions(duplicate_fraction=0.05, gap_fraction=0.1)},
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
        assert istp.FileChecks.all(cdf) == []  # also runs VariableChecks.all on every variable
        for name in cdf:
            assert istp.VariableChecks.all(cdf[name]) == [], name


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
            "rad/s", "Epoch", "sensor_ids", "dosimeter_flavor_ids", "sensor_labels",
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
