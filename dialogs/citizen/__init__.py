"""Citizen dialogs: onboarding, menu and escapes, filing a report, following a case."""

from bot.router import Router
from dialogs.citizen import areapicker, menu, onboarding, report, status

router = Router("citizen")
for _module in (menu, onboarding, areapicker, report, status):
    router.include(_module.router)
