"""`POST requests`: check an Open311 submission and file it as a case, like a chat report.

The submitter becomes a citizen with a ChannelIdentity on channel "open311", keyed by a hash of
the API key and their e-mail or phone (a random id when they give neither); the phone and the
API key are never stored in plain text, and neither is the e-mail.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot import sla
from bot.context import AppContext
from bot.errors import InvalidInput
from bot.messages import Media
from bot.store.views import AreaInfo, CaseInfo

log = logging.getLogger(__name__)

CHANNEL = "open311"
MAX_DESCRIPTION = 4000
MAX_ADDRESS = 255
MAX_NAME = 64
MAX_URL = 512
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}$")


class RequestError(Exception):
    """A submission we refuse: HTTP `status` and a catalog key describing why."""

    def __init__(self, status: int, key: str, **params: object) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.params = params


@dataclass(frozen=True, slots=True)
class NewRequest:
    api_key: str
    service_code: str
    lat: float | None
    lon: float | None
    address: str | None
    description: str | None
    media_url: str | None
    email: str | None
    phone: str | None
    name: str | None

    @property
    def anonymous(self) -> bool:
        """Nobody to answer to: no contact and no name given."""
        return not (self.email or self.phone or self.name)


def _field(form: Mapping[str, str], name: str, limit: int) -> str | None:
    value = (form.get(name) or "").strip()
    if len(value) > limit:
        raise RequestError(400, "dash.open311.error.too_long", field=name, limit=limit)
    return value or None


def _coordinate(raw: str | None, bound: float, name: str) -> float:
    try:
        value = float(raw or "")
    except ValueError:
        raise RequestError(400, "dash.open311.error.bad_location", field=name) from None
    if not math.isfinite(value) or abs(value) > bound:
        raise RequestError(400, "dash.open311.error.bad_location", field=name)
    return value


def key_allowed(api_key: str | None, keys: Sequence[str]) -> bool:
    """Constant-time comparison against every configured key."""
    if not api_key:
        return False
    given = api_key.encode()
    return any(hmac.compare_digest(given, k.encode()) for k in keys) if keys else False


def parse(form: Mapping[str, str], *, keys: Sequence[str], categories: Sequence[str]) -> NewRequest:
    """Validate in the spec's order of severity: key (403), service (400/404), location, rest (400)."""
    api_key = form.get("api_key")
    if not key_allowed(api_key, keys) or api_key is None:
        raise RequestError(403, "dash.open311.error.api_key")
    code = (form.get("service_code") or "").strip()
    if not code:
        raise RequestError(400, "dash.open311.error.service_code_missing")
    if code not in categories:
        raise RequestError(404, "dash.open311.error.service_unknown", code=code[:64])
    lat = lon = None
    if form.get("lat") or form.get("long"):
        lat = _coordinate(form.get("lat"), 90.0, "lat")
        lon = _coordinate(form.get("long"), 180.0, "long")
    address = _field(form, "address_string", MAX_ADDRESS)
    if lat is None and address is None:
        raise RequestError(400, "dash.open311.error.location_missing")
    media_url = _field(form, "media_url", MAX_URL)
    if media_url is not None and not media_url.lower().startswith(("https://", "http://")):
        raise RequestError(400, "dash.open311.error.media_url")
    email = _field(form, "email", 254)
    if email is not None and not _EMAIL.match(email):
        raise RequestError(400, "dash.open311.error.email")
    first, last = _field(form, "first_name", MAX_NAME), _field(form, "last_name", MAX_NAME)
    return NewRequest(
        api_key=api_key, service_code=code, lat=lat, lon=lon, address=address,
        description=_field(form, "description", MAX_DESCRIPTION), media_url=media_url,
        email=email.lower() if email else None, phone=_field(form, "phone", 32),
        name=" ".join(p for p in (first, last) if p) or None,
    )


def identity_key(ctx: AppContext, req: NewRequest) -> str:
    """Stable per (API key, person) so one person's requests share a citizen; random if unknown."""
    if req.phone:
        try:
            who = "phone:" + ctx.store.citizens.phone_hash(req.phone)
        except InvalidInput:
            raise RequestError(400, "dash.open311.error.phone") from None
    elif req.email:
        who = "email:" + req.email
    else:
        return "anon-" + secrets.token_hex(16)
    return hashlib.sha256(f"{req.api_key}\n{who}".encode()).hexdigest()[:48]


async def _area_of_address(ctx: AppContext, address: str) -> AreaInfo | None:
    """The area named in "12 Nguyễn Sinh Cung, phường Vỹ Dạ, Huế": the street part is dropped
    by trying ever shorter comma-separated tails; the best score wins, ties to the most specific."""
    parts = [p.strip() for p in address.split(",") if p.strip()]
    best: tuple[float, AreaInfo] | None = None
    for i in range(len(parts)):
        found = await ctx.store.areas.search(", ".join(parts[i:]), limit=1)
        if found and (best is None or found[0][1] > best[0]):
            best = (found[0][1], found[0][0])
    return best[1] if best else None


async def file_request(ctx: AppContext, req: NewRequest, *, locale: str) -> CaseInfo:
    """Create (or find) the submitter, then the case with SLA deadlines and its location."""
    store = ctx.store
    citizen = await store.citizens.get_or_create(CHANNEL, identity_key(ctx, req), display_name=req.name,
                                                 locale=locale)
    area = None
    if req.lat is not None and req.lon is not None:
        area = await store.areas.nearest(req.lat, req.lon)
    elif req.address:
        area = await _area_of_address(ctx, req.address)
    ack_due, due = sla.due_times(ctx.settings, ctx.clock.now(), req.service_code)
    media = [Media(kind="photo", source_ref=req.media_url, error="remote_url")] if req.media_url else []
    case = await store.cases.create(
        citizen.id, category=req.service_code, description=req.description,
        area_id=area.id if area else None, lat=req.lat, lon=req.lon,
        anonymous=req.anonymous or citizen.anonymous, channel=CHANNEL, media=media,
        ack_due_at=ack_due, due_at=due,
    )
    if req.address:  # officials need the street address; the public sees only the area
        await store.cases.add_event(case.id, kind="note", actor_type="system", body=req.address, public=False)
    log.info("open311 case filed code=%s category=%s area=%s", case.code, case.category,
             area.code if area else None)
    return case
