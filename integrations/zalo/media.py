"""Bytes in and out: attachment downloads (size-capped, timed out) and images shrunk for upload.

A failed download never fails the message: it becomes `Media(kind, data=None, error=...)` so
the report is kept with a note. Images over Zalo's 1 MB upload limit are re-encoded as JPEG
with Pillow, smaller each round, in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import aiohttp
from PIL import Image, UnidentifiedImageError

from bot.messages import Media
from integrations.zalo.events import AttachmentRef

log = logging.getLogger(__name__)

UPLOAD_LIMIT = 1024 * 1024
CHUNK = 64 * 1024


class Downloader:
    def __init__(self, http: aiohttp.ClientSession, max_bytes: int, timeout: float = 30.0) -> None:
        self._http = http
        self._max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=10)

    async def fetch(self, ref: AttachmentRef) -> Media:
        media = Media(kind=ref.kind, filename=ref.filename, source_ref=ref.url[:512])
        if ref.size is not None and ref.size > self._max_bytes:
            media.error = "too_large"
            return media
        try:
            async with self._http.get(ref.url, timeout=self._timeout) as resp:
                if resp.status != 200:
                    media.error = f"http_{resp.status}"
                    return media
                if resp.content_length is not None and resp.content_length > self._max_bytes:
                    media.error = "too_large"
                    return media
                buffer = bytearray()
                async for chunk in resp.content.iter_chunked(CHUNK):
                    buffer.extend(chunk)
                    if len(buffer) > self._max_bytes:
                        media.error = "too_large"
                        return media
                media.mime = resp.headers.get("Content-Type", "").split(";")[0].strip() or None
        except TimeoutError:
            media.error = "timeout"
            return media
        except aiohttp.ClientError as exc:
            media.error = f"unreachable: {type(exc).__name__}"
            return media
        if not buffer:
            media.error = "empty"
            return media
        media.data = bytes(buffer)
        return media


async def read_for_upload(path: Path, limit: int = UPLOAD_LIMIT) -> tuple[bytes, str, str]:
    """The image at `path` as (bytes ≤ limit, filename, mime), re-encoded when too big."""
    return await asyncio.to_thread(_read_for_upload, path, limit)


def _read_for_upload(path: Path, limit: int) -> tuple[bytes, str, str]:
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if len(data) <= limit and suffix in (".jpg", ".jpeg", ".png", ".gif"):
        mime = {".png": "image/png", ".gif": "image/gif"}.get(suffix, "image/jpeg")
        return data, path.name, mime
    return shrink(data, limit), path.stem + ".jpg", "image/jpeg"


def shrink(data: bytes, limit: int = UPLOAD_LIMIT) -> bytes:
    """A JPEG of at most `limit` bytes; ValueError when the bytes are not an image."""
    try:
        opened = Image.open(io.BytesIO(data))
        opened.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError("not an image") from exc
    image = opened.convert("RGB")
    quality, max_side = 85, 2048
    while True:
        if max(image.size) > max_side:
            image.thumbnail((max_side, max_side))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality, optimize=True)
        if out.tell() <= limit or max_side <= 256:
            return out.getvalue()
        quality = max(40, quality - 15)
        max_side = int(max_side * 0.75)
