"""The social platforms smx knows: keys, display names, aliases, and reading what people type."""

from __future__ import annotations

from bot.errors import UserError
from bot.fuzzy import closest
from bot.text import clip

PLATFORM_NAME = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "linkedin": "LinkedIn",
    "tiktok": "TikTok",
    "x": "X",
    "youtube": "YouTube",
    "pinterest": "Pinterest",
}
# Known, but with no reliable published figure (the knowledge base's no_figures says why).
NO_FIGURES = ("pinterest",)
PLATFORM_ALIASES = {"twitter": "x", "fb": "facebook", "ig": "instagram", "yt": "youtube"}


def parse_platform(raw: str) -> str:
    """A platform key from what was typed after `platform=` (aliases and typos handled)."""
    name = raw.strip().lower()
    name = PLATFORM_ALIASES.get(name, name)
    if name in PLATFORM_NAME:
        return name
    guesses = closest(name, list(PLATFORM_NAME), limit=1, cutoff=70)
    hint = f"Did you mean `platform={guesses[0]}`? " if guesses else ""
    with_figures = [p for p in PLATFORM_NAME if p not in NO_FIGURES]
    without = " and ".join(NO_FIGURES)
    typed = clip(raw, 40)
    raise UserError(
        f"`platform={typed}` is not a platform I know. {hint}Use one of: "
        f"{', '.join(with_figures)}; {without} is known too but has no published figures.",
        suggestions=guesses,
    )
