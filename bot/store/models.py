"""The shared case store's tables (SQLAlchemy 2 declarative). Identical on SQLite and PostgreSQL.

Times are stored timezone-aware (UTC). JSON columns hold small lists (area codes, options).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# BigInteger ids on PostgreSQL, INTEGER (rowid alias, autoincrement) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on both backends (SQLite drops tzinfo; we put UTC back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            from datetime import UTC

            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    # Named constraints, so later migrations can alter them (SQLite batch mode needs names).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


# --- People and places -------------------------------------------------------------------


class Area(Base):
    """A province or a commune/ward (post-2025: no district level)."""

    __tablename__ = "areas"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    level: Mapped[str] = mapped_column(String(16))  # province | commune
    kind: Mapped[str | None] = mapped_column(String(32))  # Tỉnh, Thành phố, Xã, Phường, Đặc khu
    name: Mapped[str] = mapped_column(String(128))
    search_key: Mapped[str] = mapped_column(String(128), index=True)  # lowercase, no diacritics
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)


class Citizen(Base):
    __tablename__ = "citizens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    display_name: Mapped[str | None] = mapped_column(String(128))
    home_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None]
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]

    identities: Mapped[list[ChannelIdentity]] = relationship(back_populates="citizen", lazy="selectin")


class ChannelIdentity(Base):
    """One account of a citizen on one channel; a person may have several."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    channel_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    last_interaction_at: Mapped[datetime | None]  # Zalo's 48 h / 7 day window counts from here
    unreachable_at: Mapped[datetime | None]  # unfollowed / blocked the bot: send nothing

    citizen: Mapped[Citizen] = relationship(back_populates="identities")


# --- Cases -------------------------------------------------------------------------------


class Case(Base):
    """A citizen's report and its lifecycle (DESIGN.md: received → … → closed)."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    category: Mapped[str] = mapped_column(String(48), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), index=True, default="received")
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    assignee_unit: Mapped[str | None] = mapped_column(String(128))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    source_channel: Mapped[str] = mapped_column(String(16))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    ack_due_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    escalated_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class CaseSupporter(Base):
    """A co-signer: another citizen who reports the same problem."""

    __tablename__ = "case_supporters"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), primary_key=True)
    created_at: Mapped[datetime]


class CaseEvent(Base):
    """The timeline: every status change, reply, note, assignment, merge, rating."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor_type: Mapped[str] = mapped_column(String(16))  # citizen | official | system
    actor_id: Mapped[int | None] = mapped_column(BigId)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    body: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)  # internal notes are not
    created_at: Mapped[datetime]


class Attachment(Base):
    """A photo, voice note or file; bytes live content-addressed in the media dir."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # photo | voice | audio | file
    sha256: Mapped[str | None] = mapped_column(String(64))
    mime: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    source_ref: Mapped[str | None] = mapped_column(String(512))
    note: Mapped[str | None] = mapped_column(Text)  # e.g. why a download failed
    created_at: Mapped[datetime]


# --- Officials and accountability --------------------------------------------------------


class Official(Base):
    """A person acting for a unit, identified by channel identity (numeric id, never a username)."""

    __tablename__ = "officials"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    channel_user_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # admin | official | front | moderator
    unit: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(128))
    area_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # empty = everywhere
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)  # empty = all
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Invite(Base):
    """A one-time code an admin hands to a new official (`/invite` → `/join CODE`)."""

    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(128))
    area_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    expires_at: Mapped[datetime]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class AuditLog(Base):
    """Every admin action, allowed or refused."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    official_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    channel_user_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str | None] = mapped_column(String(64), index=True)  # case code, poll id…
    allowed: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(index=True)


# --- Participation -----------------------------------------------------------------------


class Subscription(Base):
    """A citizen's opt-in to an area's announcements. STOP sets `active` false at once."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("citizen_id", "area_id", "topic"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    topic: Mapped[str] = mapped_column(String(32), default="all")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]


class Poll(Base):
    __tablename__ = "polls"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(16), default="single")  # single | approval
    max_choices: Mapped[int] = mapped_column(Integer, default=1)
    area_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    require_verified_phone: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")  # draft | open | closed
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    results_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class PollOption(Base):
    __tablename__ = "poll_options"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))


class Vote(Base):
    """One ballot per citizen per poll, enforced here; choices live in VoteChoice."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("poll_id", "citizen_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id"), index=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class VoteChoice(Base):
    __tablename__ = "vote_choices"
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id", ondelete="CASCADE"), primary_key=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("poll_options.id"), primary_key=True)


class Consultation(Base):
    """A front's request for comments on a draft or plan."""

    __tablename__ = "consultations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(512))
    area_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    question: Mapped[str | None] = mapped_column(Text)
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    deadline: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    created_at: Mapped[datetime]


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    text: Mapped[str | None] = mapped_column(Text)
    choice: Mapped[str | None] = mapped_column(String(200))
    themes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]


# --- Outbox ------------------------------------------------------------------------------


class Broadcast(Base):
    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="announcement")  # announcement|poll|consultation
    text: Mapped[str] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(String(512))
    area_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("polls.id"))
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultations.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|planning|sending|done
    planned_count: Mapped[int] = mapped_column(Integer, default=0)
    planned_through_citizen_id: Mapped[int] = mapped_column(BigId, default=0)  # resumable planning
    created_by: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    created_at: Mapped[datetime]


class Delivery(Base):
    """One outgoing proactive message (the durable outbox).

    Notifications carry their rendered message in `payload`; broadcast rows leave it empty and
    take the broadcast's content. `dedupe_key` makes enqueueing idempotent.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "citizen_id"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(96), unique=True)
    kind: Mapped[str] = mapped_column(String(24))  # notification | broadcast | digest | poll_result
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    official_id: Mapped[int | None] = mapped_column(ForeignKey("officials.id"))
    channel: Mapped[str | None] = mapped_column(String(16))
    channel_user_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[list[Any] | None] = mapped_column(JSON)  # list of Outbound.to_dict()
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # pending | sending | sent | failed | window_closed | deferred | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


# --- Channel plumbing --------------------------------------------------------------------


class InboundEvent(Base):
    """A raw webhook event accepted before processing (Zalo: answer 200 fast, then work durably)."""

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]


class ChannelCredential(Base):
    """Rotating platform credentials (Zalo access + refresh token), replaced atomically."""

    __tablename__ = "channel_credentials"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]
