"""Weekly slots keep their local wall-clock time in every zone, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.digest.slots import Slot, local_text, to_utc, week_before

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata")
START = datetime(2025, 12, 1, tzinfo=UTC)  # a year of weeks from here crosses every 2026 change


def weeks_of(slot: Slot, count: int = 60) -> list[datetime]:
    out, moment = [], START
    for _ in range(count):
        moment = slot.next_after(moment)
        out.append(moment)
    return out


@pytest.mark.parametrize("tz", ZONES)
def test_a_year_of_mondays_at_nine_stays_at_nine_local(tz):
    slot = Slot(0, 9, 0, tz)
    runs = weeks_of(slot)
    for run in runs:
        local = run.astimezone(slot.zone)
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0), run
    days = [run.astimezone(slot.zone).date() for run in runs]
    assert all(b - a == timedelta(days=7) for a, b in zip(days, days[1:], strict=False))
    gaps = {b - a for a, b in zip(runs, runs[1:], strict=False)}
    if tz == "Asia/Kolkata":  # no daylight saving: always exactly a week
        assert gaps == {timedelta(days=7)}
    else:  # a week with a change is an hour shorter or longer in UTC, never a day off
        assert gaps == {timedelta(days=7), timedelta(days=7, hours=-1), timedelta(days=7, hours=1)}


@pytest.mark.parametrize(
    "tz,before,after,utc_before,utc_after",
    [
        # (a Monday before the change, a Monday after, their 09:00 in UTC)
        ("Europe/Berlin", date(2026, 3, 23), date(2026, 3, 30), "08:00", "07:00"),
        ("Europe/Berlin", date(2026, 10, 19), date(2026, 10, 26), "07:00", "08:00"),
        ("America/New_York", date(2026, 3, 2), date(2026, 3, 9), "14:00", "13:00"),
        ("America/New_York", date(2026, 10, 26), date(2026, 11, 2), "13:00", "14:00"),
        ("Australia/Sydney", date(2026, 3, 30), date(2026, 4, 6), "22:00", "23:00"),
        ("Australia/Sydney", date(2026, 9, 28), date(2026, 10, 5), "23:00", "22:00"),
        ("Asia/Kolkata", date(2026, 3, 23), date(2026, 3, 30), "03:30", "03:30"),
    ],
)
def test_the_same_local_time_before_and_after_each_change(tz, before, after, utc_before, utc_after):
    slot = Slot(0, 9, 0, tz)
    first = slot.on(before)
    second = slot.next_after(first)
    assert second == slot.on(after)
    assert first.astimezone(slot.zone).strftime("%H:%M") == "09:00"
    assert second.astimezone(slot.zone).strftime("%H:%M") == "09:00"
    assert (first.strftime("%H:%M"), second.strftime("%H:%M")) == (utc_before, utc_after)


@pytest.mark.parametrize(
    "tz,day,hour,minute,expected_utc",
    [
        # Skipped hour: 02:30 does not exist; it moves forward by the gap, to 03:30.
        ("Europe/Berlin", date(2026, 3, 29), 2, 30, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        ("America/New_York", date(2026, 3, 8), 2, 30, datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        ("Australia/Sydney", date(2026, 10, 4), 2, 30, datetime(2026, 10, 3, 16, 30, tzinfo=UTC)),
        # Repeated hour: the first of the two (still summer time).
        ("Europe/Berlin", date(2026, 10, 25), 2, 30, datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("America/New_York", date(2026, 11, 1), 1, 30, datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        ("Australia/Sydney", date(2026, 4, 5), 2, 30, datetime(2026, 4, 4, 15, 30, tzinfo=UTC)),
    ],
)
def test_skipped_hours_move_forward_and_repeated_hours_take_the_first(
    tz, day, hour, minute, expected_utc
):
    slot = Slot(6, hour, minute, tz)  # Sunday, the day clocks change
    found = slot.next_after(expected_utc - timedelta(days=3))
    assert found == expected_utc
    # The week after is back at the wall-clock time asked for.
    following = slot.next_after(found).astimezone(slot.zone)
    assert (following.hour, following.minute) == (hour, minute)
    assert slot.local_date(found) == day


def test_the_week_is_named_in_the_channels_zone_not_utc():
    sydney = Slot(0, 9, 0, "Australia/Sydney")
    run = sydney.on(date(2026, 6, 1))  # Monday 1 June 09:00 in Sydney is Sunday 31 May in UTC
    assert run.date() == date(2026, 5, 31)
    assert sydney.week(run) == "2026-W23" == "{}-W{:02d}".format(*date(2026, 6, 1).isocalendar())
    assert run.date().isocalendar()[1] == 22


def test_latest_at_or_before_is_the_slot_a_tick_owes():
    slot = Slot(0, 9, 0, "Europe/Berlin")
    monday = slot.on(date(2026, 11, 30))
    assert slot.latest_at_or_before(monday) == monday
    assert slot.latest_at_or_before(monday + timedelta(days=6)) == monday
    assert slot.latest_at_or_before(monday - timedelta(seconds=1)) == slot.on(date(2026, 11, 23))
    assert slot.next_after(monday) == slot.on(date(2026, 12, 7))
    assert slot.previous(monday) == slot.on(date(2026, 11, 23))


def test_status_text_names_the_zone():
    slot = Slot(0, 9, 0, "Europe/Berlin")
    run = slot.on(date(2026, 11, 30))
    assert local_text(run, "Europe/Berlin") == "Mon 30 Nov 09:00 Europe/Berlin"
    assert slot.describe() == "every Monday at 09:00 Europe/Berlin"


def test_a_window_is_seven_calendar_days_even_across_a_change():
    tz = "Europe/Berlin"
    after_change = Slot(0, 9, 0, tz).on(date(2026, 3, 30))
    start = week_before(after_change, tz)
    assert start == Slot(0, 9, 0, tz).on(date(2026, 3, 23))
    assert after_change - start == timedelta(days=7, hours=-1)


ALL_ZONES = (*ZONES, "Australia/Lord_Howe", "America/Santiago", "Pacific/Chatham", "UTC")


@settings(max_examples=300, deadline=None)
@given(
    tz=st.sampled_from(ALL_ZONES),
    weekday=st.integers(0, 6),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    moment=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)),
)
def test_slots_are_ordered_weekly_and_at_the_wall_clock_time(tz, weekday, hour, minute, moment):
    slot = Slot(weekday, hour, minute, tz)
    moment = moment.replace(tzinfo=UTC)
    nxt = slot.next_after(moment)
    last = slot.latest_at_or_before(moment)
    assert last <= moment < nxt
    assert slot.next_after(last) == nxt
    assert timedelta(days=6) < nxt - last < timedelta(days=8)
    assert slot.local_date(nxt) - slot.local_date(last) == timedelta(days=7)
    local = nxt.astimezone(slot.zone)
    intended = datetime.combine(slot.local_date(nxt), slot.at)
    shift = local.replace(tzinfo=None) - intended
    # Exactly the time asked for, or (in a skipped hour) moved forward by less than a few hours.
    assert timedelta(0) <= shift <= timedelta(hours=3)
    if shift:  # only when the time asked for does not exist that day
        assert to_utc(intended, slot.zone).astimezone(slot.zone).replace(tzinfo=None) != intended
