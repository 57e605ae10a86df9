"""Officials work their cases from any chat channel: commands, card buttons, the citizen's
answer after "resolved". Every action and every refusal is audited."""

from bot.router import Router
from dialogs.officials import admin, casework, feedback, overview

router = Router("officials")
for _module in (overview, casework, admin, feedback):
    router.include(_module.router)
