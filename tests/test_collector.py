"""Full garbage collections are held off while a digest pass runs (bot/collector.py): the
thresholds while held, overlapping holds, each release counted once, and a pass that holds them
from its first page until its last digest is settled."""

from __future__ import annotations

import gc
import sys

import pytest

from bot import collector
from tests.support.contract import scheduler
from tests.support.digest_support import Recorder
from tests.test_digest_scale import due_channels


@pytest.fixture(autouse=True)
def thresholds():
    saved = gc.get_threshold()
    switch = sys.getswitchinterval()
    yield saved
    gc.set_threshold(*saved)
    sys.setswitchinterval(switch)


def test_a_hold_hands_the_gil_on_sooner_until_the_last_release():
    before = sys.getswitchinterval()
    assert before > collector.SWITCH  # the interpreter's 5 ms
    first = collector.hold_full_collections()
    second = collector.hold_full_collections()
    assert sys.getswitchinterval() == pytest.approx(collector.SWITCH)
    first()
    assert sys.getswitchinterval() == pytest.approx(collector.SWITCH)
    second()
    assert sys.getswitchinterval() == before


def test_a_hold_keeps_young_collections_and_defers_middle_and_full_ones(thresholds):
    release = collector.hold_full_collections()
    young, middle, full = gc.get_threshold()
    assert young == thresholds[0] and middle == full == collector.HELD
    assert collector.holding()
    release()
    assert gc.get_threshold() == thresholds and not collector.holding()


def test_overlapping_holds_end_with_the_last_and_a_release_counts_once(thresholds):
    first = collector.hold_full_collections()
    second = collector.hold_full_collections()
    first()
    first()  # a second call of the same release changes nothing
    assert gc.get_threshold()[2] == collector.HELD
    second()
    assert gc.get_threshold() == thresholds


async def test_a_pass_holds_full_collections_until_its_digests_are_settled(tmp_path):
    from bot.store import open_store

    store = open_store(str(tmp_path / "smx.db"))
    try:
        clock = await due_channels(store, 5)
        held_while_posting: list[bool] = []
        switch_while_posting: list[float] = []
        before = sys.getswitchinterval()
        post = Recorder(clock)

        async def posting(*args, **kwargs):
            held_while_posting.append(collector.holding())
            switch_while_posting.append(sys.getswitchinterval())
            return await post(*args, **kwargs)

        assert not collector.holding()
        report = await scheduler(store, clock, posting).tick()
        assert report.outcomes == {"posted": 5}
        assert held_while_posting and all(held_while_posting)
        assert switch_while_posting == [pytest.approx(collector.SWITCH)] * len(switch_while_posting)
        assert not collector.holding()  # given back once the pass was over
        assert sys.getswitchinterval() == before
    finally:
        await store.close()
