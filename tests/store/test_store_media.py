"""The content-addressed media store: type and size checks by magic bytes, dedup, atomic files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.errors import MediaRejected
from bot.messages import Media
from bot.store.media import MediaStore, sniff_mime

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
HEIC = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 32
OGG = b"OggS\x00\x02" + b"\x00" * 64
MP3 = b"ID3\x04\x00" + b"\x00" * 64
M4A = b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 32
AMR = b"#!AMR\n" + b"\x00" * 32
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 32
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 32
PDF = b"%PDF-1.7\n" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03" + b"\x00" * 64


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media", max_bytes=1024)


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (WEBP, "image/webp"),
        (b"GIF89a" + b"\x00" * 8, "image/gif"),
        (HEIC, "image/heic"),
        (OGG, "audio/ogg"),
        (MP3, "audio/mpeg"),
        (b"\xff\xfb\x90\x00" + b"\x00" * 8, "audio/mpeg"),
        (b"\xff\xf1\x50\x80" + b"\x00" * 8, "audio/aac"),
        (M4A, "audio/mp4"),
        (AMR, "audio/amr"),
        (WAV, "audio/wav"),
        (WEBM, "audio/webm"),
        (PDF, "application/pdf"),
        (EXE, None),
        (b"<html>", None),
        (b"", None),
    ],
)
def test_types_are_judged_by_their_bytes(data: bytes, mime: str | None) -> None:
    assert sniff_mime(data) == mime


async def test_save_is_content_addressed(media: MediaStore) -> None:
    saved = await media.save(Media(kind="photo", data=JPEG, mime="image/png", filename="x.png", source_ref="f1"))

    digest = hashlib.sha256(JPEG).hexdigest()
    assert (saved.sha256, saved.mime, saved.size, saved.kind, saved.source_ref) == (
        digest,
        "image/jpeg",  # the bytes decide, not the claimed type
        len(JPEG),
        "photo",
        "f1",
    )
    assert saved.path == media.media_dir / digest[:2] / digest[2:4] / f"{digest}.jpg"
    assert saved.path.read_bytes() == JPEG
    assert media.path_for(digest) == saved.path
    assert await media.open(digest) == JPEG


async def test_identical_bytes_are_stored_once(media: MediaStore) -> None:
    a = await media.save(Media(kind="photo", data=PNG))
    b = await media.save(Media(kind="file", data=PNG))
    assert a.path == b.path and a.sha256 == b.sha256
    files = [p for p in media.media_dir.rglob("*") if p.is_file()]
    assert files == [a.path], "one file, no temporary leftovers"


@pytest.mark.parametrize(
    ("kind", "data", "reason"),
    [
        ("photo", b"", "empty"),
        ("photo", None, "empty"),
        ("photo", b"\xff\xd8\xff" + b"\x00" * 1022, "too_large"),
        ("photo", OGG, "not_image"),
        ("photo", PDF, "not_image"),
        ("photo", EXE, "not_image"),
        ("voice", JPEG, "not_audio"),
        ("audio", b"hello world", "not_audio"),
        ("file", EXE, "unsupported_type"),
    ],
)
async def test_rejections_carry_a_reason_key(media: MediaStore, kind: str, data: bytes | None, reason: str) -> None:
    with pytest.raises(MediaRejected) as caught:
        await media.save(Media(kind=kind, data=data))  # type: ignore[arg-type]
    assert str(caught.value) == reason
    assert not media.media_dir.exists() or not any(media.media_dir.rglob("*.*"))


async def test_accepted_kinds(media: MediaStore) -> None:
    for kind, data in [("voice", OGG), ("voice", AMR), ("audio", MP3), ("voice", M4A), ("file", PDF), ("file", JPEG)]:
        assert (await media.save(Media(kind=kind, data=data))).size == len(data)  # type: ignore[arg-type]
    exactly_max = b"\xff\xd8\xff" + b"\x00" * 1021
    assert (await media.save(Media(kind="photo", data=exactly_max))).size == 1024


async def test_lookups_refuse_anything_but_a_hash(media: MediaStore) -> None:
    assert media.path_for("../../etc/passwd") is None
    assert media.path_for("A" * 64) is None
    assert media.path_for("0" * 64) is None
    assert await media.open("0" * 64) is None
