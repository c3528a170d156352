"""`/smx`: every subcommand through the router, with what its table entry asks done around it.

The face never reads command words itself: it asks the router which entry a text is
(`bot.router.entry`) and does what that entry's SlackNeeds say. Most answers are computed in well under a millisecond and leave in the ack itself. Commands that
need the Web API (opening a modal, uploading a file, asking users.info who is an admin or which
time zone a digest defaults to, finding a #channel by name and who is in it, posting a digest
now) ack at once and finish in a lazy listener, answering through `respond()` or the Web API.
Whatever the way out, the answer passes the last-step privacy check (bot/slack/answer.py) first.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

import knowledge
from bot.config import Settings
from bot.context import Context, Services
from bot.reply import Reply
from bot.router import Command, Post, entry
from bot.slack.answer import (
    answer,
    audience,
    cleared,
    counted,
    message_args,
    slack_error,
    with_share_button,
)
from bot.slack.blocks import RenderedBlocks, inline_text
from bot.slack.channels import CALL_FAILED, CHANNEL_ID, describe_named, place
from bot.slack.charts import chart_later
from bot.slack.crossings import announce_later
from bot.slack.inflight import tracked
from bot.slack.payloads import command_context
from bot.slack.views import estimate_modal
from bot.text import clean

log = logging.getLogger("smx.slack")
# The forms an entry's SlackNeeds.modal names, each built for the channel it is opened from.
FORMS: dict[str, Callable[[str], dict[str, Any]]] = {"estimate": estimate_modal}


def form(text: str, ctx: Context) -> dict[str, Any]:
    """The form `text`'s entry opens, for ctx's channel (the caller checked `opens_form`)."""
    found = entry(text)
    assert found is not None and found[0].slack.modal is not None  # opens_form(text) said so
    return FORMS[found[0].slack.modal](ctx.channel)


def reads_notes(text: str) -> bool:
    found = entry(text)
    return bool(found and found[0].slack.reads_notes)


def opens_form(text: str) -> bool:
    """Whether `text` opens a form (its entry's SlackNeeds.modal, with no arguments)."""
    found = entry(text)
    return bool(found and found[0].slack.modal and not found[1])


def needs_web_api(text: str) -> bool:
    """Whether the entry of `text` calls Slack around its handler (ack first, then finish)."""
    found = entry(text)
    return bool(found and found[0].slack.web_api(found[1]))


async def user_tz(client: AsyncWebClient, user: str) -> str | None:
    """The person's Slack time zone (IANA name), or None when Slack will not say."""
    try:
        info = await client.users_info(user=user)
    except CALL_FAILED as err:  # Slack could not say: no time zone, not an admin
        log.warning("users.info failed", extra={"error": slack_error(err)})
        return None
    return (info.get("user") or {}).get("tz") or None


async def resolve_channels(client: AsyncWebClient, text: str) -> str:
    """`#name` words as Slack's `<#C123|name>` (slash command text arrives unescaped). A name not
    found is left as typed; the digest command then says it cannot find it."""
    wanted = {w[1:].lower() for w in text.split() if w.startswith("#") and len(w) > 1}
    if not wanted:
        return text
    found: dict[str, str] = {}
    cursor = None
    for _page in range(20):  # up to 20,000 conversations the bot can see
        try:
            page = await client.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
        except CALL_FAILED as err:  # names not found are left as typed, and said so
            log.warning("conversations.list failed", extra={"error": slack_error(err)})
            break
        for channel in page.get("channels") or []:
            name = (channel.get("name") or "").lower()
            if name in wanted:
                found[name] = channel["id"]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor or wanted <= set(found):
            break
    words = []
    for word in text.split():
        key = word[1:].lower()
        words.append(f"<#{found[key]}|{key}>" if word.startswith("#") and key in found else word)
    return " ".join(words)


DIGEST_NOW_WAIT = 20.0  # seconds


async def before(client: AsyncWebClient, ctx: Context, command: Command, text: str) -> str:
    """What the entry's SlackNeeds ask of Slack before its handler runs, into ctx; the text with
    its `#name` words resolved where the entry names channels."""
    needs = command.slack
    if needs.channels:
        text = await resolve_channels(client, text)
        if CHANNEL_ID.search(text):
            # Another conversation's digest is managed by its members or a workspace admin (and
            # an existing one changed by its subscriber or an admin); never in Slack Connect.
            ctx.is_admin = await is_admin(client, ctx.user)
            await describe_named(client, ctx, text)
    if needs.admin:
        ctx.is_admin = await is_admin(client, ctx.user)
    if needs.user_tz:
        ctx.user_tz = await user_tz(client, ctx.user)
    return text


def poster(ctx: Context, client: AsyncWebClient, settings: Settings) -> Post:
    """How an entry with a `post` handler posts from a command: someone is waiting for the
    answer, so Slack's rate limits and server errors are waited out for less long than the
    scheduler's (the digest is not posted, and they are told to try again)."""
    from bot.slack.digest_post import DigestPoster

    digests = DigestPoster(
        settings, max_wait=DIGEST_NOW_WAIT, store=ctx.services.store, charts=True
    )

    async def post(channel: str, reply: Reply):
        return await digests.post_with(client, channel, reply, tenant=ctx.owner)

    return post


async def is_admin(client: AsyncWebClient, user: str) -> bool:
    try:
        info = await client.users_info(user=user)
    except CALL_FAILED as err:  # Slack could not say: no time zone, not an admin
        log.warning("users.info failed", extra={"error": slack_error(err)})
        return False
    person = info.get("user") or {}
    return bool(person.get("is_admin") or person.get("is_owner") or person.get("is_primary_owner"))


async def upload(client: AsyncWebClient, ctx: Context, reply: Reply) -> str | None:
    """Upload the reply's files to the conversation; the Slack error code when that fails.
    The caller has cleared `reply` for the whole conversation (a file is shared with all there)."""
    for f in reply.files:
        try:
            await client.files_upload_v2(
                channel=ctx.channel,
                content=f.content,
                filename=f.filename,
                title=f.title or f.filename,
                initial_comment=inline_text(reply.intro) if reply.intro else None,
            )
        except CALL_FAILED as err:  # refused, timed out or dropped: nothing to show for it
            return slack_error(err)
    return None


UPLOAD_FAILED = {
    "not_in_channel": "I can't upload files here because I'm not in this conversation. "
    "Invite me with `/invite @smx`, or run `/smx notes export` in a DM with me.",
    "channel_not_found": "I can't upload files to this conversation. "
    "Run `/smx notes export` in a DM with me instead.",
}


async def with_web_api(
    ctx: Context, text: str, client: AsyncWebClient, settings: Settings
) -> Reply | None:
    """Answer a query with what its entry needs of the Web API done around it (any surface);
    None when the answer was a file uploaded to the conversation."""
    found = entry(text)
    if found is None:
        return await answer(ctx, text)
    command = found[0]
    text = await before(client, ctx, command, text)
    post = poster(ctx, client, settings) if command.slack.post else None
    reply = await answer(ctx, text, post=post)
    announce_later(client, ctx, reply)  # a target this moved off track, said where it was set
    # A chart goes where the answer's readers are: a mention's or DM's answer is posted there.
    reply = chart_later(client, ctx, reply, shared=reply.share or ctx.surface in ("mention", "dm"))
    if command.slack.upload and reply.files and not reply.is_error:
        reply = cleared(reply, audience(ctx, private=False), path="files_upload")
        if reply.is_error:
            return reply
        failed = await upload(client, ctx, reply)
        if not failed:
            return None
        return Reply.error(
            UPLOAD_FAILED.get(
                failed, f"The upload failed (Slack said `{failed}`). Try again shortly."
            )
        )
    return reply


def command_answer(reply: Reply, ctx: Context, *, path: str) -> dict[str, Any]:
    """A slash command's answer as sent: in the channel when the person asked to share it, else
    to them alone, after the last-step check (a withheld answer goes to the person alone)."""
    reader = audience(ctx, private=not reply.share)
    sent = cleared(reply, reader, path=path)
    if sent is not reply:
        reader = audience(ctx, private=True)
    return {
        "response_type": "in_channel" if sent.share else "ephemeral",
        **message_args(sent, reader, path=path),
    }


ACK_BUDGET = 2.0  # seconds an inline answer may take before it is acknowledged first
_late: set[asyncio.Task] = set()


def _later(
    work: asyncio.Task, ctx: Context, text: str, response_url: str | None, client: Any
) -> None:
    async def deliver() -> None:
        from slack_sdk.webhook.async_client import AsyncWebhookClient

        reply = work.result()
        announce_later(client, ctx, reply)
        reply = chart_later(client, ctx, reply, shared=reply.share)
        if not reply.share:
            reply = with_share_button(reply, text)
        if response_url:
            await AsyncWebhookClient(response_url).send(
                replace_original=True, **command_answer(reply, ctx, path="response_url")
            )

    task = asyncio.ensure_future(tracked(deliver)())
    _late.add(task)  # keep a reference until it is done
    task.add_done_callback(_late.discard)


async def _calls_web_api(body: dict[str, Any]) -> bool:
    """Bolt matcher: whether this /smx needs the Web API around its handler (ack, then finish)."""
    # Cleaned as the router will clean it, so routing and the privacy look-up see its words.
    return needs_web_api(clean(body.get("text") or ""))


def ack_json(args: dict[str, Any]) -> bytes:
    """The ack's body exactly as Bolt's `ack(**args)` builds it (text, response_type, blocks):
    json.dumps of that object, written a value at a time so that blocks whose JSON the renderer
    wrote already (RenderedBlocks) are not encoded again."""
    body: dict[str, Any] = {"text": args.get("text", "")}
    if args.get("response_type"):
        body["response_type"] = args["response_type"]
    if args.get("blocks"):
        body["blocks"] = args["blocks"]
    out = []
    for key, value in body.items():
        encoded = value.json if isinstance(value, RenderedBlocks) else None
        out.append(f'"{key}": {json.dumps(value) if encoded is None else encoded}')
    return ("{" + ", ".join(out) + "}").encode()


@dataclass
class Acked:
    """What the ack of a `/smx` carries: `ack(**args)` through Bolt, `json()` as the body of the
    gate's direct answer (encoded once, and kept with a static answer)."""

    args: dict[str, Any]
    is_error: bool = False
    _json: bytes | None = None

    def json(self) -> bytes:
        if self._json is None:
            self._json = ack_json(self.args)
        return self._json


class Rendered:
    """The acks of static answers by their cleaned words, for the knowledge they were built from.
    Rendering a long answer into blocks costs several times what routing and building it do; a
    static one (`Command.static`, and no notes among its sources) is the same every time. At most
    MAX entries, the oldest dropped first: the words are whatever people type."""

    MAX = 512

    def __init__(self) -> None:
        self._acks: dict[str, Acked] = {}
        self._knowledge: object = None

    def _fresh(self) -> None:
        current = knowledge.load()  # looked up each time: a test may swap the knowledge
        if current is not self._knowledge:
            self._acks.clear()
            self._knowledge = current

    def get(self, text: str) -> Acked | None:
        self._fresh()
        return self._acks.get(text)

    def put(self, text: str, acked: Acked) -> None:
        self._fresh()
        if len(self._acks) >= self.MAX:
            del self._acks[next(iter(self._acks))]
        self._acks[text] = acked


# One per set of services (one app), so two apps in a process never share what they rendered.
_rendered: weakref.WeakKeyDictionary[Services, Rendered] = weakref.WeakKeyDictionary()


def rendered_for(services: Services) -> Rendered:
    found = _rendered.get(services)
    if found is None:
        found = _rendered[services] = Rendered()
    return found


WORKING = "Working on it: the answer follows in a moment."


async def _ended_within(work: asyncio.Future, seconds: float) -> bool:
    """Whether `work` ended within `seconds`; it goes on either way. What asyncio.wait does for
    one future and a time-out, without its sets (a few microseconds of every note), and with
    one timer for the loop's waits in the order they began (`_Deadlines`) rather than one each."""
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    deadlines = _deadlines.get(loop)
    if deadlines is None:
        deadlines = _deadlines[loop] = _Deadlines()
    timer = None
    if not deadlines.add(loop.time() + seconds, waiter):
        timer = loop.call_later(seconds, wake)
    work.add_done_callback(wake)
    try:
        await waiter
    finally:
        if timer is not None:
            timer.cancel()
        work.remove_done_callback(wake)
        deadlines.trim()
    return work.done()


class _Deadlines:
    """One loop's waits for answers, each woken at its deadline unless it ended first, with one
    timer: set for the first wait still waiting, and set again for the next when it fires.

    A timer each (call_later) cost every note more than the rest of the wait: under load the
    loop's heap held thousands of cancelled 2 s timers, each push compared in Python, and the
    heap was rebuilt whenever half of it was cancelled (bench/ab_note.py: ~28 us of the event
    loop a note). Waits all given ACK_BUDGET end in the order they began, so they queue in that
    order; one whose deadline would come before the last one queued (a shorter budget) is not
    queued, and its caller times it itself. Used from its loop only; it keeps nothing of the loop
    once no wait is left (no timer, no future), so a finished loop is not kept alive by it."""

    def __init__(self) -> None:
        self._waiting: collections.deque[tuple[float, asyncio.Future]] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, deadline: float, waiter: asyncio.Future) -> bool:
        """Queue `waiter` to be woken (its result set) at `deadline`; False when that deadline
        comes before the last one queued."""
        if self._waiting and deadline < self._waiting[-1][0]:
            return False
        self._waiting.append((deadline, waiter))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_at(deadline, self._due)
        return True

    def trim(self) -> None:
        """Forget the waits at the front that are over (answered in time, or given up), and the
        timer when none is left."""
        waiting = self._waiting
        while waiting and waiting[0][1].done():
            waiting.popleft()
        if not waiting and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _due(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        waiting = self._waiting
        while waiting:
            deadline, waiter = waiting[0]
            if not waiter.done():
                if deadline > now:
                    self._timer = loop.call_at(deadline, self._due)
                    return
                waiter.set_result(None)
            waiting.popleft()

    def __len__(self) -> int:
        return len(self._waiting)


_deadlines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Deadlines] = (
    weakref.WeakKeyDictionary()
)


