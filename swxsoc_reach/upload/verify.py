"""Confirm that a stored S3 object holds exactly the local CDF's bytes.

A day is ``UPLOADED`` only after this check (historical-process.rst "Status
lifecycle"): the object's size must equal the file's, and where the server
reports a checksum we can compute (SHA256, SHA1, CRC32), it must equal ours.
S3 reports a multipart object's checksum as a *composite*: the checksum of the
concatenated part checksums, sometimes suffixed ``-<parts>``; both forms are
computed from the file, with the part size both back ends upload with.

The digest chain (issue 17): before a CDF is sent, ``check_recorded`` reads it once
for the SHA-256 that ``PROCESSED`` recorded, and that same reading (whole and per
part) is what the stored object is compared with afterwards, so what S3 holds is
the bytes the digest names, even if the file changed while it was being sent.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from swxsoc_reach.errors import CdfChangedError, UploadError
from swxsoc_reach.fsutil import sha256_file

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
# boto3's default multipart_chunksize (and threshold). Our boto3 transfer uses it
# explicitly; push_science_file gets it as the default. A CDF of ~40 MB is 5 parts.
PART_SIZE = 8 * MIB


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


class _Crc32:
    """``zlib.crc32`` behind the hashlib interface; S3 stores it as 4 big-endian bytes."""

    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes, /) -> None:
        self._value = zlib.crc32(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(4, "big")


# head_object field suffix -> digest factory, for the algorithms the stdlib computes
# (CRC32C and CRC64NVME need the AWS CRT; for those only the size is confirmed).
_DIGESTS: dict[str, Callable[[], _Digest]] = {
    "SHA256": hashlib.sha256,
    "SHA1": hashlib.sha1,
    "CRC32": _Crc32,
}


@dataclass(frozen=True)
class StoredObject:
    """What the server says it holds: size, and checksums by algorithm (as reported)."""

    size: int
    checksums: Mapping[str, str]

    @classmethod
    def from_head(cls, head: Mapping[str, Any]) -> StoredObject:
        """Read a ``head_object`` response (asked with ``ChecksumMode="ENABLED"``)."""
        checksums = {
            name.removeprefix("Checksum"): str(value)
            for name, value in head.items()
            if name.startswith("Checksum") and name != "ChecksumType" and value
        }
        return cls(size=int(head["ContentLength"]), checksums=checksums)


@dataclass(frozen=True)
class LocalChecksum:
    """One algorithm's checksum of a file, whole and as the composite of its parts."""

    algorithm: str
    whole: str
    composite: str
    parts: int
    size: int

    def matches(self, reported: str) -> bool:
        """True when the server's value is our whole-file or composite checksum."""
        value, _, suffix = reported.partition("-")
        if suffix and suffix != str(self.parts):
            return False
        return value in (self.whole, self.composite)


def local_checksum(path: Path, algorithm: str, part_size: int = PART_SIZE) -> LocalChecksum:
    """Checksum ``path`` in one pass, whole and per part of ``part_size`` bytes."""
    factory = _DIGESTS[algorithm]
    whole, over_parts = factory(), factory()
    parts = size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(part_size):
            whole.update(chunk)
            part = factory()
            part.update(chunk)
            over_parts.update(part.digest())
            parts += 1
            size += len(chunk)
    return LocalChecksum(algorithm, _b64(whole.digest()), _b64(over_parts.digest()), parts,
                         size)


def check_recorded(path: Path, sha256: str) -> LocalChecksum:
    """Raise ``CdfChangedError`` unless ``path`` still has the SHA-256 (hex) its
    ``PROCESSED`` row recorded; return the reading, for ``confirm_stored``."""
    ours = local_checksum(path, "SHA256")
    if base64.b64decode(ours.whole).hex() != sha256:
        raise CdfChangedError(
            f"CDF {path} changed on disk since it was made (its SHA-256 is not the one its "
            "PROCESSED row recorded): not uploaded. Delete it and rerun process with "
            "--retry-failed: the day is made again from its artifact")
    return ours


def check_fetched(path: Path, sha256: str, where: str) -> None:
    """Raise ``UploadError`` unless a fetched file has the recorded digest (when there is
    one: a day uploaded before the digests is fetched as it is)."""
    if sha256 and sha256_file(path) != sha256:
        raise UploadError(f"{where} does not hold the bytes its PROCESSED row recorded "
                          "(another object was stored under its key): not restored")


def confirm_stored(path: Path, stored: StoredObject, where: str,
                   sent: LocalChecksum | None = None) -> str | None:
    """Raise ``UploadError`` unless ``stored`` holds exactly ``path``'s bytes.

    ``sent``: the reading ``check_recorded`` took before the upload; compared instead
    of reading the file again. Returns the algorithm whose checksum was compared, or
    None when the server reported none we can compute (then the size alone was
    confirmed).
    """
    size = path.stat().st_size if sent is None else sent.size
    if stored.size != size:
        raise UploadError(f"{where} holds {stored.size} bytes but {path} has {size}: "
                          "the upload was incomplete; rerun with --retry-failed")
    for algorithm, reported in stored.checksums.items():
        if algorithm not in _DIGESTS:
            continue
        ours = sent if sent is not None and sent.algorithm == algorithm else local_checksum(
            path, algorithm)
        if not ours.matches(reported):
            raise UploadError(f"{where} {algorithm} checksum {reported} differs from {path}'s "
                              f"({ours.whole}): the stored object is not this file; "
                              "rerun with --retry-failed")
        return algorithm
    logger.debug("%s: no checksum to compare (%s); size %d bytes confirmed",
                 where, ", ".join(stored.checksums) or "none reported", size)
    return None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
