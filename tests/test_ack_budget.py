"""The 2 s budget of an answer given in the ack (`_ended_within`): the loop's waits share one
timer (`_Deadlines`), and each is still woken at its own deadline, or as soon as its work ends."""

from __future__ import annotations

import asyncio

from bot.slack.listeners import commands
from bot.slack.listeners.commands import _Deadlines, _ended_within
from tests.support.waits import WAIT


async def test_work_that_ends_in_time_is_said_to_have_ended() -> None:
    async def quick() -> int:
        await asyncio.sleep(0)
        return 1

    work = asyncio.ensure_future(quick())
    assert await _ended_within(work, 30.0) is True
    assert work.result() == 1


async def test_work_past_its_budget_is_left_running_and_said_not_to_have_ended() -> None:
    release = asyncio.Event()

    async def slow() -> str:
        await release.wait()
        return "done"

    work = asyncio.ensure_future(slow())
    assert await asyncio.wait_for(_ended_within(work, 0.05), WAIT) is False
    assert not work.done()  # it goes on, to be delivered later
    release.set()
    assert await work == "done"


async def test_waits_on_one_timer_each_end_at_their_own_deadline() -> None:
    """Of many waits begun one after the other, the ones whose work ended are answered at once
    and the ones whose work did not are woken at their deadlines, in order."""
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()

    async def quick() -> None:
        await asyncio.sleep(0)

    works = [asyncio.ensure_future(slow() if i % 3 == 0 else quick()) for i in range(30)]
    ended = await asyncio.wait_for(
        asyncio.gather(*(_ended_within(w, 0.05 + i * 0.001) for i, w in enumerate(works))), WAIT
    )
    assert ended == [i % 3 != 0 for i in range(30)]
    release.set()
    await asyncio.gather(*works)


async def test_a_shorter_budget_after_a_longer_one_is_not_kept_waiting_for_it() -> None:
    """Deadlines queue in order; one that would come before the last queued is timed by its
    own timer, so it is not woken only when the longer one is."""
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()

    long_work, short_work = asyncio.ensure_future(slow()), asyncio.ensure_future(slow())
    long_wait = asyncio.ensure_future(_ended_within(long_work, 3600.0))
    await asyncio.sleep(0)
    assert await asyncio.wait_for(_ended_within(short_work, 0.05), WAIT) is False
    assert not long_wait.done()
    release.set()
    assert await long_wait is True
    await asyncio.gather(long_work, short_work)


async def test_the_queue_of_waits_does_not_grow_with_answers_given_in_time() -> None:
    async def quick() -> None:
        await asyncio.sleep(0)

    for _ in range(200):
        await _ended_within(asyncio.ensure_future(quick()), 30.0)
    deadlines = commands._deadlines[asyncio.get_running_loop()]
    assert len(deadlines) == 0
    assert deadlines._timer is None  # nothing left that holds on to this loop


async def test_a_wait_given_up_is_forgotten_and_the_timer_moves_on() -> None:
    loop = asyncio.get_running_loop()
    deadlines = _Deadlines()
    gone, kept = loop.create_future(), loop.create_future()
    now = loop.time()
    assert deadlines.add(now + 0.01, gone)
    assert deadlines.add(now + 0.02, kept)
    assert not deadlines.add(now + 0.015, loop.create_future())  # before the last queued
    gone.cancel()
    await asyncio.wait_for(kept, WAIT)  # woken at its deadline though the first was given up
    deadlines.trim()
    assert len(deadlines) == 0


def test_a_finished_loop_is_not_kept_alive_by_its_waits() -> None:
    import gc
    import weakref

    async def one() -> weakref.ref:
        await _ended_within(asyncio.ensure_future(asyncio.sleep(0)), 30.0)
        return weakref.ref(asyncio.get_running_loop())

    gone = asyncio.run(one())
    gc.collect()
    assert gone() is None