async def acked(
    body: dict[str, Any],
    client: AsyncWebClient,
    services: Services,
    found: tuple[Command, list[str]] | None = None,
) -> Acked:
    """The ack of a `/smx` answered in the ack, for Bolt's listener and for the gate's direct
    path (bot/slack/direct.py) alike; `found`: its entry, when the caller has looked it up. A
    static answer (`Command.static`) is rendered once per knowledge load and words."""
    text = clean(body.get("text") or "")
    ctx = command_context(body, services)
    if found is None:
        found = entry(text)
    static = bool(found and found[0].is_static(found[1]))
    rendered = rendered_for(services)
    if static:
        hit = rendered.get(text)
        if hit is not None:
            counted(ctx, found[0].name, hit.is_error)  # type: ignore[index]
            return hit
    # Who may read a note is decided when it is logged, and what a listing may show depends
    # on who is in the channel: ask Slack, not the payload's hint.
    await place(client, ctx, bool(found and found[0].slack.reads_notes))
    if found and found[0].is_pure(found[1]):
        reply = await answer(ctx, text)  # awaits no store and no network: nothing to race
    else:
        work = asyncio.ensure_future(answer(ctx, text))
        if not await _ended_within(work, ACK_BUDGET):
            # Slack gives up at 3 s (a note would then look lost and be sent again): acknowledge
            # now and deliver the answer through response_url when it is ready.
            work.add_done_callback(
                lambda task: _later(task, ctx, text, body.get("response_url"), client)
            )
            return Acked({"response_type": "ephemeral", "text": WORKING})
        reply = work.result()
    announce_later(client, ctx, reply)
    computed = reply
    reply = chart_later(client, ctx, reply, shared=reply.share)
    if not reply.share:
        reply = with_share_button(reply, text)
    result = Acked(command_answer(reply, ctx, path="ack"), reply.is_error)
    kept = reply is computed or reply.footnotes == computed.footnotes  # no busy line to keep
    if static and kept and not reply.sources and not reply.is_error:
        # Not an error: a failure's sentence (its error id) must not become everyone's answer.
        rendered.put(text, result)
    return result


