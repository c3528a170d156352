"""The `post(team, channel, reply)` the digest scheduler is handed: Slack's side of a digest.

It finds the workspace's bot token (the configured one, or the OAuth installation's), splits a
long digest into a first message and thread replies of at most 50 blocks and MAX_BLOCKS_JSON
characters of blocks each (Slack can refuse a message with `msg_blocks_too_long` well below 50
blocks; a thread reply it refuses so is split in two and sent again), and turns Slack's answers
into the scheduler's outcomes (bot/digest/delivery.py):

- 429: waits for Retry-After, then tries again;
- 5xx and `internal_error`-like answers, and connections that could not be opened: retried with
  exponential backoff (the request never reached Slack, or Slack says it did not act);
- `channel_not_found`, `not_in_channel`, `is_archived`: "channel_gone" (the scheduler pauses the
  subscription and DMs the subscriber);
- `token_revoked`, `invalid_auth`, `account_inactive` (and no installation at all): "team_revoked"
  (the scheduler pauses the workspace's subscriptions);
- a timeout or a dropped connection after the request was sent: "uncertain" (never retried here:
  it may have been posted, and a digest is never posted twice).

Before the first message of a digest (or of any answer that shows notes) goes, Slack is asked
afresh, not from any cache, what the channel is (conversations.info, retried like a post but also
after a timeout, since asking twice harms nothing). A channel shared with another organisation
gets nothing ("refused", SHARED_EXTERNALLY: the scheduler pauses the subscription and DMs the
subscriber); the answer's notes are held against the channel by the last-step check
(bot/slack/answer.py `cleared`; "refused", PRIVACY_CHECK); and when Slack cannot say, nothing is
posted now ("retry"). Messages with no notes in them (a DM to the subscriber) need no asking.

Retries are ours, not the SDK's (its client gets no retry handlers), so that every wait is bounded
by one budget (`max_wait`) and an ambiguous failure is never retried blindly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.digest.delivery import PRIVACY_CHECK, SHARED_EXTERNALLY, Delivery, head_posted
from bot.reply import Reply
from bot.slack.answer import cleared
from bot.slack.blocks import MAX_BLOCKS, MAX_BLOCKS_JSON, fallback_text, render_blocks
from bot.slack.installations import StoreInstallationStore
from bot.slack.payloads import info_kind, shared_externally
from bot.store.base import Audience, Store
from bot.telemetry import SLACK_API_ERRORS

log = logging.getLogger("smx.digest")

CHANNEL_GONE = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
TEAM_REVOKED = frozenset(
    {"token_revoked", "invalid_auth", "account_inactive", "not_authed", "token_expired"}
)
SERVER_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
IN_CHANNEL_HIGHLIGHTS = 3  # more campaigns than this and the highlights go in a thread
THREAD_NOTE = "Per-campaign highlights are in the thread."
MAX_RETRY_AFTER = 60.0


# -- splitting ------------------------------------------------------------------------------------


def fits(reply: Reply) -> bool:
    """Whether `reply` goes out as one message: at most 50 blocks and MAX_BLOCKS_JSON characters."""
    blocks = render_blocks(reply, max_blocks=10**9)
    return len(blocks) <= MAX_BLOCKS and len(json.dumps(blocks)) <= MAX_BLOCKS_JSON


def split(reply: Reply) -> list[Reply]:
    """The messages a digest is posted as: the first in the channel, the rest in its thread.

    A short digest is one message. A long one (more than IN_CHANNEL_HIGHLIGHTS campaigns, or too
    big for one message) keeps the summary in the channel and puts the per-campaign highlights in
    thread replies, each packed up to 50 blocks and MAX_BLOCKS_JSON characters (a single section
    bigger than that goes alone).
    """
    info = reply.data.get("digest") or {}
    summary = int(info.get("summary_sections", len(reply.sections)))
    highlights = reply.sections[summary:]
    if len(highlights) <= IN_CHANNEL_HIGHLIGHTS and fits(reply):
        return [reply]
    head = reply.model_copy(
        update={"sections": reply.sections[:summary], "footnotes": [*reply.footnotes, THREAD_NOTE]}
    )
    parts = [head]
    current: list = []
    for section in highlights:
        candidate = Reply(sections=[*current, section])
        if current and not fits(candidate):
            parts.append(Reply(sections=current))
            current = [section]
        else:
            current = candidate.sections
    if current:
        parts.append(Reply(sections=current))
    return parts


def message(reply: Reply) -> dict[str, Any]:
    return {"text": fallback_text(reply), "blocks": render_blocks(reply)}


def _prepared(reply: Reply) -> tuple[list[Reply], list[dict[str, Any]]]:
    """The messages a digest is posted as, and each one's text and blocks (pure CPU work)."""
    parts = split(reply)
    return parts, [message(p) for p in parts]


