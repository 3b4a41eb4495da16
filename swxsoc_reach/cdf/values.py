"""Values UDL's schema allows beyond plain numbers: ``obQuality`` words and
``senReferenceFrame`` (issue 20.5; docs/cdf-product.md "Quality words and reference frames").

UDL's SpaceEnvObservation model says ``obQuality`` "may be a generalized statement (BAD,
GOOD, UNCERTAIN, UNKNOWN) or a numeric value", and that a null ``senReferenceFrame``
means J2000. Each such value is handled per record, vectorized over a block like
``cells``: a word becomes a documented numeric code, an unrecognised one fill; a
position in another frame is left out of the GEI position variables. Nothing here
fails a day; what it did is counted (``ValueNotes``) for the summary and the log.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from swxsoc_reach.cdf.cells import NUMBER, as_bool, as_float, as_int64, null_words

logger = logging.getLogger(__name__)

# obQuality and dose_rate_quality are "the worst (largest)" quality, VALIDMIN 0 and VALIDMAX
# 65535, so a word's code must keep "larger = worse" against REACH's numeric codes (small
# integers: 0 nominal for ~97 % of real samples, 4 otherwise). GOOD takes the least code
# there is, so it never hides a flagged dosimeter of the same sensor; the words of doubt
# take the top of the range, above any code REACH uses, so no number ever hides them.
QUALITY_CODES = {"GOOD": 0.0, "UNCERTAIN": 65533.0, "UNKNOWN": 65534.0, "BAD": 65535.0}
J2000 = "J2000"  # the frame of senPos the product's GEI variables hold; null means it too
_KEPT_NAMES = 10  # distinct unrecognised values / frames named in a summary, at most
_NAME_CHARS = 40  # ... each cut to this many characters (they are untrusted text)


@dataclass
class ValueNotes:
    """What this module did to the records read (counts; a few sample names)."""

    quality_words: Counter[str] = field(default_factory=Counter)  # word -> records
    unrecognised_quality: Counter[str] = field(default_factory=Counter)  # text -> records
    other_frames: Counter[str] = field(default_factory=Counter)  # frame -> records

    def add(self, other: ValueNotes) -> None:
        """Merge another block's notes into these."""
        self.quality_words.update(other.quality_words)
        self.unrecognised_quality.update(other.unrecognised_quality)
        self.other_frames.update(other.other_frames)

    def summary(self) -> dict[str, object]:
        """The plain-JSON form the product summary keeps."""
        return {
            "quality_words": {
                "codes": {word: int(code) for word, code in QUALITY_CODES.items()},
                "records": {word: self.quality_words[word] for word in QUALITY_CODES},
                "unrecognised": sum(self.unrecognised_quality.values()),
                "unrecognised_values": _named(self.unrecognised_quality),
            },
            "reference_frames": {
                "positions_left_out": sum(self.other_frames.values()),
                "frames": _named(self.other_frames),
            },
        }

    def log(self, name: str) -> None:
        """One line per kind of value met: INFO for words mapped, WARNING for what was
        written as fill or left out."""
        if self.quality_words:
            logger.info("%s: obQuality words mapped to codes: %s", name, ", ".join(
                f"{word} x{self.quality_words[word]} -> {int(QUALITY_CODES[word])}"
                for word in QUALITY_CODES if self.quality_words[word]))
        if self.unrecognised_quality:
            logger.warning("%s: %d records with an unrecognised obQuality (%s) written as "
                           "fill", name, sum(self.unrecognised_quality.values()),
                           _listed(self.unrecognised_quality))
        if self.other_frames:
            logger.warning("%s: senPos of %d records left out of sensor_position_x/_y/_z "
                           "(GEI): senReferenceFrame %s, not J2000", name,
                           sum(self.other_frames.values()), _listed(self.other_frames))


def _listed(counts: Counter[str]) -> str:
    return ", ".join(f"{name!r} x{count}" for name, count in _named(counts).items())


def _named(counts: Counter[str]) -> dict[str, int]:
    """The most common names, cut short (a bounded summary whatever the input holds)."""
    named: Counter[str] = Counter()
    for name, count in counts.most_common(_KEPT_NAMES):
        named[name[:_NAME_CHARS]] += count
    return dict(named)


def qualities(texts: pa.Array, notes: ValueNotes) -> np.ndarray:
    """``obQuality`` text -> float64: numbers as they are, words (any case) as their
    ``QUALITY_CODES``, null and anything else NaN (fill); counts go to ``notes``."""
    if pa.types.is_floating(texts.type):
        return as_float(texts)
    try:
        return as_float(pc.cast(texts, pa.float64()))  # REACH's usual all-numeric block
    except pa.ArrowInvalid:
        pass
    # a block holds a few distinct texts: each is read once, then spread to its records
    distinct, codes, records = _distinct(texts)
    cleaned = null_words(distinct)
    numeric = pc.match_substring_regex(cleaned, NUMBER)
    meaning = np.full(len(distinct) + 1, np.nan)  # the last slot: null records
    settled = as_bool(numeric)
    meaning[:-1][settled] = as_float(pc.cast(cleaned.filter(numeric), pa.float64()))
    for word, code in QUALITY_CODES.items():
        hit = _matches(distinct, word)
        meaning[:-1][hit] = code
        settled |= hit
        if hit.any():
            notes.quality_words[word] += int(records[hit].sum())
    _count(notes.unrecognised_quality, distinct, records, ~settled)
    return meaning[codes]


def other_frame(frames: pa.Array | None, notes: ValueNotes) -> np.ndarray | None:
    """Rows whose ``senReferenceFrame`` is not J2000 (any case; null or blank is J2000),
    or None when every row's is; counts go to ``notes``."""
    if frames is None or frames.null_count == len(frames):
        return None
    distinct, codes, records = _distinct(frames)
    other = ~_matches(distinct, f"({J2000})?")
    if not other.any():
        return None
    _count(notes.other_frames, distinct, records, other)
    return np.append(other, False)[codes]  # null: J2000


def _distinct(texts: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """The distinct texts, each row's index among them (null rows: one past the end),
    and the records per distinct text."""
    encoded = pc.dictionary_encode(texts)
    codes = as_int64(encoded.indices, missing=len(encoded.dictionary))
    records = np.bincount(codes, minlength=len(encoded.dictionary) + 1)[:-1]
    return encoded.dictionary, codes, records


def _matches(distinct: pa.Array, word: str) -> np.ndarray:
    """Which texts are ``word`` (a regex), any case, with blanks around it."""
    return as_bool(pc.match_substring_regex(distinct, rf"^\s*{word}\s*$", ignore_case=True))


def _count(counter: Counter[str], distinct: pa.Array, records: np.ndarray,
           chosen: np.ndarray) -> None:
    """Add the records of the ``chosen`` distinct texts to ``counter`` by text."""
    if chosen.any():
        names = distinct.filter(_arrow_mask(chosen)).to_pylist()
        counter.update(dict(zip(names, records[chosen].tolist(), strict=True)))


def _arrow_mask(mask: np.ndarray) -> pa.Array:
    """A numpy mask as an Arrow one, through its bits: ``pa.array`` would import pandas
    (0.3 s that a day without these values must not pay; see cells.py)."""
    bits = pa.py_buffer(np.packbits(mask, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, bits])
