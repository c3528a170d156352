"""The HTTP front door: what may reach Bolt, and how long a connection may hold a socket.

`SlackGate` answers POST /slack/events. It checks Slack's signature over the raw bytes before
anything is parsed (401 for anything unsigned, forged or stale), then checks that the body reads
the way Bolt will read it (400 otherwise), then that the fields Bolt and smx's listeners index
into have the types Slack sends (a signed request that is odd in shape gets a 200 and nothing is
done). Only then is Bolt handed the request. Bolt's own signature check is off (bot/slack/app.py):
this is the one place requests are verified, and Bolt is handed a body that its own parser reads
exactly as the gate did.

`Connections` watches every TCP connection of a served app: a client has SMX_REQUEST_TIMEOUT
seconds to deliver a request's headers and body, an idle keep-alive connection is closed after
SMX_KEEPALIVE_TIMEOUT, and at most a set number of connections are open at once (at the cap the
oldest connection not being answered makes room; when every one is being answered the newcomer
is refused), so slow or silent clients can neither stall the server nor run it out of files.
aiohttp has no header-read timeout of its own, hence the wrapping protocol here.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from bot.slack.answer import SHARE_ACTION

if TYPE_CHECKING:  # Bolt is imported when a gate is built, not by whoever imports the server
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.request.async_request import AsyncBoltRequest

    from bot.slack.direct import DirectAnswers

log = logging.getLogger("smx.http")

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
MAX_SKEW_SECONDS = 300  # Slack's own rule: a request signed more than 5 minutes away is stale
MAX_JSON_DEPTH = 64  # Slack's deepest payloads (rich text in blocks) nest about a dozen levels
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"

# ASCII only: int() would also take " 12", "1_2" and other scripts' digits, and \d matches those.
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}", re.ASCII)

# Set on each request: the loop time by which its body must have arrived (from Connections), and
# what kind of Slack request it was, for the ack-time metric (bot/slack/server.py).
REQUEST_DEADLINE = web.RequestKey("smx_request_deadline", float)
ACK_KIND = web.RequestKey("smx_ack_kind", str)
REFUSED = "refused"

UNSIGNED = "Unauthorized: this endpoint takes only requests signed by Slack."
TOO_SLOW = "Request timeout: the body did not arrive in time."


# -- signature -------------------------------------------------------------------------------------


def signed_by_slack(secret: bytes, timestamp: str, signature: str, body: bytes, now: float) -> bool:
    """Slack's v0 scheme: HMAC-SHA256 of `v0:{timestamp}:{body}`, within 5 minutes of now."""
    if not plausible(timestamp, signature, now):
        return False
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    # hmac.new, not the one-shot hmac.digest: that one lets go of the interpreter lock for every
    # body, however short, and SQLite's writer thread then takes it from the event loop (an
    # interpreter-lock hand-over a request); hmac.new keeps it for bodies under 2 KB.
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def plausible(timestamp: str | None, signature: str | None, now: float) -> bool:
    """Whether signing headers could be valid at all (judged before the body is read): ASCII
    digits within 5 minutes of now, and `v0=` with 64 lowercase hex digits."""
    return bool(
        timestamp
        and signature
        and _TIMESTAMP.fullmatch(timestamp)
        and _SIGNATURE.fullmatch(signature)
        and abs(now - int(timestamp)) <= MAX_SKEW_SECONDS
    )


def _one(request: web.Request, name: str) -> str | None:
    """The header's only value; two copies of a signing header are as good as none."""
    values = request.headers.getall(name, [])
    return values[0] if len(values) == 1 else None


def is_ssl_check(raw: bytes) -> bool:
    """Slack's certificate probe (`ssl_check=1&token=...`) is the one request it sends unsigned.
    It is answered 200 here and never handed on; anything more in the body is not a probe."""
    if len(raw) > 256 or not raw.isascii():
        return False
    fields = parse_qsl(raw.decode("ascii"), keep_blank_values=True)
    names = [name for name, _ in fields]
    return (
        len(names) == len(set(names))
        and set(names) <= {"ssl_check", "token"}
        and dict(fields).get("ssl_check") == "1"
    )


# -- body ------------------------------------------------------------------------------------------


class Malformed(ValueError):
    """A signed body that does not read as Slack's; the message is the 400 answer's text."""


