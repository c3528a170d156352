"""How a command is written for the person reading the answer: `/smx estimate ...` in Slack,
`estimate ...` in a terminal (`smx console`, `smx ask`), where there is no slash command."""

from __future__ import annotations

from typing import Protocol

TERMINAL_SURFACES = ("console", "ask")
SLACK = "/smx "  # the slash command, as every Slack answer writes it


class _HasSurface(Protocol):
    surface: str


def prefix(ctx: _HasSurface | None) -> str:
    """What goes before a command's words on ctx's surface (a terminal when there is no ctx)."""
    surface = getattr(ctx, "surface", "console")
    return "" if surface in TERMINAL_SURFACES else SLACK


def cmd(ctx: _HasSurface | None, text: str) -> str:
    """A command as the person would type it here, in backticks."""
    return f"`{prefix(ctx)}{text}`"