def register(app: AsyncApp, services: Services) -> None:
    async def ack_first(ack) -> None:
        await ack()

    async def ack_smx(ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack(**(await acked(body, client, services)).args)

    async def finish_smx(body: dict[str, Any], client: AsyncWebClient, respond) -> None:
        # Cleaned as the router will clean it, so routing and the privacy look-up see its words.
        text = clean(body.get("text") or "")
        ctx = command_context(body, services)
        await place(client, ctx, reads_notes(text))
        mine = audience(ctx, private=True)
        if opens_form(text):
            try:
                await client.views_open(trigger_id=body["trigger_id"], view=form(text, ctx))
            except CALL_FAILED as err:
                message = (
                    f"I couldn't open the estimate form (Slack said `{slack_error(err)}`). Type the "
                    "numbers instead, e.g. `/smx estimate budget=$2k cpm=8 ctr=1.2%`."
                )
                await respond(
                    response_type="ephemeral",
                    **message_args(Reply.error(message), mine, path="respond"),
                )
            return
        reply = await with_web_api(ctx, text, client, services.settings)
        if reply is not None:
            await respond(response_type="ephemeral", **message_args(reply, mine, path="respond"))

    # Two listeners, the first that matches runs: a command that needs the Web API acks at once
    # and finishes in a lazy listener; any other is answered whole in the ack, with no lazy
    # listener (Bolt deep-copies the whole request for each one it starts).
    app.command("/smx", matchers=[_calls_web_api])(ack=ack_first, lazy=[tracked(finish_smx)])
    app.command("/smx")(ack_smx)
