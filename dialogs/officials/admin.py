"""Growing the team from the chat: an admin's /invite ROLE AREA [unit…] → one-time code;
the invitee sends /join CODE. Identity is the channel's numeric user id, never a username."""

from __future__ import annotations

from bot.router import Router
from bot.store.officials import ROLES, InviteUnusable
from bot.turn import Turn
from dialogs.officials import cards
from dialogs.officials.auth import actor, audit
from dialogs.officials.parse import rest_of_command

router = Router("officials.admin")


@router.on_command("invite")
async def invite_command(turn: Turn) -> None:
    who = await actor(turn, "invite")
    if who is None:
        return
    words = rest_of_command(turn.text).split()
    role = words[0].lower() if words else ""
    if role not in ROLES or len(words) < 2:
        await audit(turn, "invite", allowed=False, official=who.official, reason="bad_args")
        turn.say("off.usage_invite")
        return
    area = await turn.store.areas.by_code(words[1])
    if area is None:
        turn.say("off.unknown_area", code=words[1][:16])
        return
    if not who.where.covers_area(area.id):
        await audit(turn, "invite", allowed=False, official=who.official, target=area.code, reason="jurisdiction")
        turn.say("off.area_out_of_reach", area=area.name)
        return
    unit = " ".join(words[2:])[:128] or area.name
    invite = await turn.store.officials.create_invite(created_by=who.official.id, role=role, unit=unit,
                                                      area_codes=[area.code])
    await audit(turn, "invite", allowed=True, official=who.official, target=area.code, role=role, unit=unit,
                invite_id=invite.id)
    turn.say("off.invite_created", code=invite.code, role=turn.t(f"off.role_{role}"), area=area.full_name,
             unit=unit, expires=cards.when(turn, invite.expires_at))


@router.on_command("join")
async def join_command(turn: Turn) -> None:
    code = rest_of_command(turn.text).strip()
    if not code:
        turn.say("off.usage_join")
        return
    try:
        official, invite = await turn.store.officials.redeem_invite(
            code, channel=turn.inbound.channel, channel_user_id=turn.inbound.user_id,
            display_name=turn.inbound.display_name, locale=turn.locale)
    except InviteUnusable as exc:
        await audit(turn, "join", allowed=False, target=code[:16].upper(), reason=str(exc))
        turn.say(f"off.join_{exc}")
        return
    await audit(turn, "join", allowed=True, official=official, target=invite.code, role=official.role,
                invited_by=invite.created_by)
    turn.extra.pop("off_actor", None)
    turn.session.reset()
    turn.say("off.joined", role=turn.t(f"off.role_{official.role}"), unit=official.unit)
