"""The digest scheduler: claims each channel's weekly digest once, then posts it.

It runs as an asyncio task inside `smx serve` and `smx socket` (`run()`), or one pass at a time
from cron (`smx digest tick`, `tick()`). Any number of them may share one database: all they
share is the store. It is handed `post` (bot/digest/delivery.py) and a clock, and imports nothing
from Slack.

A pass:
1. Reaps runs whose holder died (below).
2. For every active subscription whose `next_run` has come, a page (DUE_PAGE) at a time, in one
   transaction per page (Store.claim_runs): moves `next_run` to the first slot after now (from
   the local wall-clock slot, bot/digest/slots.py), and inserts the run (team, channel, ISO week
   of the slot in the channel's zone) in state `claimed`, each subscription its own
   compare-and-set. The run's primary key is the claim: a second tick, a second process or a
   restart finds the week taken and posts nothing. The slot owed is the latest one at or before
   now: a digest that fell due while smx was down is posted once, marked late (more than
   LATE_AFTER after its slot; a run re-claimed from `retry` is marked late by the same rule);
   older missed weeks are not replayed, because `next_run` jumps past them.
3. Composes each page together (bot/digest/compose.py): one batch read of all its channels' weeks
   (Store.week_activities, a few queries, not a few per channel; a large page is read `apart`,
   in the store's read worker process, bot/store/read_worker.py), then the Replies built in a
   worker thread, so the event loop serving Slack beside it is never held by that CPU work.
   Page k+1 is read while page k is built, and at most PAGES_AHEAD pages wait to be posted. At
   most CLAIMED_AHEAD pages are claimed and not yet settled: the next page is claimed as the
   oldest settles, so a large pass's claims do not queue ahead of its first pages' run moves.
4. Delivers each claimed run (bounded concurrency: CONCURRENCY in all and PER_WORKSPACE per
   workspace, each under POST_TIMEOUT, so one slow or failing team never holds up the others):
   skips it when its week is empty (unless the channel asked for empty weeks), moves the run
   `claimed` -> `sending` (compare-and-set on its holder), posts, and records the outcome. The
   moves of all digests in flight share commits (bot/digest/run_writes.py): each still waits
   for its own to be durable before it goes on.

Crash policy (a process killed between the claim and the end of the post). Slack's
chat.postMessage has no idempotency key, so a post whose request may have left cannot be both
retried and never repeated. smx splits the window in two and treats each half differently:

- Died while `claimed` (claimed, composing, nothing sent): the run is certainly not posted. Once
  its claim is older than the lease (LEASE_SECONDS, far longer than POST_TIMEOUT), the next pass of
  any scheduler returns it to `retry` and posts it: exactly once, marked late.
- Died while `sending` (the request may have reached Slack): AT MOST ONCE. The move to `sending`
  renews the lease, so a run that waited for a delivery slot is not reaped while it is sent. The
  first message's ts is recorded as soon as Slack answers, before the thread replies: a run that
  died with it recorded is marked `posted` (its thread may be short; nobody is told it is
  missing, because it is not). Otherwise the run is never retried; once its lease has passed it
  is marked `lost` and the person who set the digest up gets a DM saying this week's digest
  may be missing and that `/smx digest now` posts it (`digest status` says so too). That DM is
  itself claimed under a lease and recorded once sent (`told_at`), so a process that dies before
  telling is relieved by the next: the subscriber is told at least once. So a crash never posts a
  digest twice, and a digest it loses is never lost silently.

Every state move after the claim is compare-and-set on (state, claimed_by): a scheduler whose lease
ran out while it was still alive finds its run taken and stops without posting. Slack errors map
to outcomes (bot/digest/delivery.py): a channel the bot left, or that was archived, pauses the
subscription and DMs the subscriber; a revoked token pauses the workspace's subscriptions;
transient failures are retried on later passes (MAX_ATTEMPTS, then the subscriber is told). A
digest `post` refuses to send (Slack says, at posting time, that the channel is now shared with
another organisation, or the answer failed the last-step privacy check) pauses the subscription,
so no later week goes there either, and DMs the subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.collector import hold_full_collections
from bot.digest.compose import Digest, Window, build_all, off_loop, read_weeks
from bot.digest.delivery import HEAD_POSTED, SHARED_EXTERNALLY, Delivery, Post
from bot.digest.run_writes import RunWriter
from bot.digest.slots import Slot, local_text, utc_now, week_before
from bot.reply import Reply
from bot.store import DigestRun, Store, Subscription
from bot.store.base import RunClaim, RunUpdate
from bot.store.digests import LATE_AFTER  # one threshold for first claims and retries

log = logging.getLogger("smx.digest")

LEASE_SECONDS = 600.0
POST_TIMEOUT = 180.0
TICK_SECONDS = 15.0
CONCURRENCY = 16
PER_WORKSPACE = 2
MAX_ATTEMPTS = 3
RETRY_AFTER = (timedelta(minutes=1), timedelta(minutes=5))
STOP_GRACE = 10.0
DUE_PAGE = 500
PAGES_AHEAD = 2  # pages composed and not yet settled, at most
CLAIMED_AHEAD = PAGES_AHEAD + 1  # pages claimed and not yet settled, at most

Key = tuple[str, str, str]


def slot_of(sub: Subscription) -> Slot:
    return Slot(sub.weekday, sub.hour, sub.minute, sub.tz)


def key_of(run: DigestRun) -> Key:
    return (run.team, run.channel, run.week)


@dataclass
class _Progress:
    """How far one delivery got: `claimed` (nothing sent) or `sending`; `head`, the first
    message's ts once it is in the channel."""

    phase: str = "claimed"
    head: str | None = None


