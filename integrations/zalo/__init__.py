"""The Zalo Official Account channel: signed webhook in, consultation messages out.

`setup_zalo(app, ctx, engine)` is the only entry point the server needs; `cli.app` is the
`tiengdan zalo` command group.
"""

from integrations.zalo.channel import ZaloChannel
from integrations.zalo.setup import ZALO_RUNTIME, ZaloRuntime, setup_zalo

__all__ = ["ZALO_RUNTIME", "ZaloChannel", "ZaloRuntime", "setup_zalo"]