@dataclass(frozen=True)
class SlackBody:
    kind: str  # "event" (JSON), "interactive" (payload=) or "command" (a plain form)
    data: dict[str, Any]
    text: str  # what Bolt is handed: its parser reads `data` back from it
    content_type: str  # the one Bolt is told, so its choice of parser matches the gate's


def read_body(raw: bytes, content_type: str) -> SlackBody:
    """Decode a body the way Bolt's parser will, or raise Malformed with a short reason."""
    if not raw:
        raise Malformed("Bad request: the body is empty.")
    try:
        text = raw.decode("utf-8")  # Slack sends UTF-8 whatever charset a header claims
    except UnicodeDecodeError:
        raise Malformed("Bad request: the body is not UTF-8 text.") from None
    media = content_type.split(";", 1)[0].strip().lower()
    # Bolt parses JSON when told application/json or when the text starts with "{" (whatever
    # the content type says), and a form otherwise: the same choice is made here.
    if media == JSON_TYPE or text.startswith("{"):
        return SlackBody("event", _json_object(text, "the JSON body"), text, JSON_TYPE)
    fields = parse_form(text)
    if "payload" in text:
        if "payload" in fields:
            data = _json_object(fields["payload"], "the payload field")
            return SlackBody("interactive", data, text, FORM_TYPE)
        # Bolt takes any form containing the word "payload" (a channel named payload-team, a
        # note about payload size) for an interactive payload and reads it as empty, so the
        # command would go unanswered. Spelling the p as %70 keeps every field's value as it
        # was (a p is never part of a %xx escape) and keeps Bolt on the plain-form path.
        return SlackBody("command", fields, text.replace("payload", "%70ayload"), FORM_TYPE)
    return SlackBody("command", fields, text, FORM_TYPE)


def parse_form(text: str) -> dict[str, str]:
    """`dict(parse_qsl(text, keep_blank_values=True))`, as Bolt's parser reads a form, with the
    fields that need no decoding (most of Slack's: ids, names, the command) taken as they are:
    only a part with a `+` or a `%` is decoded. The last of a repeated name wins, as in a dict."""
    fields: dict[str, str] = {}
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "+" in name or "%" in name:
            name = _unquote(name.replace("+", " "))
        if "+" in value or "%" in value:
            value = _unquote(value.replace("+", " "))
        fields[name] = value
    return fields


# Every %XX escape of an ASCII character, either case: most of what Slack escapes (`/smx`, a
# response_url, `=` in a command's text).
_ASCII_ESCAPES = {
    hi + lo: chr(int(hi + lo, 16)) for hi in "01234567" for lo in "0123456789abcdefABCDEF"
}


def _unquote(value: str) -> str:
    """unquote(value): escapes of ASCII characters replaced a dict look-up each; anything else
    (a byte of a UTF-8 sequence, a `%` that escapes nothing) by unquote itself, which reads
    those as parse_qsl does."""
    head, *rest = value.split("%")
    out = [head]
    for part in rest:
        char = _ASCII_ESCAPES.get(part[:2])
        if char is None:
            return unquote(value)
        out += (char, part[2:])
    return "".join(out)


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # also: integers past Python's 4300-digit limit
        raise Malformed(f"Bad request: {what} is not valid JSON.") from None
    if not isinstance(value, dict):
        raise Malformed(f"Bad request: {what} must be a JSON object.")
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise Malformed(f"Bad request: {what} nests deeper than {MAX_JSON_DEPTH} levels.")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


# -- shape -----------------------------------------------------------------------------------------
# The fields Bolt's context builder and listener matchers, and smx's listeners, index into. Slack
# always sends them with these types; a signed body with other types is answered 200 and dropped,
# where it would otherwise raise inside Bolt (a 500) or after the ack (an error-id reply).

NoneType = type(None)
TEXT: tuple[type, ...] = (str,)
MAYBE_TEXT: tuple[type, ...] = (str, NoneType)
_TOP_TEXT = (  # noqa: SIM905 - a list of field names reads best as one
    "type token team_id enterprise_id user_id channel_id channel_name user_name api_app_id "
    "command text response_url trigger_id event_id callback_id action_id challenge thread_ts "
    "function_execution_id bot_access_token ssl_check"
).split()
_NAMED = ("team", "enterprise", "user", "channel")  # an object (or null) with a text id
_OBJECTS = ("container", "message", "previous_message", "item", "assistant_thread")
_EVENT_TEXT = (  # noqa: SIM905
    "type text ts thread_ts channel_type subtype bot_id tab team user_team event_ts "
    "function_execution_id bot_access_token"
).split()