# -- posting --------------------------------------------------------------------------------------


class DigestPoster:
    """Callable as `post(team, channel, reply, enterprise=None)`; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        *,
        max_wait: float = 90.0,
        backoff: float = 1.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        request_timeout: float = 20.0,
        store: Store | None = None,
        charts: bool = False,
    ) -> None:
        """`store` is where OAuth installations are looked up (the Services' store); without
        one, OAuth mode opens the settings' database on first use. `charts`: a posted digest's
        chart follows in its thread (bot/slack/digest_chart.py; it reads `store`)."""
        self.settings = settings
        self.max_wait = max_wait
        self.backoff = backoff
        self.sleep = sleep
        self.request_timeout = request_timeout
        self._store = store
        self._installations: StoreInstallationStore | None = None
        self.charts = charts and store is not None and settings.charts

    def installations(self) -> StoreInstallationStore | None:
        """OAuth installations (None with a configured token), read afresh at every lookup."""
        if self.settings.mode != "oauth":
            return None
        if self._installations is None:
            if self._store is None:
                from bot.store import open_store

                self._store = open_store(self.settings.database)
            self._installations = StoreInstallationStore(self._store)
        return self._installations

    def client(self, token: str) -> AsyncWebClient:
        base_url = self.settings.slack_api_url
        return AsyncWebClient(
            token=token,
            base_url=base_url if base_url.endswith("/") else base_url + "/",
            timeout=int(self.request_timeout),
            retry_handlers=[],
        )

    async def token(self, team: str, enterprise: str | None) -> str | None:
        installations = self.installations()
        if installations is None:
            secret = self.settings.slack_bot_token
            return secret.get_secret_value() if secret else None
        bot = await installations.async_find_bot(enterprise_id=enterprise, team_id=team)
        if bot is None and enterprise:  # an org-wide install answers for every workspace
            bot = await installations.async_find_bot(
                enterprise_id=enterprise, team_id=team, is_enterprise_install=True
            )
        return bot.bot_token if bot else None

    async def __call__(
        self, team: str, channel: str, reply: Reply, *, enterprise: str | None = None
    ) -> Delivery:
        token = await self.token(team, enterprise)
        if not token:
            return Delivery("team_revoked", error="no_installation")
        # The tenant whose notes may go there: the Grid org, else the workspace (as ctx.owner).
        return await self.post_with(self.client(token), channel, reply, tenant=enterprise or team)

    async def post_with(
        self, client: AsyncWebClient, channel: str, reply: Reply, *, tenant: str
    ) -> Delivery:
        """Post with a ready client (the listener's, for `/smx digest now`); `tenant` is whose
        notes the channel may read."""
        deadline = time.monotonic() + self.max_wait
        info = reply.data.get("digest") or {}
        if reply.sources or "digest" in reply.data:
            reader = await self._audience(client, deadline, tenant, channel)
            if isinstance(reader, Delivery):
                return reader
            if reader.shared_externally:
                log.warning(
                    "digest not posted: the channel is shared with another organisation",
                    extra={"team": tenant, "channel": channel},
                )
                return Delivery("refused", error=SHARED_EXTERNALLY)
            if cleared(reply, reader, path="digest") is not reply:
                return Delivery("refused", error=PRIVACY_CHECK)
        # Splitting and rendering a digest costs milliseconds of CPU (several renders to find
        # where to split): done in a worker thread, so a pass of thousands of digests does not
        # hold the event loop that answers slash commands.
        parts, messages = await asyncio.to_thread(_prepared, reply)
        head: dict[str, Any] = {"unfurl_links": False, "unfurl_media": False}
        if info.get("week"):
            # Names the week on the message itself, so an operator (or a later check of the
            # channel's history) can tell which digest a message is.
            head["metadata"] = {
                "event_type": "smx_digest",
                "event_payload": {"channel": channel, "week": info["week"]},
            }
        first = await self._send(client, deadline, channel=channel, **head, **messages[0])
        if first.outcome != "posted":
            return first
        await head_posted(first.ts)  # recorded before the thread: see bot/digest/delivery.py
        sent, problem = 1, None
        waiting: list[tuple[Reply, dict[str, Any] | None]] = list(
            zip(parts[1:], messages[1:], strict=True)
        )
        while waiting:
            part, ready = waiting.pop(0)
            reply_to = await self._send(
                client, deadline, channel=channel, thread_ts=first.ts, **(ready or message(part))
            )
            if reply_to.error == "msg_blocks_too_long" and len(part.sections) > 1:
                half = len(part.sections) // 2  # refused as a whole, so nothing of it was posted
                waiting[:0] = [
                    (Reply(sections=part.sections[:half]), None),
                    (Reply(sections=part.sections[half:]), None),
                ]
                continue
            if reply_to.outcome != "posted":
                problem = f"thread incomplete: {reply_to.error}"
                break
            sent += 1
        total = sent + len(waiting) + (problem is not None)
        if self.charts and "digest" in reply.data:
            from bot.slack.digest_chart import chart_digest_later

            chart_digest_later(client, self._store, channel, first.ts, reply, reader)
        return Delivery("posted", ts=first.ts, error=problem, messages=sent, parts=total)

    async def _audience(
        self, client: AsyncWebClient, deadline: float, tenant: str, channel: str
    ) -> Audience | Delivery:
        """The whole channel as Slack describes it now (never cached: it may have been shared
        with another organisation since), or the Delivery that says why it could not be asked."""
        found = await self._call(
            client,
            deadline,
            "conversations.info",
            lambda: client.conversations_info(channel=channel),
        )
        if isinstance(found, Delivery):
            if found.outcome in ("failed", "uncertain"):  # Slack could not say: not now
                return Delivery("retry", error=f"conversations.info: {found.error}")
            return found
        about = found.get("channel") or {}
        return Audience(
            tenant, channel, info_kind(about), shared_externally=shared_externally(about)
        )

    async def _send(self, client: AsyncWebClient, deadline: float, **args: Any) -> Delivery:
        sent = await self._call(
            client, deadline, "chat.postMessage", lambda: client.chat_postMessage(**args), once=True
        )
        if isinstance(sent, Delivery):
            return sent
        return Delivery("posted", ts=sent.get("ts"), messages=1)

    async def _call(
        self,
        client: AsyncWebClient,
        deadline: float,
        method: str,
        call: Callable[[], Awaitable[Any]],
        *,
        once: bool = False,
    ) -> Any:
        """Slack's answer to `call`, or the Delivery its failure comes to. Rate limits and server
        errors are waited out within the deadline; a time-out or dropped connection is retried
        too unless `once` (a post, which may have reached Slack and must not be repeated)."""
        attempt = 0
        while True:
            attempt += 1
            wait: float | None = None
            try:
                return await call()
            except SlackApiError as err:
                status = _status(err)
                error = _error(err)
                SLACK_API_ERRORS.labels(method, error).inc()
                if status == 429 or error == "ratelimited":
                    wait = min(
                        _retry_after(getattr(err.response, "headers", None)), MAX_RETRY_AFTER
                    )
                elif status >= 500 or error in SERVER_ERRORS:
                    wait = self._backoff(attempt)
                elif error in CHANNEL_GONE:
                    return Delivery("channel_gone", error=error)
                elif error in TEAM_REVOKED:
                    return Delivery("team_revoked", error=error)
                else:
                    return Delivery("failed", error=error)
            except aiohttp.ClientConnectorError as err:
                # The connection was never made, so nothing was sent: safe to try again.
                error, wait = f"connect: {type(err).__name__}", self._backoff(attempt)
            except (TimeoutError, aiohttp.ClientError) as err:
                error = f"{type(err).__name__}: {err}"[:200]
                if once:
                    return Delivery("uncertain", error=error)
                wait = self._backoff(attempt)
            if time.monotonic() + wait > deadline:
                return Delivery("retry", error=error)
            log.info(
                "digest post: waiting to retry",
                extra={
                    "method": method,
                    "error": error,
                    "wait": round(wait, 3),
                    "attempt": attempt,
                },
            )
            await self.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return self.backoff * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2)


def _status(err: SlackApiError) -> int:
    # A JSON answer gives a SlackResponse (status_code); a body that is not JSON the raw one.
    response = err.response
    return int(getattr(response, "status_code", None) or getattr(response, "status", 0) or 0)


def _error(err: SlackApiError) -> str:
    data = getattr(err.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{_status(err)}"


def _retry_after(headers: Any) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                break
    return 1.0
