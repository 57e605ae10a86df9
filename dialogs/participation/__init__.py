"""Participation: polls, consultations, subscriptions (STOP), and organisers' broadcasts."""

from bot.router import Router
from dialogs.participation import (
    broadcast_admin,
    consult_admin,
    consultations,
    home,
    poll_admin,
    polls,
    subscriptions,
    targets,
)

router = Router("participation")
for _module in (home, targets, polls, consultations, subscriptions, poll_admin, consult_admin, broadcast_admin):
    router.include(_module.router)
