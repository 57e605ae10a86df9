"""`ZaloChannel`: the Channel protocol (send) and the AdmissionPolicy (admit) for Zalo OA.

Each Outbound becomes one or more consultation messages (render.py); images that live in our
media dir are uploaded (shrunk to ≤ 1 MB) and sent as media templates, URLs are sent as is.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bot.channels import Admission, SendKind
from bot.errors import PermanentSendError
from bot.i18n import Catalogs
from bot.messages import Outbound
from bot.ratelimit import RateLimiter
from bot.store.citizens import CitizenRepo
from integrations.zalo import render
from integrations.zalo.admission import WindowPolicy
from integrations.zalo.api import ZaloApi
from integrations.zalo.media import read_for_upload

log = logging.getLogger(__name__)

CHANNEL = "zalo"
GLOBAL_BUCKET = "zalo:global"
_UPLOAD_CACHE_SIZE = 256


class ZaloChannel:
    name = CHANNEL

    def __init__(self, api: ZaloApi, policy: WindowPolicy, i18n: Catalogs, citizens: CitizenRepo,
                 media_dir: Path, *, limiter: RateLimiter, rate_per_second: float = 60.0) -> None:
        self.api = api
        self._policy = policy
        self._i18n = i18n
        self._citizens = citizens
        self._media_dir = media_dir.resolve()
        self._limiter = limiter
        self._rate = rate_per_second
        self._uploads: OrderedDict[str, str] = OrderedDict()

    async def send(self, user_id: str, messages: Sequence[Outbound]) -> None:
        """Deliver in order; raises RetryLater / WindowClosed / PermanentSendError."""
        for message in messages:
            await self.send_one(user_id, message)

    async def send_one(self, user_id: str, message: Outbound) -> None:
        hints = await self._hints(user_id) if render.needs_hints(message) else render.Hints()
        for part in render.render(message, hints):
            if isinstance(part, render.ImagePart):
                image = await self._image_message(part.source)
                if image is None:
                    continue
                await self._send(user_id, image)
            else:
                await self._send(user_id, part.message)

    async def admit(self, user_id: str, kind: SendKind, now: datetime) -> Admission:
        return await self._policy.admit(user_id, kind, now)

    async def locale_of(self, user_id: str) -> str:
        """The citizen's language, for texts the channel adds itself."""
        ident = await self._citizens.identity_for(CHANNEL, user_id)
        citizen = await self._citizens.get(ident.citizen_id) if ident is not None else None
        return self._i18n.normalize_locale(citizen.locale if citizen else None)

    async def _send(self, user_id: str, message: render.Message) -> None:
        await self._wait_turn()
        await self.api.send_message(user_id, message)

    async def _wait_turn(self) -> None:
        """At most `rate_per_second` calls, counted across every process sharing the limiter."""
        if self._rate > 0:
            await self._limiter.acquire(GLOBAL_BUCKET, self._rate, 1)

    async def _hints(self, user_id: str) -> render.Hints:
        locale = await self.locale_of(user_id)
        t = self._i18n.t
        return render.Hints(
            location=t(locale, "zalo.location_hint"),
            contact_title=t(locale, "zalo.contact_title"),
            contact_subtitle=t(locale, "zalo.contact_subtitle"),
            choose=t(locale, "zalo.choose"),
        )

    async def _image_message(self, source: str) -> render.Message | None:
        if source.startswith(("https://", "http://")):
            return render.media_message(url=source)
        path = self._media_path(source)
        if path is None:
            log.warning("zalo: image %r is not a file in the media dir; sent without it", source[:120])
            return None
        key = hashlib.sha256(str(path).encode()).hexdigest()
        attachment_id = self._uploads.get(key)
        if attachment_id is None:
            try:
                data, filename, mime = await read_for_upload(path)
            except (OSError, ValueError) as exc:
                raise PermanentSendError(f"image unreadable: {exc}") from exc
            await self._wait_turn()
            attachment_id = await self.api.upload_image(data, filename, mime)
            self._uploads[key] = attachment_id
            while len(self._uploads) > _UPLOAD_CACHE_SIZE:
                self._uploads.popitem(last=False)
        return render.media_message(attachment_id=attachment_id)

    def _media_path(self, source: str) -> Path | None:
        candidate = Path(source)
        path = (candidate if candidate.is_absolute() else self._media_dir / candidate).resolve()
        if not path.is_relative_to(self._media_dir) or not path.is_file():
            return None
        return path
