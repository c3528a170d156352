"""Who is asking, from where: what every handler receives besides the text."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.store.base import Store

# How private the conversation is; it decides who may see a note logged there.
ChannelKind = Literal["public", "private", "im", "mpim", "console"]


class Services:
    """Process-wide things handlers may need, created on first use so a one-shot query stays fast.

    `store` hands in one already open (tests, tools that hold their own) instead of opening
    `settings.database` (the SQLite file or the PostgreSQL URL) on first use; whoever opened it
    closes it."""

    def __init__(self, settings: Settings, *, store: Store | None = None) -> None:
        self.settings = settings
        self._owns_store = store is None
        if store is not None:
            # cached_property reads the instance dict first: as if it had been opened already.
            self.__dict__["store"] = store

    def __repr__(self) -> str:
        return f"Services(settings={self.settings!r})"

    @cached_property
    def store(self) -> Store:
        from bot.store import open_store

        return open_store(self.settings.database)

    async def close(self) -> None:
        """Close what was opened (the store, if anything used it), in the loop that used it: a
        PostgreSQL pool left open when its loop ends would be cut mid-connect."""
        if not self._owns_store:
            return  # handed in: its opener closes it
        store = self.__dict__.pop("store", None)
        if store is not None:
            await store.close()


@dataclass(frozen=True)
class Named:
    """What Slack said about a conversation a command names (a digest's `<#C…>`), asked by the
    Slack face before the handler runs. Anything Slack could not say counts against the asker."""

    kind: ChannelKind | None = None  # None: Slack could not say
    shared_externally: bool | None = None  # None: Slack could not say
    member: bool | None = None  # the asker is in it; None: Slack could not say (counts as no)


@dataclass
class Context:
    team: str = "T-LOCAL"
    user: str = "U-LOCAL"
    channel: str = "C-LOCAL"
    channel_kind: ChannelKind = "console"
    enterprise: str | None = None
    is_admin: bool = False
    user_tz: str | None = None
    surface: str = "console"  # command, mention, dm, modal, home, share, console, ask
    services: Services | None = field(default=None, repr=False)
    # The Slack event this query came from, so a re-delivered event never repeats a side effect.
    event_id: str | None = None
    # The thread a mention's or message's answer is posted in: its chart goes there too.
    thread_ts: str | None = None
    # A channel shared with another organisation (Slack Connect): answers there show only the
    # notes logged in it.
    shared_externally: bool = False
    # The arguments exactly as typed (line breaks kept); set by the router for each command.
    args_text: str = ""
    # Whether Slack itself said what this conversation is (conversations.info; a DM's own id).
    # Until it has, the conversation might be shared with another organisation: answers hold only
    # its own notes (`confined`). Contexts built from a Slack payload start False.
    facts_known: bool = True
    # Conversations the command names besides this one, by id, as Slack described them.
    named: dict[str, Named] = field(default_factory=dict)

    @property
    def confined(self) -> bool:
        """Answers here show only this conversation's notes: it is shared with another
        organisation, or Slack could not say whether it is."""
        return self.shared_externally or not self.facts_known

    @property
    def answer_is_private(self) -> bool:
        """Whether only the asker will see the answer: a slash command's ephemeral reply, the
        asker's own DM with the bot, App Home, a terminal. A mention is answered in front of the
        whole conversation, so it must not show the asker's private notes from elsewhere; neither
        does the share button's answer (surface `share`), which the whole channel reads."""
        if self.confined:
            return False
        if self.surface == "dm":
            return self.channel_kind == "im"
        return self.surface in ("command", "modal", "home", "console", "ask")

    @property
    def owner(self) -> str:
        """The tenant a note belongs to: the Enterprise Grid org where present, else the workspace."""
        return self.enterprise or self.team