@dataclass
class _Page:
    """A page of digests composed together: its slot of PAGES_AHEAD is given back once every
    one of its deliveries is over."""

    left: int
    release: Callable[[], None] | None = None
    # Full garbage collections are held off until the page is over (bot/collector.py).
    collections: Callable[[], None] | None = None
    settled: Callable[[], None] | None = None  # its slot of CLAIMED_AHEAD, given back

    def one_done(self, _task: asyncio.Task) -> None:
        self.left -= 1
        if self.left == 0:
            if self.release is not None:
                self.release()
            if self.collections is not None:
                self.collections()
            if self.settled is not None:
                self.settled()


@dataclass
class TickReport:
    claimed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def text(self) -> str:
        done = ", ".join(f"{n} {state}" for state, n in sorted(self.outcomes.items()))
        return f"{self.claimed} digest{'s' * (self.claimed != 1)} due" + (
            f": {done}" if done else ""
        )


class Scheduler:
    def __init__(
        self,
        store: Store,
        post: Post,
        *,
        clock: Callable[[], datetime] = utc_now,
        owner: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        post_timeout: float = POST_TIMEOUT,
        concurrency: int = CONCURRENCY,
        per_workspace: int = PER_WORKSPACE,
        interval: float = TICK_SECONDS,
        observe: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.post = post
        self.clock = clock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_seconds = lease_seconds
        self.post_timeout = post_timeout
        self.interval = interval
        self.observe = observe  # told each run's outcome (the server counts them for /metrics)
        self._concurrency = concurrency
        self._per_workspace = per_workspace
        self._slots: asyncio.Semaphore | None = None
        self._workspaces: dict[str, asyncio.Semaphore] = {}
        self._inflight: dict[Key, asyncio.Task[str]] = {}
        self._background: set[asyncio.Task] = set()
        self._telling: set[Key] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._runner: asyncio.Task | None = None
        self._writes = RunWriter(store)  # run-state moves, one commit for all waiting
        self._reading = asyncio.Lock()
        self._building = asyncio.Lock()
        self._ahead = asyncio.Semaphore(PAGES_AHEAD)
        self._claimed_ahead = asyncio.Semaphore(CLAIMED_AHEAD)

    # -- driving it -----------------------------------------------------------------------------

    async def tick(self) -> TickReport:
        """One pass: claim what is due and wait until every digest it claimed is settled."""
        report = TickReport()
        tasks = await self._start_due(report)
        for state in await asyncio.gather(*tasks):
            report.outcomes[state] += 1
        await self._tell_lost_runs(self.clock())
        await self._drain_background()
        return report

    async def run(self) -> None:
        """Pass after pass, every `interval` seconds (or on `wake()`), until `stop()`."""
        log.info("digest scheduler started", extra={"owner": self.owner})
        self._runner = asyncio.current_task()
        while not self._stopping:
            self._wake.clear()  # before the pass: a wake() during it brings the next one at once
            try:
                await self._start_due(TickReport())
            except Exception:  # a database hiccup must not end the loop; the next pass retries
                log.exception("digest pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Let digests in flight finish for `grace` seconds, then cancel the rest."""
        self._stopping = True
        self._wake.set()
        # A pass waiting for a claim slot (CLAIMED_AHEAD) wakes, sees _stopping and claims no
        # more: the runner ends now, not when a delivery settles.
        self._claimed_ahead.release()
        if self._runner is not None and not self._runner.done():
            await asyncio.wait([self._runner], timeout=grace)  # the pass under way, if any
        pending = [*self._inflight.values(), *self._background]
        if pending:
            _done, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    # -- a pass ---------------------------------------------------------------------------------

    async def _start_due(self, report: TickReport) -> list[asyncio.Task[str]]:
        now = self.clock()
        lost = await self.store.reap_runs(
            now, lease_seconds=self.lease_seconds, keep=frozenset(self._inflight)
        )
        for run in lost:
            log.warning("digest lost in a crash", extra=_run_log(run))
        await self._tell_lost_runs(now)
        tasks: list[asyncio.Task[str]] = []
        seen: set[tuple[str, str]] = set()
        # Page through everything due: a claimed (or already-posted) subscription's next_run
        # moves on, so it leaves the due set. Stop when a page brings nothing new. Each page is
        # claimed in one transaction, and its digests are composed together (one batch read,
        # built off the loop) while the next page is claimed. At most CLAIMED_AHEAD pages are
        # claimed and not yet settled: the next is claimed as the oldest one settles. Claiming
        # every page first queued all of the claims' writes ahead of the first pages' run
        # moves (one writer), and those pages, and so the pages behind them, waited for it.
        while True:
            await self._claimed_ahead.acquire()
            if self._stopping:  # stop() is letting the pass finish: claim no more
                self._claimed_ahead.release()
                break
            try:
                batch = await self.store.due_subscriptions(now, limit=DUE_PAGE)
                fresh = [sub for sub in batch if (sub.team, sub.channel) not in seen]
                seen.update((sub.team, sub.channel) for sub in fresh)
                claimed = await self._claim(fresh, now) if fresh else []
            except BaseException:
                self._claimed_ahead.release()
                raise
            report.claimed += len(claimed)
            tasks.extend(self._start_batch(claimed, settled=self._claimed_ahead.release))
            if len(batch) < DUE_PAGE or not fresh:
                break
        if self._stopping:  # no retries either: stop() is waiting for what is in flight
            return tasks
        retried: list[tuple[DigestRun, Subscription]] = []
        for waiting in await self.store.retry_runs(now):
            if key_of(waiting) in self._inflight:
                continue
            claimed_again = await self.store.claim_retry(waiting, owner=self.owner, now=now)
            if claimed_again is None:
                continue  # another scheduler took it
            sub = await self.store.get_subscription(claimed_again.team, claimed_again.channel)
            if (
                sub is None
                or sub.state != "active"
                or slot_of(sub).next_after(claimed_again.due) <= now
            ):
                # Turned off or paused since, or next week's slot has come: never replay it.
                await self._finish(claimed_again, ("claimed",), "dropped", error="superseded")
                continue
            retried.append((claimed_again, sub))
        report.claimed += len(retried)
        tasks.extend(self._start_batch(retried))
        return tasks

    async def _claim(
        self, subs: list[Subscription], now: datetime
    ) -> list[tuple[DigestRun, Subscription]]:
        # The slots' time-zone arithmetic for a page (tens of ms) in a worker thread, as the
        # building is: the event loop serving Slack beside the pass is not held by it.
        claims = await asyncio.to_thread(_claims_of, subs, now)
        runs = await self.store.claim_runs(claims, owner=self.owner, now=now)
        claimed = []
        for run, sub in zip(runs, subs, strict=True):
            if run is not None:
                log.info("digest claimed", extra=_run_log(run))
                claimed.append((run, sub))
        return claimed

    def _start_batch(
        self,
        claimed: list[tuple[DigestRun, Subscription]],
        *,
        settled: Callable[[], None] | None = None,
    ) -> list[asyncio.Task[str]]:
        """Start composing `claimed` together (one batch read of all their weeks, the Replies
        built off the event loop: bot/digest/compose.py), and each one's delivery, which waits
        for its Reply inside its own slot and timeout as before. `settled`: called once every
        one of them is settled (at once when there is none)."""
        if not claimed:
            if settled is not None:
                settled()
            return []
        page = _Page(len(claimed), collections=hold_full_collections(), settled=settled)
        composing = asyncio.create_task(self._compose(claimed, page))
        self._adopt(composing)  # stop() waits for it, then cancels it, as for any task of ours
        composing.add_done_callback(_consumed)
        tasks = [self._start(run, sub, composing) for run, sub in claimed]
        for task in tasks:
            task.add_done_callback(page.one_done)
        return tasks

    async def _compose(
        self, claimed: list[tuple[DigestRun, Subscription]], page: _Page
    ) -> dict[Key, Reply]:
        # One page read and one built at a time, in the order claimed: page k+1 is read while
        # page k is built, and at most PAGES_AHEAD pages are composed before their digests are
        # settled, so what waits in memory is a page or two, not every page claimed.
        await self._ahead.acquire()
        page.release = self._ahead.release
        if page.left == 0:  # its deliveries are over already (stopped): nothing holds the slot
            self._ahead.release()
        async with self._reading:
            digests = await asyncio.to_thread(
                _digests_of, claimed
            )  # time zones again: off the loop
            # Read apart from the build beside it (Store.week_activities; SQLite: in a process
            # of its own once the page is large, bot/store/read_worker.py).
            activities = await read_weeks(self.store, digests, apart=True)
            await self._building.acquire()
        try:
            replies = await off_loop(build_all, activities, digests)
        finally:
            self._building.release()
        return {key_of(run): reply for (run, _sub), reply in zip(claimed, replies, strict=True)}

    def _start(
        self, run: DigestRun, sub: Subscription, composing: asyncio.Task[dict[Key, Reply]]
    ) -> asyncio.Task[str]:
        task = asyncio.create_task(self._deliver_and_count(run, sub, composing))
        key = key_of(run)
        self._inflight[key] = task
        task.add_done_callback(lambda _t: self._inflight.pop(key, None))
        return task

    def _spawn_background(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _adopt(self, task: asyncio.Task) -> None:
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _drain_background(self) -> None:
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    # -- one digest -----------------------------------------------------------------------------

    async def _deliver_and_count(
        self, run: DigestRun, sub: Subscription, composing: asyncio.Task[dict[Key, Reply]]
    ) -> str:
        outcome = await self._deliver(run, sub, composing)
        if self.observe is not None:
            self.observe(outcome)
        return outcome

    async def _deliver(
        self, run: DigestRun, sub: Subscription, composing: asyncio.Task[dict[Key, Reply]]
    ) -> str:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._concurrency)
        team_slots = self._workspaces.setdefault(
            sub.workspace, asyncio.Semaphore(self._per_workspace)
        )
        progress = _Progress()
        try:
            # Its Reply first, holding no slot: a digest waiting for its page to be composed
            # never keeps one that a digest of an earlier page needs to be posted. Shielded: one
            # delivery stopped must not cancel its page's composing. A composing that failed
            # fails each of its digests here, as a compose of its own would.
            reply = (await asyncio.shield(composing))[key_of(run)]
            # The team's own slot first, so a team waiting on itself holds no shared slot.
            async with team_slots, self._slots, asyncio.timeout(self.post_timeout):
                return await self._compose_and_post(run, sub, progress, reply)
        except asyncio.CancelledError:
            if progress.phase == "claimed":  # nothing sent: hand it straight back for the next pass
                await asyncio.shield(
                    self._finish(run, ("claimed",), "retry", error="stopped", retry_at=self.clock())
                )
            elif progress.head:  # in the channel; only the thread may be short
                await asyncio.shield(
                    self._finish(
                        run, ("sending",), "posted", ts=progress.head, error=_short("stopped")
                    )
                )
            raise
        except Exception as err:  # TimeoutError included: never let one digest stop the pass
            log.exception("digest delivery failed", extra=_run_log(run))
            reason = "timed out" if isinstance(err, TimeoutError) else type(err).__name__
            if progress.phase == "claimed":
                return await self._retry_or_fail(run, sub, reason, expect=("claimed",))
            if progress.head:
                # The first message is in the channel: posted, with a short thread.
                await self._finish(
                    run, ("sending", "lost"), "posted", ts=progress.head, error=_short(reason)
                )
                await self._tell(sub, _short_text(sub, _short(reason)))
                return "posted"
            # The request may be on its way: at most once (see the module docstring).
            await self._finish(run, ("sending",), "lost", error=reason)
            await self._tell_lost_runs(self.clock())
            return "lost"

    async def _compose_and_post(
        self,
        run: DigestRun,
        sub: Subscription,
        progress: _Progress,
        reply: Reply,
    ) -> str:
        notes = reply.data["digest"]["notes"]
        if notes == 0 and not sub.include_empty:
            await self._finish(run, ("claimed",), "skipped", notes=0)
            log.info("digest skipped: empty week", extra=_run_log(run))
            return "skipped"
        if not await self._writes.update(
            RunUpdate(run, self.owner, ("claimed",), "sending", self.clock(), notes=notes)
        ):
            log.warning("digest claim taken over; not posting", extra=_run_log(run))
            return "taken"
        progress.phase = "sending"

        async def record_head(ts: str) -> None:
            progress.head = ts
            if not await self._writes.update(
                RunUpdate(run, self.owner, ("sending",), "sending", self.clock(), ts=ts)
            ):
                log.warning("digest run changed hands while posting", extra=_run_log(run))

        token = HEAD_POSTED.set(record_head)  # this task's context only (bot/digest/delivery.py)
        try:
            delivery = await self.post(sub.workspace, sub.channel, reply, enterprise=sub.enterprise)
        finally:
            HEAD_POSTED.reset(token)
        return await self._settle(run, sub, delivery)

    async def _settle(self, run: DigestRun, sub: Subscription, delivery: Delivery) -> str:
        extra = {**_run_log(run), "outcome": delivery.outcome, "error": delivery.error}
        outcome = delivery.outcome
        if outcome == "posted":
            # From lost too: a reaper that thought this process dead does not undo a real post.
            await self._finish(
                run, ("sending", "lost"), "posted", ts=delivery.ts, error=delivery.error
            )
            log.info("digest posted", extra={**extra, "messages": delivery.messages})
            if delivery.error:  # a thread reply failed: the channel has only part of it
                await self._tell(sub, _short_text(sub, delivery.error, delivery))
            return "posted"
        log.warning("digest not posted", extra=extra)
        if outcome == "channel_gone":
            await self._finish(run, ("sending",), "failed", error=delivery.error)
            when = local_text(self.clock(), sub.tz)
            await self.store.set_subscription_state(
                sub.team,
                sub.channel,
                "paused",
                reason=f"Slack answered `{delivery.error}` when I posted on {when}",
            )
            await self._tell(sub, _gone_text(sub, delivery.error))
            return "failed"
        if outcome == "refused":
            await self._finish(run, ("sending",), "failed", error=delivery.error)
            await self.store.set_subscription_state(
                sub.team, sub.channel, "paused", reason=_refused_reason(delivery.error)
            )
            await self._tell(sub, _refused_text(sub, delivery.error))
            return "failed"
        if outcome == "team_revoked":
            await self._finish(run, ("sending",), "failed", error=delivery.error)
            paused = await self.store.pause_workspace(
                sub.workspace, f"the workspace's token stopped working (`{delivery.error}`)"
            )
            log.warning(
                "workspace token revoked: digests paused", extra={**extra, "paused": paused}
            )
            return "failed"
        if outcome == "retry":
            return await self._retry_or_fail(run, sub, delivery.error, expect=("sending",))
        if outcome == "uncertain":
            await self._finish(run, ("sending",), "lost", error=delivery.error)
            await self._tell_lost_runs(self.clock())
            return "lost"
        await self._finish(run, ("sending",), "failed", error=delivery.error)
        await self._tell(sub, _failed_text(sub, delivery.error))
        return "failed"

    async def _retry_or_fail(
        self, run: DigestRun, sub: Subscription, error: str | None, *, expect: tuple[str, ...]
    ) -> str:
        if run.attempts < MAX_ATTEMPTS:
            delay = RETRY_AFTER[min(run.attempts - 1, len(RETRY_AFTER) - 1)]
            await self._finish(run, expect, "retry", error=error, retry_at=self.clock() + delay)
            return "retry"
        await self._finish(run, expect, "failed", error=error)
        await self._tell(sub, _failed_text(sub, error))
        return "failed"

    async def _finish(
        self,
        run: DigestRun,
        expect: tuple[str, ...],
        state: str,
        *,
        ts: str | None = None,
        notes: int | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> bool:
        done = await self._writes.update(
            RunUpdate(
                run,
                self.owner,
                expect,  # type: ignore[arg-type]
                state,  # type: ignore[arg-type]
                self.clock(),
                ts=ts,
                notes=notes,
                error=error,
                retry_at=retry_at,
            )
        )
        if not done:
            log.warning("digest run changed hands", extra={**_run_log(run), "state": state})
        return done

    # -- telling the person who set it up ---------------------------------------------------------

    async def _tell(self, sub: Subscription, text: str) -> bool:
        """DM the subscriber; False when it is worth trying again later."""
        try:
            delivery = await self.post(
                sub.workspace, sub.subscriber, Reply(intro=text), enterprise=sub.enterprise
            )
        except Exception:
            log.exception("could not DM the subscriber", extra={"channel": sub.channel})
            return False
        if delivery.outcome != "posted":
            log.warning(
                "could not DM the subscriber",
                extra={"channel": sub.channel, "error": delivery.error},
            )
        return delivery.outcome not in ("retry", "uncertain")

    async def _tell_lost_runs(self, now: datetime) -> None:
        """Tell subscribers about lost digests: the ones this process lost, and those whose
        teller died before recording that it told (at least once; see claim_notices)."""
        for run in await self.store.claim_notices(
            now, owner=self.owner, lease_seconds=self.lease_seconds
        ):
            if key_of(run) not in self._telling:  # already on its way from this process
                self._telling.add(key_of(run))
                self._spawn_background(self._tell_lost(run))

    async def _tell_lost(self, run: DigestRun) -> None:
        try:
            sub = await self.store.get_subscription(run.team, run.channel)
            if sub is None or await self._tell(sub, _lost_text(run, sub)):
                await self.store.mark_told(run, owner=self.owner, now=self.clock())
        finally:
            self._telling.discard(key_of(run))


def _claims_of(subs: list[Subscription], now: datetime) -> list[RunClaim]:
    """Each subscription's claim at `now`: the slot owed, its week, and the next slot. The
    time-zone arithmetic is done once per distinct slot: channels that share a weekday, time and
    zone (most of a busy minute's) share it."""
    claims = []
    worked_out: dict[Slot, tuple[str, datetime, bool, datetime]] = {}
    for sub in subs:
        slot = slot_of(sub)
        found = worked_out.get(slot)
        if found is None:
            due = slot.latest_at_or_before(now)
            found = worked_out[slot] = (
                slot.week(due),
                due,
                now - due > LATE_AFTER,
                slot.next_after(now),
            )
        week, due, late, next_run = found
        claims.append(RunClaim(sub, week=week, due=due, late=late, next_run=next_run))
    return claims


def _digests_of(claimed: list[tuple[DigestRun, Subscription]]) -> list[Digest]:
    """What each claimed run's digest covers: the week before its slot, in its channel's zone
    (one Window for the runs due at the same moment in the same zone)."""
    windows: dict[tuple[datetime, str], Window] = {}
    out = []
    for run, sub in claimed:
        window = windows.get((run.due, sub.tz))
        if window is None:
            window = windows[(run.due, sub.tz)] = Window(
                since=week_before(run.due, sub.tz), until=run.due, tz=sub.tz
            )
        out.append(
            Digest(
                team=sub.team,
                channel=sub.channel,
                window=window,
                week=run.week,
                late_due=run.due if run.late else None,
            )
        )
    return out


def _consumed(task: asyncio.Task) -> None:
    """Its failure is each delivery's to report (they await it); never "never retrieved"."""
    if not task.cancelled():
        task.exception()


def _where(sub: Subscription) -> str:
    return f"channel `{sub.channel}`"


def _gone_text(sub: Subscription, error: str | None) -> str:
    return (
        f"I couldn't post the weekly digest in {_where(sub)}: Slack answered `{error}` (I'm not "
        "in that channel, or it was archived or deleted). I've paused the digest. Invite me with "
        "`/invite @smx`, then type `/smx digest resume` in the channel."
    )


def _refused_reason(error: str | None) -> str:
    if error == SHARED_EXTERNALLY:
        return "the channel is shared with another organisation (Slack Connect)"
    return "it held notes this channel may not read; see smx's log"


def _refused_text(sub: Subscription, error: str | None) -> str:
    if error == SHARED_EXTERNALLY:
        return (
            f"I didn't post the weekly digest in {_where(sub)}: that channel is now shared with "
            "another organisation, and the team's notes never go there. I've paused the digest. "
            "Set one up in one of your own channels with `/smx digest on` there, and "
            "`/smx digest off` in that channel removes this one."
        )
    return (
        f"I didn't post the weekly digest in {_where(sub)}: it held notes that channel may not "
        "read, so I've paused it. Whoever runs smx can find the details in its log; "
        "`/smx digest resume` in the channel restarts it."
    )


def _failed_text(sub: Subscription, error: str | None) -> str:
    return (
        f"I couldn't post this week's digest in {_where(sub)} (Slack answered `{error}`). The "
        "next one will come on schedule; `/smx digest now` in the channel posts this one now."
    )


def _short(reason: str | None) -> str:
    return f"thread incomplete: {reason}"


def _short_text(sub: Subscription, error: str | None, delivery: Delivery | None = None) -> str:
    count = ""
    if delivery is not None and delivery.parts > 1:
        count = f" ({delivery.messages} of its {delivery.parts} messages went out)"
    return (
        f"This week's digest is in {_where(sub)}, but its thread is incomplete{count}: "
        f"`{error}`. `/smx digest preview` in that channel shows the last 7 days in full."
    )


def _lost_text(run: DigestRun, sub: Subscription) -> str:
    return (
        f"This week's digest for {_where(sub)} (due {local_text(run.due, sub.tz)}) may not have "
        "been posted: smx stopped while posting it, and I never post a digest twice. If it is "
        "not in the channel, `/smx digest now` there posts it."
    )


def _run_log(run: DigestRun) -> dict:
    return {"team": run.team, "channel": run.channel, "week": run.week, "late": run.late}
