"""Update → what to do with it: an `Inbound` for the engine, a short notice, or nothing.

Pure mapping, no I/O: media arrive here as references (`MediaRef`); the processor downloads
them. `message_id` is the update_id, so the engine's de-duplication covers webhook retries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import Chat, Message, Update, User
from telegram.constants import ChatMemberStatus

from bot.messages import Contact, Inbound, Location, MediaKind

CHANNEL = "telegram"


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A file Telegram holds for us, fetched with getFile before the engine sees the message."""

    kind: MediaKind
    file_id: str
    mime: str | None = None
    file_size: int | None = None
    filename: str | None = None


@dataclass(slots=True)
class Handle:
    """Give this to the engine (after downloading `media`)."""

    inbound: Inbound
    media: list[MediaRef] = field(default_factory=list)
    callback_query_id: str | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """Answer with one catalog text instead of running a dialog (edited message, group chat…)."""

    chat_id: str
    key: str
    locale: str | None
    group: bool = False


@dataclass(frozen=True, slots=True)
class Unreachable:
    """The user blocked the bot: stop proactive messages."""

    user_id: str


@dataclass(frozen=True, slots=True)
class Ignore:
    reason: str
    callback_query_id: str | None = None  # still answered, so the button stops spinning


Decision = Handle | Notice | Unreachable | Ignore


def classify(update: Update) -> Decision:
    """What this update asks of us. Never raises on odd but valid updates."""
    if update.callback_query is not None:
        return _callback(update)
    if update.message is not None:
        return _message(update, update.message)
    edited = update.edited_message
    if edited is not None:
        if edited.chat.type != Chat.PRIVATE or edited.location is not None:
            return Ignore("edited outside a private chat, or a live location update")
        return Notice(str(edited.chat.id), "telegram.edited", _lang(edited.from_user))
    member = update.my_chat_member
    if member is not None:
        if member.chat.type == Chat.PRIVATE and member.new_chat_member.status == ChatMemberStatus.BANNED:
            return Unreachable(str(member.from_user.id))
        return Ignore("chat member change")
    return Ignore("update type not handled")


def _callback(update: Update) -> Decision:
    query = update.callback_query
    assert query is not None
    message = query.message
    if message is not None and message.chat.type != Chat.PRIVATE:
        return Ignore("button pressed outside a private chat", callback_query_id=query.id)
    if not query.data:
        return Ignore("callback without data", callback_query_id=query.id)
    inbound = _base(update, query.from_user)
    inbound.payload = query.data
    return Handle(inbound, callback_query_id=query.id)


def _message(update: Update, message: Message) -> Decision:
    user = message.from_user
    if user is None or user.is_bot:
        return Ignore("message without a human sender")
    if message.chat.type != Chat.PRIVATE:
        if message.new_chat_members or message.text or message.caption or message.effective_attachment:
            return Notice(str(message.chat.id), "telegram.group_private", _lang(user), group=True)
        return Ignore("group service message")

    inbound = _base(update, user)
    inbound.received_at = message.date
    inbound.text = message.text or message.caption
    media: list[MediaRef] = []
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        media.append(MediaRef("photo", largest.file_id, "image/jpeg", largest.file_size))
    if message.voice is not None:
        voice = message.voice
        media.append(MediaRef("voice", voice.file_id, voice.mime_type or "audio/ogg", voice.file_size))
    if message.audio is not None:
        audio = message.audio
        media.append(MediaRef("audio", audio.file_id, audio.mime_type, audio.file_size, audio.file_name))
    if message.document is not None:
        doc = message.document
        mime = doc.mime_type or ""
        kind: MediaKind = "photo" if mime.startswith("image/") else "audio" if mime.startswith("audio/") else "file"
        media.append(MediaRef(kind, doc.file_id, doc.mime_type, doc.file_size, doc.file_name))
    if message.location is not None:
        inbound.location = Location(message.location.latitude, message.location.longitude)
    if message.contact is not None:
        contact = message.contact
        inbound.contact = Contact(contact.phone_number, verified=contact.user_id == user.id)

    has_content = bool(inbound.text or media or inbound.location or inbound.contact)
    if not has_content:
        if message.video or message.video_note or message.animation:
            return Notice(str(message.chat.id), "telegram.unsupported_media", _lang(user))
        if message.sticker is not None:
            inbound.event = "sticker"
            return Handle(inbound)
        return Ignore("message without content we read")
    return Handle(inbound, media)


def _base(update: Update, user: User) -> Inbound:
    return Inbound(
        channel=CHANNEL,
        user_id=str(user.id),
        message_id=str(update.update_id),
        display_name=user.full_name or None,
        locale_hint=user.language_code,
    )


def _lang(user: User | None) -> str | None:
    return user.language_code if user is not None else None
