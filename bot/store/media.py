"""Content-addressed media files (photos, voice notes, documents) on local disk.

Bytes are checked by their magic numbers, never by the name or MIME type a client claims, and
stored once per content under `<media_dir>/ab/cd/<sha256>.<ext>`, written atomically.
`MediaRejected` carries a reason key as its message: "empty", "too_large", "not_image",
"not_audio" or "unsupported_type".
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.errors import MediaRejected
from bot.messages import Media, MediaKind

log = logging.getLogger(__name__)

DEFAULT_MAX_MEDIA_BYTES = 20 * 1024 * 1024

_IMAGE_MIMES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/avif"})
_AUDIO_MIMES = frozenset(
    {
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "audio/amr-wb",
        "audio/wav",
        "audio/webm",
    }
)
_FILE_MIMES = _IMAGE_MIMES | _AUDIO_MIMES | {"application/pdf"}

EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/heic": "heic",
    "image/avif": "avif",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "audio/amr-wb": "awb",
    "audio/wav": "wav",
    "audio/webm": "webm",
    "application/pdf": "pdf",
}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_MP4_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"mp41", b"mp42", b"isom", b"iso2", b"3gp4", b"3gp5", b"3gp6", b"3g2a"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sniff_mime(data: bytes) -> str | None:
    """The MIME type of `data` judged from its first bytes, or None when not one we accept."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "image/heic"
        if brand in (b"avif", b"avis"):
            return "image/avif"
        if brand in _MP4_AUDIO_BRANDS:
            return "audio/mp4"
        return None
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"#!AMR-WB\n"):
        return "audio/amr-wb"
    if head.startswith(b"#!AMR\n"):
        return "audio/amr"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "audio/webm"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS: sync + layer 00
            return "audio/aac"
        if head[1] & 0xE0 == 0xE0 and (head[1] >> 1) & 0x3:  # MPEG audio frame sync, layer set
            return "audio/mpeg"
    return None


def _accepted(kind: MediaKind) -> tuple[frozenset[str], str]:
    if kind == "photo":
        return _IMAGE_MIMES, "not_image"
    if kind in ("voice", "audio"):
        return _AUDIO_MIMES, "not_audio"
    return frozenset(_FILE_MIMES), "unsupported_type"


@dataclass(frozen=True, slots=True)
class SavedMedia:
    """A file safely in the media store; `path` is absolute."""

    sha256: str
    mime: str
    size: int
    path: Path
    kind: MediaKind
    source_ref: str | None = None


class MediaStore:
    """Validates and keeps media bytes; file I/O runs in worker threads."""

    def __init__(self, media_dir: Path, *, max_bytes: int = DEFAULT_MAX_MEDIA_BYTES) -> None:
        self.media_dir = media_dir.resolve()
        self.max_bytes = max_bytes

    def validate(self, media: Media) -> str:
        """The sniffed MIME type of `media`, or MediaRejected with a reason key."""
        data = media.data
        if not data:
            raise MediaRejected("empty")
        if len(data) > self.max_bytes:
            raise MediaRejected("too_large")
        mime = sniff_mime(data)
        allowed, reason = _accepted(media.kind)
        if mime is None or mime not in allowed:
            raise MediaRejected(reason)
        return mime

    async def save(self, media: Media) -> SavedMedia:
        """Store `media.data` once per content; identical bytes map to the same file."""
        mime = self.validate(media)
        data = media.data
        assert data is not None  # validate() refuses empty media
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest, EXTENSIONS[mime])
        await asyncio.to_thread(_write_once, path, data)
        log.debug("media saved sha256=%s mime=%s size=%d", digest[:12], mime, len(data))
        return SavedMedia(
            sha256=digest, mime=mime, size=len(data), path=path, kind=media.kind, source_ref=media.source_ref
        )

    def path_for(self, sha256: str) -> Path | None:
        """Where the bytes with this hash live, or None (also for anything not a sha256)."""
        if not _SHA256.match(sha256):
            return None
        folder = self.media_dir / sha256[:2] / sha256[2:4]
        for ext in EXTENSIONS.values():
            candidate = folder / f"{sha256}.{ext}"
            if candidate.is_file():
                return candidate
        return None

    async def open(self, sha256: str) -> bytes | None:
        """The stored bytes, or None when unknown."""
        path = await asyncio.to_thread(self.path_for, sha256)
        if path is None:
            return None
        return await asyncio.to_thread(path.read_bytes)

    def _path(self, sha256: str, ext: str) -> Path:
        return self.media_dir / sha256[:2] / sha256[2:4] / f"{sha256}.{ext}"


def _write_once(path: Path, data: bytes) -> None:
    """Write via a temporary file and an atomic rename; skip when the content is already there."""
    if path.is_file() and path.stat().st_size == len(data):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
