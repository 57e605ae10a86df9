"""rasa-sdk actions over the shared case store, for teams that run Rasa's dialogue management.

Rasa calls custom actions over HTTP (`action_endpoint` in endpoints.yml). `add_routes` serves
that protocol on our own aiohttp server — `POST /rasa/webhook` and `GET /rasa/actions` — with
rasa-sdk's `ActionExecutor`, so a Rasa bot files and looks up cases in the same store as every
other channel:

    action_endpoint:
      url: "http://127.0.0.1:8080/rasa/webhook"

Actions (slots read; slots set):
* `action_file_case` — `consent` (must be true), `category` (or the NLU category of the latest
  message), `description` (or the latest text), `area` (a commune name) or `latitude`/`longitude`;
  sets `case_code`. The citizen is the Rasa `sender_id` on channel "rasa".
* `action_check_case_status` — `case_code` slot, a `case_code` entity or a code in the latest text;
  sets `case_status`. Only the owner hears details; others get the public status.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

from bot import casecode, sla
from bot.context import AppContext
from bot.store.views import AreaInfo

log = logging.getLogger(__name__)
CHANNEL = "rasa"
MAX_BODY = 1024 * 1024


class _StoreAction(Action):
    """Shared plumbing: the app context, the caller's citizen and locale."""

    def __init__(self, ctx: AppContext, categories: Sequence[str]) -> None:
        self.ctx = ctx
        self.categories = tuple(categories)

    def locale(self, tracker: Tracker) -> str:
        return self.ctx.i18n.normalize_locale(tracker.get_slot("locale"))

    def say(self, dispatcher: CollectingDispatcher, tracker: Tracker, key: str, **params: Any) -> None:
        dispatcher.utter_message(text=self.ctx.i18n.t(self.locale(tracker), key, **params))


class ActionFileCase(_StoreAction):
    def name(self) -> str:
        return "action_file_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        store = self.ctx.store
        if tracker.get_slot("consent") is not True:
            self.say(dispatcher, tracker, "rasa.need_consent")
            return []
        category = tracker.get_slot("category") or _nlu_category(tracker)
        if category not in self.categories:
            self.say(dispatcher, tracker, "rasa.need_category")
            return []
        citizen = await store.citizens.get_or_create(CHANNEL, tracker.sender_id, locale=self.locale(tracker))
        if not citizen.has_consent:
            citizen = await store.citizens.record_consent(citizen.id, self.ctx.settings.consent_policy_version)
        text = tracker.get_slot("description") or tracker.latest_message.get("text") or None
        area, lat, lon = await self._where(tracker)
        now = self.ctx.clock.now()
        ack_due, due = sla.due_times(self.ctx.settings, now, category)
        case = await store.cases.create(
            citizen.id, category=category, description=str(text)[:4000] if text else None,
            area_id=area.id if area else None, lat=lat, lon=lon, anonymous=citizen.anonymous,
            channel=CHANNEL, ack_due_at=ack_due, due_at=due)
        log.info("case filed through rasa code=%s", case.code)
        self.say(dispatcher, tracker, "rasa.filed", code=case.display_code,
                 due=self.ctx.i18n.datetime(ack_due, self.locale(tracker)))
        return [SlotSet("case_code", case.code)]

    async def _where(self, tracker: Tracker) -> tuple[AreaInfo | None, float | None, float | None]:
        areas = self.ctx.store.areas
        lat, lon = _number(tracker.get_slot("latitude")), _number(tracker.get_slot("longitude"))
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            return await areas.nearest(lat, lon), lat, lon
        name = tracker.get_slot("area")
        if isinstance(name, str) and name.strip():
            matches = await areas.search(name, level="commune", limit=1)
            if matches:
                return matches[0][0], None, None
        return None, None, None


class ActionCheckCaseStatus(_StoreAction):
    def name(self) -> str:
        return "action_check_case_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        code = _code(tracker)
        if code is None:
            self.say(dispatcher, tracker, "rasa.need_code")
            return []
        case = await self.ctx.store.cases.get_by_code(code)
        if case is None:
            self.say(dispatcher, tracker, "rasa.not_found", code=casecode.display(code))
            return [SlotSet("case_status", None)]
        locale = self.locale(tracker)
        status = self.ctx.i18n.t(locale, f"status.{case.status}")
        owner = await self.ctx.store.citizens.identity_for(CHANNEL, tracker.sender_id)
        if owner is not None and owner.citizen_id == case.citizen_id:
            self.say(dispatcher, tracker, "rasa.status_owner", code=case.display_code, status=status,
                     updated=self.ctx.i18n.datetime(case.updated_at, locale))
        else:
            self.say(dispatcher, tracker, "rasa.status_public", code=case.display_code, status=status)
        return [SlotSet("case_code", case.code), SlotSet("case_status", case.status)]


def _nlu_category(tracker: Tracker) -> str | None:
    category = tracker.latest_message.get("category")
    if isinstance(category, dict):
        return category.get("name")
    intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
    return intent.removeprefix("category_") if intent.startswith("category_") else None


def _code(tracker: Tracker) -> str | None:
    for candidate in (tracker.get_slot("case_code"), next(tracker.get_latest_entity_values("case_code"), None),
                      tracker.latest_message.get("text")):
        if isinstance(candidate, str) and (code := casecode.normalize(candidate)) is not None:
            return code
    return None


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def build_executor(ctx: AppContext, categories: Sequence[str]) -> ActionExecutor:
    executor = ActionExecutor()
    for action in (ActionFileCase(ctx, categories), ActionCheckCaseStatus(ctx, categories)):
        executor.register_action(action)
    return executor


def add_routes(app: web.Application, ctx: AppContext, categories: Sequence[str]) -> None:
    """Serve Rasa's action-server protocol at /rasa/webhook (rasa-sdk's own status codes)."""
    executor = build_executor(ctx, categories)

    async def webhook(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "body too large"}, status=413)
        try:
            call = await request.json()
        except ValueError:
            return web.json_response({"error": "Invalid body request"}, status=400)
        if not isinstance(call, dict) or not isinstance(call.get("tracker"), dict) \
                or not isinstance(call["tracker"].get("sender_id"), str):
            return web.json_response({"error": "Invalid body request"}, status=400)
        try:
            result = await executor.run(call)
        except ActionExecutionRejection as exc:
            return web.json_response({"error": exc.message, "action_name": exc.action_name}, status=400)
        except ActionNotFoundException as exc:
            return web.json_response({"error": exc.message, "action_name": exc.action_name}, status=404)
        body = result.model_dump() if hasattr(result, "model_dump") else result
        return web.json_response(body)

    async def actions(_: web.Request) -> web.Response:
        return web.json_response([item.model_dump() if hasattr(item, "model_dump") else item
                                  for item in executor.list_actions()])

    app.router.add_post("/rasa/webhook", webhook)
    app.router.add_get("/rasa/actions", actions)
