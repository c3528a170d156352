"""No answer shows one team's notes to another, nor a private note outside its conversation.

Hypothesis writes random notes from several teams (two of them workspaces of one Enterprise Grid
org), channels of every kind and several people, then runs random listings, searches and exports
as random people in random places. Every note carries a unique marker word; every answer (its
text, its Block Kit rendering, its data and its files) may contain only the markers of notes that
person may see there. (Searches name the searchable `mk` words; answers are scanned for the `nt`
words, which no query contains, so an echoed query is not mistaken for a note.)
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.context import Context, Services
from bot.reply import Reply, render_text
from bot.router import dispatch
from bot.slack.blocks import render_blocks
from bot.store import open_store

# (team, enterprise): W1 and W2 are workspaces of the org E1, so they share notes as one tenant.
WORKSPACES = [("T1", None), ("T2", None), ("W1", "E1"), ("W2", "E1")]
CHANNELS = {
    "C1": "public",
    "C2": "public",
    "G1": "private",
    "D1": "im",
    "M1": "mpim",
    "L": "console",
}
USERS = ["U1", "U2", "U3"]
CAMPAIGNS = ["spring", "summer"]
MARKER = re.compile(r"nt(\d+)q")


@dataclass(frozen=True)
class Place:
    team: str
    enterprise: str | None
    channel: str
    user: str
    surface: str = "command"  # how the question came: /smx (ephemeral), a mention, the bot's DM

    @property
    def owner(self) -> str:
        return self.enterprise or self.team

    def context(self, services: Services) -> Context:
        return Context(
            team=self.team,
            enterprise=self.enterprise,
            user=self.user,
            channel=self.channel,
            channel_kind=CHANNELS[self.channel],  # type: ignore[arg-type]
            surface=self.surface,
            services=services,
        )


places = st.builds(
    lambda ws, channel, user: Place(ws[0], ws[1], channel, user),
    st.sampled_from(WORKSPACES),
    st.sampled_from(sorted(CHANNELS)),
    st.sampled_from(USERS),
)
# Readers also ask by mentioning the bot (answered in front of the whole conversation), and in
# their DM with the bot or a group DM (`dm` surface).
readers = st.builds(
    lambda place, surface: Place(
        place.team,
        place.enterprise,
        place.channel,
        place.user,
        "dm" if surface == "mention" and CHANNELS[place.channel] in ("im", "mpim") else surface,
    ),
    places,
    st.sampled_from(["command", "mention"]),
)
notes = st.lists(
    st.tuples(
        places,
        st.sampled_from(CAMPAIGNS),
        st.sampled_from(["reel", "story", "reel story", "reel spend=$10 clicks=5 platform=x"]),
    ),
    min_size=1,
    max_size=12,
)
queries = st.one_of(
    st.integers(0, 15).map(lambda i: f"notes search mk{i}x"),  # someone else's marker
    st.sampled_from(["notes search reel", "notes search mk*", 'notes search "mk1x" OR mk2x']),
    st.sampled_from(
        [
            "notes",
            "notes spring",
            "notes page=2",
            "notes since=7d",
            "notes export",
            "notes export summer",
        ]
    ),
)
reads = st.lists(st.tuples(readers, queries), min_size=1, max_size=10)


def may_see(reader: Place, writer: Place, personal: bool) -> bool:
    if reader.owner != writer.owner:
        return False
    if CHANNELS[writer.channel] in ("public", "console") or reader.channel == writer.channel:
        return True
    # Their own private note elsewhere: only in an answer no one else sees.
    return personal and reader.user == writer.user


def everything_shown(reply: Reply) -> str:
    parts = [render_text(reply), json.dumps(render_blocks(reply)), json.dumps(reply.data)]
    return "\n".join(parts + [f.content for f in reply.files])


async def scenario(written: list, asked: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "smx.db"))
        services = Services(settings=None)  # type: ignore[arg-type]
        services.store = store  # what the cached property would open from SMX_DB
        try:
            writers: dict[int, Place] = {}
            for i, (place, campaign, words) in enumerate(written):
                reply = await dispatch(
                    place.context(services), f"note {campaign} {words} mk{i}x nt{i}q"
                )
                assert not reply.is_error, render_text(reply)
                writers[i] = place
            for reader, query in asked:
                ctx = reader.context(services)
                reply = await dispatch(ctx, query)
                # A file goes to the whole conversation; a mention's answer is seen by all there.
                personal = not reply.files and ctx.answer_is_private
                for marker in MARKER.findall(everything_shown(reply)):
                    writer = writers[int(marker)]
                    assert may_see(reader, writer, personal), (
                        f"{query!r} by {reader} showed note {marker} written by {writer}"
                    )
                if "total" in reply.data:  # a listing: its counts and sums must not leak either
                    wanted = "spring" if query == "notes spring" else None
                    expected = sum(
                        may_see(reader, writers[i], ctx.answer_is_private)
                        and (wanted in (None, campaign))
                        for i, (_p, campaign, _w) in enumerate(written)
                    )
                    assert reply.data["total"] == expected
                    assert sum(c["notes"] for c in reply.data["campaigns"]) == expected
        finally:
            await store.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(notes, reads)
def test_no_answer_leaks_a_note_across_teams_or_conversations(written: list, asked: list) -> None:
    asyncio.run(scenario(written, asked))


def test_everyone_sees_what_they_may() -> None:
    """The other half: the filter is not simply hiding everything."""
    author = Place("T1", None, "G1", "U1")
    written = [(author, "spring", "reel"), (Place("T1", None, "C1", "U2"), "spring", "story")]

    async def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(str(Path(tmp) / "smx.db"))
            services = Services(settings=None)  # type: ignore[arg-type]
            services.store = store
            try:
                for i, (place, campaign, words) in enumerate(written):
                    await dispatch(
                        place.context(services), f"note {campaign} {words} mk{i}x nt{i}q"
                    )

                async def markers(place: Place, query: str) -> set[str]:
                    reply = await dispatch(place.context(services), query)
                    return set(MARKER.findall(everything_shown(reply)))

                assert await markers(Place("T1", None, "G1", "U3"), "notes") == {"0", "1"}
                assert await markers(Place("T1", None, "C2", "U1"), "notes") == {"0", "1"}
                assert await markers(Place("T1", None, "C2", "U1"), "notes export") == {"1"}
                assert await markers(Place("T1", None, "C2", "U3"), "notes search mk0x") == set()
                assert await markers(Place("T2", None, "G1", "U1"), "notes") == set()
            finally:
                await store.close()

    asyncio.run(run())
