"""The connection watcher's deadlines (bot/slack/guard.py Connections): a keep-alive connection
changes phase three times a request, and its timer is moved only when a deadline comes earlier.
These tests drive the phases by hand on a loop whose clock they set, and fire the timers
themselves, so nothing here waits on real time."""

from __future__ import annotations

import asyncio

import pytest

from bot.slack.guard import HANDLING, IDLE, READING, Connections, Limits


class Transport:
    def __init__(self) -> None:
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True


@pytest.fixture
async def clock(monkeypatch):
    loop = asyncio.get_running_loop()
    now = [loop.time()]
    monkeypatch.setattr(loop, "time", lambda: now[0])
    return now


def fire(connections: Connections, conn) -> None:
    timer = conn.timer
    assert timer is not None
    timer.cancel()  # fired here by hand, not by the loop
    connections._expire(conn)


async def test_a_request_then_idle_closes_at_the_keep_alive_deadline_not_the_reading_one(clock):
    connections = Connections(Limits(request_timeout=5, keepalive_timeout=75, max_connections=9))
    transport = Transport()
    assert connections.admit(transport)
    conn = connections._find(transport)
    start = clock[0]
    connections._move(conn, READING)
    assert conn.timer.when() == start + 5
    clock[0] = start + 1
    connections._move(conn, HANDLING)
    clock[0] = start + 2
    connections._move(conn, IDLE)  # deadline start + 77, later than the timer: not moved
    assert conn.deadline == start + 77 and conn.timer.when() == start + 5
    clock[0] = start + 5
    fire(connections, conn)  # the reading deadline passed, but the connection is idle since 2
    assert not transport.aborted and conn.timer.when() == start + 77
    clock[0] = start + 77
    fire(connections, conn)
    assert transport.aborted and connections.closed["idle"] == 1
    assert connections.open == 0


async def test_the_next_request_on_a_kept_alive_connection_gets_its_own_reading_deadline(clock):
    connections = Connections(Limits(request_timeout=5, keepalive_timeout=75, max_connections=9))
    transport = Transport()
    connections.admit(transport)
    conn = connections._find(transport)
    start = clock[0]
    connections._move(conn, IDLE)
    assert conn.deadline == start + 75 and conn.timer.when() == start + 5  # admitted at start
    clock[0] = start + 5
    fire(connections, conn)
    assert not transport.aborted and conn.timer.when() == start + 75
    clock[0] = start + 10
    connections._move(conn, READING)  # earlier than the idle timer: the timer moves
    assert conn.timer.when() == start + 15
    clock[0] = start + 15
    fire(connections, conn)
    assert transport.aborted and connections.closed["slow"] == 1


async def test_a_timer_that_fires_while_the_request_is_handled_leaves_it_alone(clock):
    connections = Connections(Limits(request_timeout=5, keepalive_timeout=75, max_connections=9))
    transport = Transport()
    connections.admit(transport)
    conn = connections._find(transport)
    start = clock[0]
    connections._move(conn, READING)
    connections._move(conn, HANDLING)
    clock[0] = start + 30  # a long answer: the handler bounds itself
    fire(connections, conn)
    assert not transport.aborted and conn.timer is None
    connections._move(conn, IDLE)
    assert conn.timer.when() == start + 30 + 75
