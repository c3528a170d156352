"""Asking smx a line through the router, as a face would, over a store the test holds."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.context import Context, Services
from bot.reply import Reply
from bot.router import dispatch

# surface -> the kind of conversation it comes from
SURFACES: dict[str, str] = {
    "command": "public",
    "mention": "public",
    "dm": "im",
    "ask": "console",
    "console": "console",
}


def services_over(store: Any) -> Services:
    """Services whose store is `store` (nothing opened from SMX_DB), with default settings that
    ignore any .env in the working directory."""
    return Services(Settings(_env_file=None), store=store)  # type: ignore[call-arg]


class Asker:
    """`await ask(text, surface, shared=..., **who)`: the reply to `text` sent from `surface`
    (console unless said), by U1 in T1, in C1 (D1 for a DM). `who` sets any other Context field;
    `defaults` are a module's own (say, a public channel)."""

    def __init__(self, store: Any, **defaults: Any) -> None:
        self.services = services_over(store)
        self.defaults = defaults

    def context(self, surface: str = "console", *, shared: bool = False, **who: Any) -> Context:
        fields: dict[str, Any] = {
            "team": "T1",
            "user": "U1",
            "channel": "D1" if surface == "dm" else "C1",
            "channel_kind": SURFACES[surface],
            # A channel shared with another organisation (only a command or mention comes from one).
            "shared_externally": shared and surface in ("command", "mention"),
            **self.defaults,
            **who,
        }
        return Context(surface=surface, services=self.services, **fields)

    async def __call__(
        self, text: str, surface: str = "console", shared: bool = False, **who: Any
    ) -> Reply:
        return await dispatch(self.context(surface, shared=shared, **who), text)
