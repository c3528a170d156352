"""Weekly slots in a channel's own time zone, as UTC instants.

Every instant is computed from the local wall-clock slot ("Monday 09:00 in Europe/Berlin") for
one local date, never as "the last run plus seven days", so a schedule cannot drift and keeps its
local hour across daylight-saving changes (reference/digests.md: "Wrong hour"). Two rules settle
the hours a change makes odd:

- a local time that does not exist (the hour skipped in spring) moves forward by the gap:
  02:30 on the day clocks jump from 02:00 to 03:00 is posted at 03:30;
- a local time that exists twice (the hour repeated in autumn) is the first of the two.

A week is named by the ISO week of the slot's local date ("2025-W48"); each ISO week holds exactly
one date of a given weekday, so (team, channel, week) names one digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEK = timedelta(days=7)


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class Slot:
    """A weekly wall-clock time: weekday 0 is Monday."""

    weekday: int
    hour: int
    minute: int
    tz: str

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.tz)

    @property
    def at(self) -> time:
        return time(self.hour, self.minute)

    def on(self, day: date) -> datetime:
        """The UTC instant of this slot on local date `day` (which must be its weekday)."""
        return to_utc(datetime.combine(day, self.at), self.zone)

    def next_after(self, moment: datetime) -> datetime:
        """The first slot strictly after `moment`."""
        local_day = moment.astimezone(self.zone).date()
        day = local_day + timedelta(days=(self.weekday - local_day.weekday()) % 7)
        # The local date of `moment` may already be past the slot, or its UTC instant may be
        # before the candidate's local date begins; at most two steps settle it.
        while (found := self.on(day)) <= moment:
            day += WEEK
        while (earlier := self.on(day - WEEK)) > moment:
            day, found = day - WEEK, earlier
        return found

    def latest_at_or_before(self, moment: datetime) -> datetime:
        """The last slot at or before `moment` (the one a tick at `moment` owes)."""
        following = self.next_after(moment)
        return self.on(self.local_date(following) - WEEK)

    def previous(self, slot: datetime) -> datetime:
        """The slot a week before `slot`, by the calendar (it may be 167 or 169 hours earlier)."""
        return self.on(self.local_date(slot) - WEEK)

    def local_date(self, slot: datetime) -> date:
        """The local date a slot instant belongs to (a slot shifted past midnight by a gap keeps
        the date it was scheduled for)."""
        day = slot.astimezone(self.zone).date()
        return day if day.weekday() == self.weekday else day - timedelta(days=1)

    def week(self, slot: datetime) -> str:
        year, week, _ = self.local_date(slot).isocalendar()
        return f"{year}-W{week:02d}"

    def describe(self) -> str:
        """ "every Monday at 09:00 Europe/Berlin"."""
        return f"every {DAYS[self.weekday].title()} at {self.hour:02d}:{self.minute:02d} {self.tz}"


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive local wall-clock time in `tz` as a UTC instant, with the rules above.

    fold=0 does both: in a repeated hour it is the first occurrence, and in a skipped hour it is
    read with the offset in force before the change, which lands the same distance after it.
    """
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def local_text(moment: datetime, tz: str) -> str:
    """ "Mon 30 Nov 09:00 Europe/Berlin": what `digest status` and the digest itself say."""
    local = moment.astimezone(zone(tz))
    return f"{local:%a} {local.day} {local:%b %H:%M} {tz}"


def local_day_text(moment: datetime, tz: str) -> str:
    local = moment.astimezone(zone(tz))
    return f"{local:%a} {local.day} {local:%b}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def week_before(moment: datetime, tz: str) -> datetime:
    """The same local wall-clock time seven calendar days earlier: a digest's window start."""
    local = moment.astimezone(zone(tz)).replace(tzinfo=None)
    return to_utc(local - WEEK, zone(tz))
