"""Plain, frozen snapshots of store rows handed to callers.

Callers (dialogs, channels, CLI) never receive live ORM objects, so they can never trigger lazy
loading outside a session nor change a row by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import casecode
from bot.store import models as m


@dataclass(frozen=True, slots=True)
class IdentityInfo:
    id: int
    citizen_id: int
    channel: str
    channel_user_id: str
    display_name: str | None
    created_at: datetime
    last_interaction_at: datetime | None
    unreachable_at: datetime | None

    @property
    def reachable(self) -> bool:
        return self.unreachable_at is None

    @classmethod
    def of(cls, row: m.ChannelIdentity) -> IdentityInfo:
        return cls(
            id=row.id,
            citizen_id=row.citizen_id,
            channel=row.channel,
            channel_user_id=row.channel_user_id,
            display_name=row.display_name,
            created_at=row.created_at,
            last_interaction_at=row.last_interaction_at,
            unreachable_at=row.unreachable_at,
        )


@dataclass(frozen=True, slots=True)
class CitizenInfo:
    id: int
    locale: str
    display_name: str | None
    home_area_id: int | None
    consent_version: str | None
    consent_at: datetime | None
    anonymous: bool
    phone_verified: bool
    created_at: datetime
    last_seen_at: datetime | None
    identities: tuple[IdentityInfo, ...] = ()

    @property
    def has_consent(self) -> bool:
        return self.consent_at is not None

    @classmethod
    def of(cls, row: m.Citizen, identities: list[m.ChannelIdentity] | None = None) -> CitizenInfo:
        idents = row.identities if identities is None else identities
        return cls(
            id=row.id,
            locale=row.locale,
            display_name=row.display_name,
            home_area_id=row.home_area_id,
            consent_version=row.consent_version,
            consent_at=row.consent_at,
            anonymous=row.anonymous,
            phone_verified=row.phone_verified,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            identities=tuple(IdentityInfo.of(i) for i in sorted(idents, key=lambda i: i.id)),
        )


@dataclass(frozen=True, slots=True)
class AreaInfo:
    id: int
    code: str
    level: str  # province | commune
    kind: str | None  # Tỉnh, Thành phố, Xã, Phường, Đặc khu
    name: str  # full name, e.g. "Phường Sài Gòn"
    search_key: str
    parent_id: int | None
    parent_name: str | None
    lat: float | None
    lon: float | None

    @property
    def short_name(self) -> str:
        """The name without its kind prefix: "Phường Sài Gòn" → "Sài Gòn"."""
        if self.kind and self.name.startswith(self.kind + " "):
            return self.name[len(self.kind) + 1 :]
        return self.name

    @property
    def full_name(self) -> str:
        """ "Phường Sài Gòn, Thành phố Hồ Chí Minh" for communes; the name for provinces."""
        return f"{self.name}, {self.parent_name}" if self.parent_name else self.name


@dataclass(frozen=True, slots=True)
class CaseInfo:
    id: int
    code: str
    citizen_id: int
    category: str
    description: str | None
    area_id: int | None
    area_name: str | None
    lat: float | None
    lon: float | None
    status: str
    priority: str
    assignee_unit: str | None
    anonymous: bool
    source_channel: str
    merged_into_id: int | None
    ack_due_at: datetime | None
    due_at: datetime | None
    escalated_at: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    created_at: datetime
    updated_at: datetime
    version: int

    @property
    def display_code(self) -> str:
        """The code as shown to people: `1234 5678`."""
        return casecode.display(self.code)

    @classmethod
    def of(cls, row: m.Case, area_name: str | None) -> CaseInfo:
        return cls(
            id=row.id,
            code=row.code,
            citizen_id=row.citizen_id,
            category=row.category,
            description=row.description,
            area_id=row.area_id,
            area_name=area_name,
            lat=row.lat,
            lon=row.lon,
            status=row.status,
            priority=row.priority,
            assignee_unit=row.assignee_unit,
            anonymous=row.anonymous,
            source_channel=row.source_channel,
            merged_into_id=row.merged_into_id,
            ack_due_at=row.ack_due_at,
            due_at=row.due_at,
            escalated_at=row.escalated_at,
            acknowledged_at=row.acknowledged_at,
            resolved_at=row.resolved_at,
            closed_at=row.closed_at,
            rating=row.rating,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
        )


@dataclass(frozen=True, slots=True)
class EventInfo:
    id: int
    case_id: int
    kind: str
    actor_type: str
    actor_id: int | None
    from_status: str | None
    to_status: str | None
    body: str | None
    public: bool
    created_at: datetime

    @classmethod
    def of(cls, row: m.CaseEvent) -> EventInfo:
        return cls(
            id=row.id,
            case_id=row.case_id,
            kind=row.kind,
            actor_type=row.actor_type,
            actor_id=row.actor_id,
            from_status=row.from_status,
            to_status=row.to_status,
            body=row.body,
            public=row.public,
            created_at=row.created_at,
        )


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    id: int
    case_id: int | None
    comment_id: int | None
    kind: str
    sha256: str | None
    mime: str | None
    size: int | None
    source_ref: str | None
    note: str | None
    created_at: datetime

    @property
    def stored(self) -> bool:
        """True when the bytes are in the media store (False: the download failed, see `note`)."""
        return self.sha256 is not None

    @classmethod
    def of(cls, row: m.Attachment) -> AttachmentInfo:
        return cls(
            id=row.id,
            case_id=row.case_id,
            comment_id=row.comment_id,
            kind=row.kind,
            sha256=row.sha256,
            mime=row.mime,
            size=row.size,
            source_ref=row.source_ref,
            note=row.note,
            created_at=row.created_at,
        )


@dataclass(frozen=True, slots=True)
class AuditInfo:
    id: int
    official_id: int | None
    channel: str | None
    channel_user_id: str | None
    action: str
    target: str | None
    allowed: bool
    detail: dict[str, object]
    created_at: datetime

    @classmethod
    def of(cls, row: m.AuditLog) -> AuditInfo:
        return cls(
            id=row.id,
            official_id=row.official_id,
            channel=row.channel,
            channel_user_id=row.channel_user_id,
            action=row.action,
            target=row.target,
            allowed=row.allowed,
            detail=dict(row.detail or {}),
            created_at=row.created_at,
        )
