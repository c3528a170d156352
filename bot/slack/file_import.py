"""Importing an export shared in Slack: a file in a DM with smx, or with `@smx import` in a channel.

1. The file is described by `files.info` (its size and download URL come from Slack's API, never
   from the event, which anyone who can post can shape) and downloaded with the bot token, at
   most MAX_BYTES of it.
2. The preview (bot/imports/preview.py) goes to the person alone: in their DM with smx as a
   message, in a channel as an ephemeral message, with *Import* and *Cancel* buttons. Nothing is
   logged yet.
3. *Import* downloads the file again (a preview is no promise that nothing changed), reads it
   and logs it in one transaction, as notes of the conversation it was shared in, by the person
   who shared it: only they may press it. *Cancel* logs nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.context import Context
from bot.errors import UserError
from bot.reply import Button, Reply

log = logging.getLogger("smx.slack")

IMPORT_ACTION = "smx_import_yes"
CANCEL_ACTION = "smx_import_no"
DOWNLOAD_TIMEOUT = 20.0
TABLE_NAMES = (".csv", ".tsv", ".txt", ".xlsx")


def wants_import(text: str, event: dict[str, Any]) -> bool:
    """Whether a message or mention asks for a file to be imported: a file shared in the DM
    with smx, or `import` said with a file in a channel."""
    files = event.get("files") or []
    if not files:
        return False
    if event.get("channel_type") == "im":
        return True
    return text.strip().lower().split()[:1] == ["import"]


def _pick(files: list[dict[str, Any]]) -> dict[str, Any] | None:
    for f in files:
        if str(f.get("name") or "").lower().endswith(TABLE_NAMES):
            return f
    return files[0] if files else None


def _shared_in(info: dict[str, Any]) -> set[str]:
    """The conversations a file was shared in, as files.info lists them."""
    where = {c for key in ("channels", "groups", "ims") for c in info.get(key) or []}
    for kind in ("public", "private"):
        where |= set((info.get("shares") or {}).get(kind) or {})
    return where


async def fetch(
    client: Any, file_id: str, channel: str, sharer: str | None = None
) -> tuple[str, bytes]:
    """The file's name and bytes, or UserError with a sentence. Only a file shared in `channel`:
    a button's value is the person's client's to shape, and a file from another conversation
    would otherwise become notes here."""
    from bot.imports.read import MAX_BYTES

    try:
        info = (await client.files_info(file=file_id))["file"]
    except SlackApiError as err:
        raise UserError(
            f"I couldn't get that file from Slack (it said `{err.response.get('error')}`). "
            "Share it again, or check that I am in this conversation."
        ) from None
    name = str(info.get("name") or "the file")
    if sharer is not None and info.get("user") not in (None, sharer):
        raise UserError(
            f"Only the person who shared {name} can import it. Share your own copy to import it."
        )
    if channel not in _shared_in(info):
        raise UserError(
            f"{name} was not shared in this conversation, so I can't import it here. Share it "
            "here first."
        )
    size = int(info.get("size") or 0)
    if size > MAX_BYTES:
        raise UserError(
            f"{name} is {size / 1024 / 1024:.1f} MB; I read exports of at most 10 MB. Export a "
            "shorter date range, or fewer columns, and send that."
        )
    url = info.get("url_private_download") or info.get("url_private")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise UserError(f"Slack gave no way to download {name}. Share it again.")
    headers = {"Authorization": f"Bearer {client.token}"}
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, headers=headers, allow_redirects=False) as response,
        ):
            if response.status != 200:
                raise UserError(
                    f"Slack would not hand over {name} (HTTP {response.status}). Share it again."
                )
            if "text/html" in response.headers.get("Content-Type", ""):
                raise UserError(
                    f"Slack sent a web page instead of {name}: I may lack the files:read "
                    "permission. Ask whoever installed smx to reinstall it, then share the file again."
                )
            data = await response.content.read(MAX_BYTES + 1)
    except (aiohttp.ClientError, TimeoutError):
        raise UserError(
            f"Downloading {name} from Slack failed. Share it again in a moment."
        ) from None
    return name, data


def _value(file_id: str, ctx: Context) -> str:
    return json.dumps({"file": file_id, "user": ctx.user, "channel": ctx.channel})


async def preview_reply(client: Any, ctx: Context, event: dict[str, Any]) -> Reply:
    """The preview of the file an event shares, with its buttons; a sentence when it can't be read."""
    from bot.imports.preview import preview
    from bot.imports.read import read_export

    picked = _pick(event.get("files") or [])
    if picked is None or not isinstance(picked.get("id"), str):
        return Reply.error("I see no file in that message. Share the export as a file.")
    try:
        name, data = await fetch(client, picked["id"], ctx.channel, ctx.user)
        # Off the event loop: a 10 MB export takes seconds to read.
        export = await asyncio.to_thread(read_export, data, name)
    except UserError as err:
        return Reply.error(err.message)
    reply = preview(export, name, then="Only you see this. *Import* logs every row as a note here.")
    value = _value(picked["id"], ctx)
    reply.buttons = [
        Button(label="Import", action_id=IMPORT_ACTION, value=value, style="primary"),
        Button(label="Cancel", action_id=CANCEL_ACTION, value=value),
    ]
    return reply


async def import_pressed(client: Any, ctx: Context, value: str) -> Reply:
    """*Import*: the file logged, by the person who shared it, in the conversation it was shared."""
    from bot.imports.log import log_export
    from bot.imports.read import read_export

    try:
        asked = json.loads(value)
        file_id, user, channel = asked["file"], asked["user"], asked["channel"]
    except (ValueError, KeyError, TypeError):
        return Reply.error("That button is from an old preview. Share the file again.")
    if user != ctx.user or channel != ctx.channel:
        return Reply.error(
            "Only the person who shared the file can import it, in the conversation it was "
            "shared in."
        )
    try:
        name, data = await fetch(client, file_id, ctx.channel, ctx.user)
        export = await asyncio.to_thread(read_export, data, name)
    except UserError as err:
        return Reply.error(err.message)
    return await log_export(ctx, export, name)