def shape_problem(body: dict[str, Any]) -> str | None:
    """What about a signed body's shape would make Bolt or a listener fail; None when nothing."""
    problem = (
        _texts(body, _TOP_TEXT, "")
        or _named(body)
        or _objects(body, _OBJECTS, "")
        or _list_of_objects(body, "authorizations", ("enterprise_id", "team_id", "user_id"))
        or _list_of_objects(body, "response_urls", ("response_url",))
        or _list_of_objects(body, "actions", ("action_id", "block_id", "value", "type"))
        or _view(body)
        or _event(body)
    )
    if problem:
        return problem
    kind = body.get("type")
    if "command" in body:
        from bot.slack.listeners.commands import opens_form

        needed = ("command", "team_id", "user_id", "channel_id", "response_url")
        if opens_form(body.get("text") or ""):
            needed += ("trigger_id",)  # the form opens with it
        return _required(body, needed)
    if kind == "block_actions":
        actions = body.get("actions")
        if not actions or not isinstance(actions[0].get("action_id"), str):
            return "actions must hold at least one action with an action_id"
        needed = ("trigger_id", "response_url") if _any_share(actions) else ("trigger_id",)
        return _required(body, needed)
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict):
            return "view is missing"
        return _required(view, ("callback_id", "type"), "view.")
    return None


def _any_share(actions: list[dict[str, Any]]) -> bool:
    """Buttons whose answer goes back through response_url (share, and an import's buttons)."""
    answered = (SHARE_ACTION, "smx_import_yes", "smx_import_no")
    return any(a.get("action_id") in answered for a in actions)


def _required(body: dict[str, Any], names: tuple[str, ...], where: str = "") -> str | None:
    for name in names:
        if not isinstance(body.get(name), str):
            return f"{where}{name} is missing"
    return None


def _texts(obj: dict[str, Any], names: list[str] | tuple[str, ...], where: str) -> str | None:
    for name in names:
        if name in obj and not isinstance(obj[name], MAYBE_TEXT):
            return f"{where}{name} must be text"
    return None


def _named(body: dict[str, Any]) -> str | None:
    for name in _NAMED:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, dict):
            return f"{name} must be an object"
        if "id" in value and not isinstance(value["id"], str):
            return f"{name}.id must be text"
        problem = _texts(value, ("team_id", "enterprise_id", "name", "domain"), f"{name}.")
        if problem:
            return problem
    return None


def _objects(obj: dict[str, Any], names: tuple[str, ...], where: str) -> str | None:
    for name in names:
        if obj.get(name) is not None and not isinstance(obj[name], dict):
            return f"{where}{name} must be an object"
    return None


def _list_of_objects(body: dict[str, Any], name: str, texts: tuple[str, ...]) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return f"{name} must be a list of objects"
    for item in value:
        problem = _texts(item, texts, f"{name}[].")
        if problem:
            return problem
    return None


def _view(body: dict[str, Any]) -> str | None:
    if "view" not in body:
        return None
    view = body["view"]
    if not isinstance(view, dict):  # Bolt reads a present view (even null) as an object
        return "view must be an object"
    fields = ("id", "type", "callback_id", "team_id", "app_installed_team_id", "private_metadata")
    problem = _texts(view, fields, "view.")
    if problem:
        return problem
    if view.get("private_metadata"):
        # smx writes it (a JSON object) when it opens a form; Slack hands it back unchanged.
        try:
            meta = json.loads(view["private_metadata"])
        except (ValueError, RecursionError):
            meta = None
        if not isinstance(meta, dict):
            return "view.private_metadata must be a JSON object"
    state = view.get("state")
    if state is None:
        return None
    values = state.get("values", {}) if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return "view.state.values must be an object"
    # Each block's elements by action id, each with a text value or a selected option's.
    for block in values.values():
        if not isinstance(block, dict):
            return "view.state.values must hold objects"
        for element in block.values():
            if not isinstance(element, dict) or not isinstance(element.get("value"), MAYBE_TEXT):
                return "view.state.values must hold elements with text values"
            option = element.get("selected_option")
            if option is not None and not (
                isinstance(option, dict) and isinstance(option.get("value"), MAYBE_TEXT)
            ):
                return "view.state.values must hold options with text values"
    return None


