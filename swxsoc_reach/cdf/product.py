"""What the L1C CDF holds: variables, ISTP attributes and global attributes (l1c-cdf.md
"Variables" and "Global attributes").

Existing consumers read these files by variable name, so names, shapes and meanings
are fixed by the spec. Attribute values follow the ISTP guide as checked by
``spacepy.pycdf.istp``: FIELDNAM is the variable name, FILLVAL is the ISTP value
of the type (NaN is written as FILLVAL), text FORMAT widths are string lengths.
DISPLAY_TYPE draws what a person expects: (T, S) variables are ``time_series`` with
``LABL_PTR_1`` (one labelled line per sensor, as the guide does for vectors), (T, S, F)
ones ``spectrogram``. UNITS are strings astropy parses to the intended physical type
(the SWxSOC loader builds quantities from them; ``rad`` would be the radian there), and
each data variable has ``SI_conversion``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from cdflib.epochs import CDFepoch

from swxsoc_reach import __version__
from swxsoc_reach.cdf.build import NS_PER_S, ProductArrays
from swxsoc_reach.cdf.values import QUALITY_CODES
from swxsoc_reach.paths import instrument_mode

DOUBLE_FILL = -1.0e31
INT4_FILL = -(2**31)
TT2000_FILL = -(2**63)
TEXT_FILL = " "
# CDF data type codes (CDF User's Guide, table of data types)
CDF_INT4, CDF_DOUBLE, CDF_TIME_TT2000, CDF_CHAR = 4, 45, 33, 51
_TYPE_NAMES = {CDF_INT4: "CDF_INT4", CDF_DOUBLE: "CDF_DOUBLE",
               CDF_TIME_TT2000: "CDF_TIME_TT2000", CDF_CHAR: "CDF_CHAR"}
_EPOCH_RANGE = ((1990, 1, 1), (2100, 1, 1))  # valid Epoch: long before launch, far ahead


@dataclass(frozen=True)
class Units:
    """UNITS (an astropy-parsable string) and ISTP ``SI_conversion`` (``factor>SI unit``)."""

    units: str
    si_conversion: str


# 1 rad = 1 cGy exactly, so UDL's rad/s values are stored unchanged as cGy/s.
DOSE_RATE = Units("cGy/s", "1.0E-2>Gy/s")
ANGLE = Units("deg", "1.745329252E-2>rad")  # pi / 180
LENGTH = Units("km", "1.0E3>m")
# UDL's quality words as the codes values.py gives them; larger is worse
QUALITY_NOTES = ("Larger is worse. UDL's words: " + ", ".join(
    f"{word} = {code:.0f}" for word, code in QUALITY_CODES.items())
    + "; any other non-numeric obQuality is fill")
FLAG = Units(" ", " > ")  # a dimensionless code: ISTP's blank unit, astropy's dimensionless

GLOBAL_TEXT = {
    "Data_level": "L1C>Level 1 C",
    "Data_type": "prelim>Preliminary",
    "Descriptor": "REACH>Responsive Environmental Assessment Commercially Hosted",
    "Discipline": "Space Physics>Magnetospheric Science, Space Weather",
    "Instrument_type": "Particle Flux (space)",
    "Logical_source_description": "Preliminary Dosimeter measurements from the Responsive "
                                  "Environmental Assessment Commercially Hosted",
    "Mission_group": "REACH",
    "PI_affiliation": "The Aerospace Corporation",
    "PI_name": "Joe Mazur",
    "Project": "The Aerospace Corporation",
    "Source_name": "REACH>Responsive Environmental Assessment Commercially Hosted",
    "TEXT": (
        "The Responsive Environmental Assessment Commercially Hosted (REACH) constellation "
        "is a collection of 32 small sensors hosted on six orbital planes of the Iridium-Next "
        "space vehicles in low earth orbit. Each sensor contains two micro-dosimeters "
        "sensitive to the passage of charged particles from the Earth's radiation belts. "
        "There are six distinct dosimeter types spread among the 64 individual sensors, "
        "which are unique in shielding and electronic threshold. Together they give a high "
        "time-cadence measurement of protons and electrons in six integral energy channels "
        "over the entire globe."
    ),
    "DOI": "https://doi.org/10.5281/zenodo.5988170",
    "Time_resolution": "5 seconds",
    "Acknowledgment": (
        "REACH pods were designed and built by The Aerospace Corporation and Millennium "
        "Engineering and Integration for the US Air Force / US Space Force; data transport "
        "by Iridium and L3Harris; Level 0 processing at the Johns Hopkins Applied Physics "
        "Laboratory; observations distributed through the Unified Data Library. CDF files "
        "are produced by the Space Weather Science Operations Center (SWxSOC) at NASA "
        "Goddard Space Flight Center."
    ),
    "Rules_of_use": "See Usage Guidelines at: https://zenodo.org/record/6423507",
    "File_naming_convention": "instrument_instrument-mode_data-level_data-type_start-time_vX.Y.Z",
}


@dataclass(frozen=True)
class Variable:
    """One zVariable: its data, CDF type, record variance and attributes."""

    name: str
    data: Any  # numpy array, or a sequence of str for CDF_CHAR
    cdf_type: int
    rec_vary: bool
    dims: tuple[int, ...]  # sizes of the non-record dimensions
    attrs: dict[str, Any] = field(default_factory=dict)
    num_elements: int = 1  # string length for CDF_CHAR

    @property
    def type_name(self) -> str:
        return _TYPE_NAMES[self.cdf_type]


def unix_ns_to_tt2000(unix_ns: np.ndarray) -> np.ndarray:
    """UTC ns since 1970 -> TT2000, exact across leap seconds, without a per-sample loop.

    TT2000 - UTC is constant within a UTC day (a leap second is inserted only as
    23:59:60, which an ISO time in the artifacts cannot name), so cdflib converts
    each distinct day's midnight and the rest is integer arithmetic.
    """
    unix_ns = np.asarray(unix_ns, dtype=np.int64)
    day_ns = 86_400 * NS_PER_S
    days, inverse = np.unique(unix_ns // day_ns, return_inverse=True)
    midnights = np.array([_tt2000_of(dt.date(1970, 1, 1) + dt.timedelta(days=int(d)))
                          for d in days], dtype=np.int64)
    return midnights[inverse] + (unix_ns - days[inverse] * day_ns)


def _tt2000_of(day: dt.date) -> int:
    value = CDFepoch.compute_tt2000([day.year, day.month, day.day, 0, 0, 0, 0, 0, 0])
    return int(np.atleast_1d(value)[0])


def resolution_text(ns: int) -> str:
    """``5s`` for 5e9 ns: the largest unit that divides the step exactly (no float noise)."""
    for unit, size in (("s", NS_PER_S), ("ms", 1_000_000), ("us", 1_000)):
        if ns % size == 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"


def global_attributes(arrays: ProductArrays, file_name: str, sensor_id: str,
                      data_version: str, parent: str) -> dict[str, str]:
    """The spec's global attributes for a file named ``file_name`` made from the artifact
    named ``parent``."""
    mode = instrument_mode(sensor_id)
    return {
        **GLOBAL_TEXT,
        "Data_version": data_version,
        "Instrument_mode": mode,
        "Logical_file_id": file_name.removesuffix(".cdf"),
        "Logical_source": f"reach_{mode}_l1c_prelim",
        "Generation_date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "Generated_by": f"swxsoc_reach {__version__} (NASA GSFC SWxSOC), from UDL records of "
                        "The Aerospace Corporation",
        "Software_version": __version__,
        "Parents": parent,
        "UDL_Source": arrays.descriptor,
    }


def define_variables(arrays: ProductArrays) -> list[Variable]:
    """All variables of the product, in writing order (support and metadata first)."""
    n_s, n_f = len(arrays.sensor_labels), len(arrays.flavors[0])
    sensor_ids = np.array([int(label.split("-", 1)[1]) for label in arrays.sensor_labels],
                          dtype=np.int32)
    flavor_labels = [f"flavor_{k}" for k in range(n_f)]
    ts_dims, tsf_dims = (n_s,), (n_s, n_f)
    variables = [
        _epoch(arrays),
        _text("sensor_labels", list(arrays.sensor_labels), (n_s,),
              "Sensor label (idSensor) of each REACH pod"),
        _ints("sensor_ids", sensor_ids, "Sensor number (the number in the sensor label)"),
        _text("dosimeter_flavor_labels", flavor_labels, (n_f,),
              "Label of each dosimeter slot of a sensor"),
        _ints("dosimeter_flavor_ids", np.arange(n_f, dtype=np.int32),
              "Index of each dosimeter slot of a sensor"),
        _text("dosimeter_flavors", np.array(arrays.flavors, dtype=str), tsf_dims,
              "Dosimeter (seoList[0].obDescription) in each sensor's slots, sorted; blank "
              "where a sensor has fewer dosimeters",
              DEPEND_1="sensor_ids", DEPEND_2="dosimeter_flavor_ids"),
        _data("dose_rate", arrays.dose_rate, tsf_dims,
              "Dose rate of each dosimeter (seoList[0].obValue) in rad/s (= cGy/s)",
              DOSE_RATE, (0.0, 1.0), "E12.4", scale="log"),
        _data("lat", arrays.lat, ts_dims, "Geodetic latitude of the sensor", ANGLE,
              (-90.0, 90.0), "F8.3"),
        _data("lon", arrays.lon, ts_dims, "Geodetic longitude of the sensor", ANGLE,
              (-180.0, 360.0), "F8.3"),
        _data("alt", arrays.alt, ts_dims, "Altitude of the sensor above the geoid", LENGTH,
              (0.0, 100_000.0), "F10.3"),
        _data("obQuality", arrays.ob_quality, ts_dims,
              "Worst (largest) seoList[0].obQuality over the sensor's dosimeters", FLAG,
              (0.0, 65_535.0), "F6.0", VAR_NOTES=QUALITY_NOTES),
        _data("dose_rate_quality", arrays.dose_rate_quality, tsf_dims,
              "Quality flag of each dose rate (its own seoList[0].obQuality)", FLAG,
              (0.0, 65_535.0), "F6.0", VAR_NOTES=QUALITY_NOTES),
    ]
    for k, axis in enumerate("xyz"):
        variables.append(_data(
            f"sensor_position_{axis}", arrays.position[:, :, k], ts_dims,
            f"Sensor position {axis.upper()} (senPos[{k}]), GEI/J2000", LENGTH,
            (-100_000.0, 100_000.0), "F11.3", COORDINATE_SYSTEM="GEI",
            VAR_NOTES="Fill where senReferenceFrame named a frame other than J2000",
        ))
    return variables


def _epoch(arrays: ProductArrays) -> Variable:
    low, high = (_tt2000_of(dt.date(*d)) for d in _EPOCH_RANGE)
    return Variable(
        "Epoch", unix_ns_to_tt2000(arrays.epoch_ns), CDF_TIME_TT2000, True, (),
        {
            "CATDESC": "Observation time (obTime) of each sample",
            "FIELDNAM": "Epoch",
            "FILLVAL": TT2000_FILL,
            "FORMAT": "A29",  # 9999-12-31T23:59:59.999999999
            "LABLAXIS": "Epoch",
            "UNITS": "ns",
            "VALIDMIN": low,
            "VALIDMAX": high,
            "VAR_TYPE": "support_data",
            "MONOTON": "INCREASE",
            "SCALETYP": "linear",
            "TIME_BASE": "J2000",
            "TIME_SCALE": "Terrestrial Time (TT)",
            "REFERENCE_POSITION": "rotating Earth geoid",
            "RESOLUTION": resolution_text(arrays.resolution_ns),
        },
    )


def _text(name: str, values: Any, dims: tuple[int, ...], catdesc: str,
          **depends: str) -> Variable:
    width = max([1, *(len(v) for v in np.ravel(values))])
    return Variable(name, values, CDF_CHAR, False, dims, {
        "CATDESC": catdesc,
        **depends,
        "FIELDNAM": name,
        "FILLVAL": TEXT_FILL,
        "FORMAT": f"A{width}",
        "VAR_TYPE": "metadata",
    }, num_elements=width)


def _ints(name: str, values: np.ndarray, catdesc: str) -> Variable:
    return Variable(name, values, CDF_INT4, False, (len(values),), {
        "CATDESC": catdesc,
        "FIELDNAM": name,
        "FILLVAL": INT4_FILL,
        "FORMAT": f"I{len(str(int(values.max())))}",
        "VAR_TYPE": "metadata",
    })


def _data(name: str, values: np.ndarray, dims: tuple[int, ...], catdesc: str, units: Units,
          valid: tuple[float, float], fmt: str, scale: str = "linear", **extra: str) -> Variable:
    attrs: dict[str, Any] = {
        "CATDESC": catdesc,
        "DEPEND_0": "Epoch",
        "DEPEND_1": "sensor_ids",
        "LABL_PTR_1": "sensor_labels",
    }
    if len(dims) == 2:
        attrs |= {"DEPEND_2": "dosimeter_flavor_ids", "LABL_PTR_2": "dosimeter_flavor_labels"}
    attrs |= {
        # (T, S): a line per sensor; (T, S, F): sensor x time, one panel per flavor
        "DISPLAY_TYPE": "time_series" if len(dims) == 1 else "spectrogram",
        "FIELDNAM": name,
        "FILLVAL": DOUBLE_FILL,
        "FORMAT": fmt,
        "UNITS": units.units,
        "SI_conversion": units.si_conversion,
        "VALIDMIN": valid[0],
        "VALIDMAX": valid[1],
        "VAR_TYPE": "data",
        "SCALETYP": scale,
        **extra,
    }
    filled = np.where(np.isnan(values), DOUBLE_FILL, values)
    return Variable(name, np.ascontiguousarray(filled), CDF_DOUBLE, True, dims, attrs)
