"""Slack payloads -> the core's Context. Only the Slack face knows these shapes."""

from __future__ import annotations

from typing import Any

from bot.context import ChannelKind, Context, Services


def command_kind(body: dict[str, Any]) -> ChannelKind:
    """Slash commands name private conversations specially; anything else is a public channel."""
    name = body.get("channel_name") or ""
    channel = body.get("channel_id") or ""
    if name == "directmessage" or channel.startswith("D"):
        return "im"
    if name.startswith("mpdm-"):
        return "mpim"
    if name == "privategroup" or channel.startswith("G") or not name:
        # Without a name Slack's payload cannot tell; private can only hide a note, never expose one.
        return "private"
    return "public"


def event_kind(channel_type: str | None, channel: str) -> ChannelKind | None:
    """From a message event's channel_type; None when only conversations.info can tell."""
    known: dict[str, ChannelKind] = {
        "im": "im",
        "mpim": "mpim",
        "group": "private",
        "channel": "public",
    }
    if channel_type in known:
        return known[channel_type]
    if channel.startswith("D"):
        return "im"
    if channel.startswith("G"):
        return "private"
    return None


def shared_externally(info: dict[str, Any]) -> bool:
    """From conversations.info's `channel` object: another organisation is in it, or has been
    invited and may read what is posted once it joins."""
    return bool(info.get("is_ext_shared") or info.get("is_pending_ext_shared"))


def info_kind(info: dict[str, Any]) -> ChannelKind:
    """From conversations.info's `channel` object."""
    if info.get("is_im"):
        return "im"
    if info.get("is_mpim"):
        return "mpim"
    if info.get("is_private") or info.get("is_group") or shared_externally(info):
        # A channel shared with another organisation (Slack Connect) is not "the team": notes
        # logged there stay in that conversation.
        return "private"
    return "public"


def team_of(body: dict[str, Any]) -> tuple[str, str | None]:
    """(workspace id, Enterprise Grid org id or None) from any payload shape."""
    team = (
        body.get("team_id")
        or (body.get("team") or {}).get("id")
        or (body.get("user") or {}).get("team_id")
        or (body.get("view") or {}).get("team_id")
        or ""
    )
    enterprise = (
        body.get("enterprise_id")
        or (body.get("enterprise") or {}).get("id")
        or (body.get("authorizations") or [{}])[0].get("enterprise_id")
    )
    if body.get("is_enterprise_install") and not enterprise:
        enterprise = (body.get("authorizations") or [{}])[0].get("enterprise_id")
    return team, enterprise or None


def command_context(body: dict[str, Any], services: Services) -> Context:
    team, enterprise = team_of(body)
    kind = command_kind(body)
    return Context(
        team=team,
        user=body.get("user_id", ""),
        channel=body.get("channel_id", ""),
        channel_kind=kind,
        enterprise=enterprise,
        surface="command",
        services=services,
        # A hint until Slack is asked (bot/slack/channels.py place); a DM is one by its very id.
        facts_known=kind == "im",
    )


def event_context(
    body: dict[str, Any], event: dict[str, Any], kind: ChannelKind, services: Services
) -> Context:
    team, enterprise = team_of(body)
    return Context(
        team=team,
        user=event.get("user", ""),
        channel=event.get("channel", ""),
        channel_kind=kind,
        enterprise=enterprise,
        surface="dm" if kind == "im" else "mention",
        services=services,
        facts_known=kind == "im",
    )


def action_context(
    body: dict[str, Any],
    services: Services,
    channel: str | None = None,
    kind: ChannelKind | None = None,
    surface: str = "command",
) -> Context:
    """A button's or form's context. Until Slack is asked about the conversation it is private
    and maybe shared (facts_known False): nothing from elsewhere reaches an answer there."""
    team, enterprise = team_of(body)
    return Context(
        team=team,
        user=(body.get("user") or {}).get("id", ""),
        channel=channel or (body.get("channel") or {}).get("id", ""),
        channel_kind=kind or "private",
        enterprise=enterprise,
        surface=surface,
        services=services,
        facts_known=False,
    )