def _event(body: dict[str, Any]) -> str | None:
    if "event" not in body:
        return "event is missing" if body.get("type") == "event_callback" else None
    event = body["event"]
    if not isinstance(event, dict):
        return "event must be an object"
    problem = (
        _texts(event, _EVENT_TEXT, "event.")
        or _objects(
            event, ("message", "previous_message", "item", "assistant_thread", "inputs"), "event."
        )
        or _list_of_objects(event, "files", ("id", "name"))  # a shared export (file_import)
    )
    if problem:
        return problem
    if "function" in event and not isinstance(event["function"], dict):
        return "event.function must be an object"
    for name in ("user", "channel"):
        value = event.get(name)
        if value is not None and not isinstance(value, str | dict):
            return f"event.{name} must be text or an object"
    tokens = event.get("tokens")
    if tokens is not None:
        if not isinstance(tokens, dict):
            return "event.tokens must be an object"
        for name in ("oauth", "bot"):
            ids = tokens.get(name)
            if ids is not None and not (
                isinstance(ids, list) and all(isinstance(i, str) for i in ids)
            ):
                return f"event.tokens.{name} must be a list of ids"
    needed = _LISTENED.get(event.get("type"))
    if needed is None:
        return None
    # Events smx answers: the person and the conversation become a note's author and place.
    return _texts(event, ("user", "channel"), "event.") or _required(event, needed, "event.")


_LISTENED = {"app_mention": ("channel",), "message": ("channel",), "app_home_opened": ("user",)}


# -- the gate --------------------------------------------------------------------------------------


class SlackGate:
    """The aiohttp handler for POST /slack/events, in front of Bolt."""

    def __init__(
        self,
        signing_secret: str,
        bolt: AsyncApp,
        *,
        clock: Callable[[], float] = time.time,
        body_timeout: float = 10.0,
        direct: DirectAnswers | None = None,
    ) -> None:
        from slack_bolt.adapter.aiohttp import to_aiohttp_response
        from slack_bolt.request.async_request import AsyncBoltRequest

        from bot.telemetry import ACK_SECONDS, child

        if not signing_secret:
            raise ValueError("a gate needs the signing secret")  # an empty key signs anything
        self._secret = signing_secret.encode()
        self._bolt = bolt
        self._request = AsyncBoltRequest
        self._response = to_aiohttp_response
        self._clock = clock
        self._body_timeout = body_timeout  # when no Connections set a deadline for the request
        # `/smx` answers complete in the ack go past Bolt's dispatch (bot/slack/direct.py)
        self._direct = direct
        self._ack_seconds, self._child = ACK_SECONDS, child

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The answer to one request, timed from its arrival to its answer by kind (command,
        event, interactive, or refused: unsigned, forged, stale, malformed or too slow) in
        smx_ack_seconds. Timed here rather than in a middleware: every POST to the events path
        comes here, and a middleware is a layer of aiohttp's around every request (~5 us)."""
        started = time.perf_counter()
        try:
            return await self._answer(request)
        finally:
            kind = request.get(ACK_KIND)
            if kind:
                self._child(self._ack_seconds, kind).observe(time.perf_counter() - started)

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        request[ACK_KIND] = REFUSED
        timestamp = _one(request, TIMESTAMP_HEADER)
        signature = _one(request, SIGNATURE_HEADER)
        now = self._clock()
        unsigned = (
            TIMESTAMP_HEADER not in request.headers and SIGNATURE_HEADER not in request.headers
        )
        if unsigned and request.content_length is not None and request.content_length <= 256:
            raw = await self._read(request)
            if raw is None:
                return web.Response(status=408, text=TOO_SLOW)
            if is_ssl_check(raw):
                request[ACK_KIND] = ""  # a probe, not an ack worth timing
                return web.Response(status=200)
            return self._refuse(401, UNSIGNED, "unsigned")
        if not plausible(timestamp, signature, now):
            # Refused on its headers alone: the body is neither read nor parsed.
            return self._refuse(401, UNSIGNED, "bad or stale signing headers")
        assert timestamp is not None and signature is not None
        raw = await self._read(request)
        if raw is None:
            return web.Response(status=408, text=TOO_SLOW)
        if not signed_by_slack(self._secret, timestamp, signature, raw, self._clock()):
            return self._refuse(401, UNSIGNED, "signature does not match")
        try:
            body = read_body(raw, request.headers.get("Content-Type", ""))
        except Malformed as err:
            log.warning("signed request refused", extra={"reason": str(err)})
            return web.Response(status=400, text=str(err))
        request[ACK_KIND] = body.kind
        problem = shape_problem(body.data)
        if problem:
            # Signed, so from Slack (or whoever holds the secret): say so in the log, do nothing.
            log.warning(
                "signed request with an unexpected shape ignored", extra={"reason": problem}
            )
            return web.Response(status=200)
        if self._direct is not None and body.kind == "command":
            direct = await self._direct.respond(body.data)
            if direct is not None:
                return direct
        headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        headers["content-type"] = [body.content_type]
        bolt_request = self.bolt_request(body, request.query_string, headers)
        answer = await self._bolt.async_dispatch(bolt_request)
        if answer.status == 404:
            # Bolt's "unhandled request": nothing listens for it, so nothing was done. A 404
            # would only make Slack show an error or send the event again.
            return web.Response(status=200)
        return await self._response(answer)

    def bolt_request(
        self, body: SlackBody, query: str, headers: dict[str, list[str]]
    ) -> AsyncBoltRequest:
        """The request Bolt is handed: exactly what Bolt builds from `body.text` (raw body,
        parsed body, context), without parsing the body a second time. Bolt's parser reads
        body.text as the gate read it (read_body), so the gate's reading is the one used."""
        from slack_bolt.context.async_context import AsyncBoltContext
        from slack_bolt.request.async_internals import build_async_context

        # An empty body is parsed to {} at no cost; HTTP mode takes no dict for a body.
        bolt_request = self._request(body="", query=query, headers=headers)  # type: ignore[arg-type]
        bolt_request.raw_body = body.text
        bolt_request.body = body.data
        bolt_request.context = build_async_context(AsyncBoltContext({}), body.data)
        return bolt_request

    async def _read(self, request: web.Request) -> bytes | None:
        """The whole body by the request's deadline, or None when the client is too slow."""
        if request.content.is_eof():
            return await request.read()  # all of it has arrived: nothing to wait for, nor time
        loop = asyncio.get_running_loop()
        deadline = request.get(REQUEST_DEADLINE) or loop.time() + self._body_timeout
        try:
            async with asyncio.timeout_at(deadline):
                return await request.read()
        except TimeoutError:
            log.info("request body too slow; closing", extra={"remote": request.remote})
            return None

    @staticmethod
    def _refuse(status: int, text: str, reason: str) -> web.Response:
        # At debug level: a flood of forged requests must not become a flood of log lines.
        log.debug("request refused", extra={"status": status, "reason": reason})
        return web.Response(status=status, text=text)


