"""Confirming a stored object against the local file (size, whole and composite checksums)."""

from __future__ import annotations

import base64
import hashlib
import zlib
from pathlib import Path

import pytest

from swxsoc_reach.errors import UploadError
from swxsoc_reach.upload.verify import StoredObject, confirm_stored, local_checksum

PART = 1024


@pytest.fixture
def three_parts(tmp_path: Path) -> Path:
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 10)  # 2560 bytes: parts of 1024, 1024, 512
    return path


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_local_checksum_whole_and_composite_sha256(three_parts: Path) -> None:
    data = three_parts.read_bytes()
    parts = [data[i:i + PART] for i in range(0, len(data), PART)]
    ours = local_checksum(three_parts, "SHA256", part_size=PART)
    assert ours.whole == _b64(hashlib.sha256(data).digest())
    assert ours.composite == _b64(hashlib.sha256(
        b"".join(hashlib.sha256(p).digest() for p in parts)).digest())
    assert ours.parts == 3


def test_local_checksum_crc32_is_big_endian(three_parts: Path) -> None:
    data = three_parts.read_bytes()
    assert local_checksum(three_parts, "CRC32").whole == _b64(zlib.crc32(data).to_bytes(4, "big"))


def test_local_checksum_matches_composite_with_part_count_suffix(three_parts: Path) -> None:
    ours = local_checksum(three_parts, "SHA1", part_size=PART)
    assert ours.matches(ours.whole)
    assert ours.matches(f"{ours.composite}-3")
    assert not ours.matches(f"{ours.composite}-4")
    assert not ours.matches(local_checksum(three_parts, "SHA256").whole)


def test_confirm_stored_accepts_the_same_bytes(three_parts: Path) -> None:
    sha = local_checksum(three_parts, "SHA256").whole
    stored = StoredObject(three_parts.stat().st_size, {"SHA256": sha})
    assert confirm_stored(three_parts, stored, "s3://b/k") == "SHA256"


def test_confirm_stored_fails_when_size_differs(three_parts: Path) -> None:
    with pytest.raises(UploadError, match=r"s3://b/k holds 10 bytes but .*f.bin has 2560"):
        confirm_stored(three_parts, StoredObject(10, {}), "s3://b/k")


def test_confirm_stored_fails_when_checksum_differs(three_parts: Path) -> None:
    stored = StoredObject(2560, {"CRC32": _b64(b"\0\0\0\1")})
    with pytest.raises(UploadError, match="CRC32 checksum AAAAAQ== differs"):
        confirm_stored(three_parts, stored, "s3://b/k")


def test_confirm_stored_checks_size_only_when_no_computable_checksum(three_parts: Path) -> None:
    stored = StoredObject(2560, {"CRC64NVME": "whatever=="})
    assert confirm_stored(three_parts, stored, "s3://b/k") is None


def test_stored_object_reads_head_object_fields() -> None:
    head = {"ContentLength": 5, "ChecksumSHA256": "abc=", "ChecksumType": "FULL_OBJECT",
            "ChecksumCRC32": None, "ETag": '"x"'}
    assert StoredObject.from_head(head) == StoredObject(5, {"SHA256": "abc="})