# -- connections -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    request_timeout: float  # seconds from a request's first byte to its whole body
    keepalive_timeout: float  # seconds an idle keep-alive connection stays open
    max_connections: int


FRESH, READING, HANDLING, IDLE = "fresh", "reading", "handling", "idle"


class _Conn:
    __slots__ = ("transport", "phase", "since", "deadline", "timer")

    def __init__(self, transport: asyncio.Transport, now: float) -> None:
        self.transport = transport
        self.phase = FRESH
        self.since = now  # when the current phase began
        self.deadline: float | None = None  # when the current phase has lasted too long
        # Due at or before the deadline. A keep-alive connection changes phase three times a
        # request; its timer is moved only when the deadline comes earlier than the timer, and
        # a timer that finds the deadline later sets itself again for it (see Connections._move).
        self.timer: asyncio.TimerHandle | None = None


class Connections:
    """Every open connection of one served app, its phase, and the deadline that phase has."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        # One ordered table per phase: the first entry is the one longest in that phase.
        self._phases: dict[str, dict[asyncio.BaseTransport, _Conn]] = {
            FRESH: {},
            READING: {},
            HANDLING: {},
            IDLE: {},
        }
        self._all: dict[asyncio.BaseTransport, _Conn] = {}  # every one, whatever its phase
        self.closed: dict[str, int] = {"slow": 0, "idle": 0, "evicted": 0, "refused": 0}
        self._warned_at = -1e9
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def open(self) -> int:
        return len(self._all)

    async def wait_until(self, condition: Callable[[], bool], within: float) -> None:
        """Return once `condition()` holds (checked at each change), or raise TimeoutError.
        For operators' tools and tests: e.g. wait until silent connections have been closed."""
        async with asyncio.timeout(within):
            while not condition():
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                await waiter

    def _changed(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def protocol_factory(self, make_handler: Callable[[], asyncio.Protocol]):
        """What loop.create_server is given: aiohttp's handler for each connection, watched."""
        return lambda: _Watched(self, make_handler())

    # -- phases, driven by the watched protocol and by the middleware --

    def admit(self, transport: asyncio.Transport) -> bool:
        loop = asyncio.get_running_loop()
        if self.open >= self.limits.max_connections and not self._make_room():
            self.closed["refused"] += 1
            self._warn_full()
            return False
        conn = _Conn(transport, loop.time())
        self._all[transport] = conn
        self._move(conn, FRESH)
        self._changed()
        return True

    def saw_bytes(self, transport: asyncio.BaseTransport) -> None:
        conn = self._phases[IDLE].get(transport)
        if conn is not None:  # the first byte of the next request on a kept-alive connection
            self._move(conn, READING)

    def forget(self, transport: asyncio.BaseTransport) -> None:
        conn = self._all.pop(transport, None)
        if conn is not None:
            self._phases[conn.phase].pop(transport, None)
            if conn.timer is not None:
                conn.timer.cancel()
            self._changed()

    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        @web.middleware
        async def watch(request: web.Request, handler) -> web.StreamResponse:
            conn = self._find(request.transport)
            if conn is None:
                return await handler(request)
            # A request read from the buffer right after the previous answer starts now.
            started = (
                conn.since if conn.phase in (FRESH, READING) else asyncio.get_running_loop().time()
            )
            request[REQUEST_DEADLINE] = started + self.limits.request_timeout
            self._move(conn, HANDLING)
            try:
                return await handler(request)
            finally:
                if self._find(request.transport) is conn:
                    self._move(conn, IDLE)

        return watch

    # -- internals --

    def _find(self, transport: Any) -> _Conn | None:
        return self._all.get(transport)

    def _move(self, conn: _Conn, phase: str) -> None:
        loop = asyncio.get_running_loop()
        self._phases[conn.phase].pop(conn.transport, None)
        conn.phase, conn.since = phase, loop.time()
        self._phases[phase][conn.transport] = conn
        if phase == HANDLING:
            conn.deadline = None  # the handler bounds its own reading (SlackGate) and answering
            return
        wait = self.limits.keepalive_timeout if phase == IDLE else self.limits.request_timeout
        conn.deadline = conn.since + wait
        if conn.timer is not None:
            if conn.timer.when() <= conn.deadline:
                return  # it will find the later deadline and set itself again
            conn.timer.cancel()
        conn.timer = loop.call_at(conn.deadline, self._expire, conn)

    def _expire(self, conn: _Conn) -> None:
        conn.timer = None
        if conn.deadline is None:
            return  # being handled: the next phase sets a timer of its own
        loop = asyncio.get_running_loop()
        if conn.deadline > loop.time():
            conn.timer = loop.call_at(conn.deadline, self._expire, conn)
            return
        self._close(conn, "idle" if conn.phase == IDLE else "slow")

    def _close(self, conn: _Conn, reason: str) -> None:
        self.forget(conn.transport)
        self.closed[reason] += 1
        # abort, not close: close() would wait for a client that does not read to take our bytes.
        conn.transport.abort()

    def _make_room(self) -> bool:
        """At the cap: close the connection idle longest, else the one slowest to send."""
        for phase in (IDLE, FRESH, READING):
            table = self._phases[phase]
            if table:
                self._close(next(iter(table.values())), "evicted")
                self._warn_full()
                return True
        return False

    def _warn_full(self) -> None:
        now = time.monotonic()
        if now - self._warned_at >= 60:  # once a minute at most, however hard the flood
            self._warned_at = now
            log.warning(
                "connection limit reached",
                extra={"max_connections": self.limits.max_connections, **self.closed},
            )


class _Watched(asyncio.Protocol):
    """aiohttp's per-connection handler, wrapped so Connections sees it open, read and close."""

    def __init__(self, connections: Connections, inner: asyncio.Protocol) -> None:
        self._connections = connections
        self._inner = inner
        self._transport: asyncio.Transport | None = None  # set once admitted

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if not self._connections.admit(transport):
            transport.abort()  # aiohttp never hears of it
            return
        self._transport = transport
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._transport is not None:
            self._connections.saw_bytes(self._transport)
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._transport is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._connections.forget(self._transport)
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._transport is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._transport is not None:
            self._inner.resume_writing()
