"""No answer shows one team's notes to another, nor a private note outside its conversation.

Hypothesis writes random notes from several teams (two of them workspaces of one Enterprise Grid
org), channels of every kind and several people, then runs random listings, searches and exports
as random people in random places, through a slash command, a mention, or the share button (whose
answer the whole channel reads), and posts random digests of other conversations. Every note
carries a unique marker word; every answer (its text, its Block Kit rendering, its data and its
files) may contain only the markers of notes that person may see there, and a digest only those
its channel may see. (Searches name the searchable `mk` words; answers are scanned for the `nt`
words, which no query contains, so an echoed query is not mistaken for a note.)

The last-step check (bot/slack/answer.py) is held to the same oracle: every note an answer shows
is among its sources, every source is one its reader may see, and the check lets every such
answer through, so the Python rule (`may_read`) and the store's SQL agree.

CI runs a fixed, derandomized set of examples; `SMX_FUZZ_EXAMPLES=5000` runs that many, random.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from hypothesis import given
from hypothesis import strategies as st

from bot.context import ChannelKind, Context, Named, Services
from bot.digest import commands as digest_commands
from bot.digest.delivery import Delivery
from bot.reply import Reply, render_text
from bot.router import dispatch
from bot.slack.answer import audience, cleared
from bot.slack.blocks import render_blocks
from bot.slack.channels import Facts
from bot.slack.listeners.actions import _reads_only, share_context
from bot.store import Audience
from tests.support.asking import services_over
from tests.support.hostile import fuzz_settings

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
        if self.surface == "share":  # as the share button's listener builds it
            body = {
                "team": {"id": self.team},
                "enterprise": {"id": self.enterprise} if self.enterprise else None,
                "user": {"id": self.user, "team_id": self.team},
                "channel": {"id": self.channel},
            }
            facts = Facts(CHANNELS[self.channel], False)  # type: ignore[arg-type]
            return share_context(body, services, facts)
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
# Readers also ask by mentioning the bot (answered in front of the whole conversation), in their
# DM with the bot or a group DM (`dm` surface), and with the share button (`share`: the whole
# channel reads it, whatever the button's value says).
readers = st.builds(
    lambda place, surface: Place(
        place.team,
        place.enterprise,
        place.channel,
        place.user,
        "dm" if surface == "mention" and CHANNELS[place.channel] in ("im", "mpim") else surface,
    ),
    places,
    st.sampled_from(["command", "mention", "share"]),
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
# `digest now <#target>` typed in another place, by a member of the target or not, an admin or not.
digests = st.lists(
    st.tuples(places, st.sampled_from(sorted(CHANNELS)), st.booleans(), st.booleans()),
    max_size=4,
)


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


def assert_sources_true(
    reply: Reply, shown: set[str], writers: dict[int, Place], ids: dict[int, int], may
) -> None:
    """Every note the answer shows is among its sources (by id, or by the place and author of
    notes it only counts or exports), and every source is one the reader may see (`may(place)`):
    the provenance the last-step check relies on tells the truth."""
    listed = {s.note for s in reply.sources if s.note is not None}
    places = {(s.team, s.channel, s.author) for s in reply.sources}
    for marker in shown:
        writer = writers[int(marker)]
        assert ids[int(marker)] in listed or (writer.owner, writer.channel, writer.user) in places
    for source in reply.sources:
        assert source.channel_kind == CHANNELS[source.channel], source
        assert may(Place(source.team, None, source.channel, source.author)), source


async def scenario(store, written: list, asked: list, posted: list | None = None) -> None:
    """One example on `store`, an empty database."""
    services = services_over(store)  # instead of opening SMX_DB
    writers: dict[int, Place] = {}
    ids: dict[int, int] = {}
    for i, (place, campaign, words) in enumerate(written):
        reply = await dispatch(place.context(services), f"note {campaign} {words} mk{i}x nt{i}q")
        assert not reply.is_error, render_text(reply)
        writers[i] = place
        ids[i] = reply.data["id"]
    for reader, query in asked:
        if reader.surface == "share" and not _reads_only(query):
            continue  # the button refuses it (tests/test_privacy_posting.py)
        ctx = reader.context(services)
        reply = await dispatch(ctx, query)
        # A file goes to the whole conversation; a mention's answer is seen by all there,
        # and so is what the share button posts, whatever its context says.
        personal = not reply.files and ctx.answer_is_private and reader.surface != "share"
        shown = set(MARKER.findall(everything_shown(reply)))
        for marker in shown:
            writer = writers[int(marker)]
            assert may_see(reader, writer, personal), (
                f"{query!r} by {reader} showed note {marker} written by {writer}"
            )
        assert_sources_true(
            reply, shown, writers, ids, lambda w, r=reader, p=personal: may_see(r, w, p)
        )
        # The last step lets a rightful answer through: may_read agrees with the SQL.
        assert cleared(reply, audience(ctx, private=personal), path="test") is reply
        if "total" in reply.data:  # a listing: its counts and sums must not leak either
            wanted = "spring" if query == "notes spring" else None
            expected = sum(
                may_see(reader, writers[i], personal) and (wanted in (None, campaign))
                for i, (_p, campaign, _w) in enumerate(written)
            )
            assert reply.data["total"] == expected
            assert sum(c["notes"] for c in reply.data["campaigns"]) == expected
    for asker, target, member, admin in posted or []:
        await digest_elsewhere(services, writers, ids, asker, target, member, admin)


async def digest_elsewhere(
    services: Services,
    writers: dict[int, Place],
    ids: dict[int, int],
    asker: Place,
    target: str,
    member: bool,
    admin: bool,
) -> None:
    """`digest on` then `digest now` of `target` typed in the asker's place: refused to anyone
    neither in it nor an admin; when posted, the digest holds only what the whole target channel
    may see, and the answer to the asker counts nothing of another conversation."""
    ctx = asker.context(services)
    ctx.is_admin = admin
    kind: ChannelKind = CHANNELS[target]  # type: ignore[assignment]
    ctx.named[target] = Named(kind=kind, shared_externally=False, member=member)
    sent: list[Reply] = []

    async def post(channel: str, reply: Reply) -> Delivery:
        assert channel == target
        sent.append(reply)
        return Delivery("posted", ts="1.1", messages=1)

    ref = f"<#{target}>"
    before = await services.store.get_subscription(asker.owner, target)
    await dispatch(ctx, f"digest on {ref} empty=yes")
    answer = await digest_commands.post_now(ctx, [ref], post)
    if not (member or admin or target == asker.channel):
        assert answer.is_error and not sent
        assert await services.store.get_subscription(asker.owner, target) == before
    channel_place = replace(asker, channel=target)
    for digest in sent:
        for marker in MARKER.findall(everything_shown(digest)):
            writer = writers[int(marker)]
            assert may_see(channel_place, writer, personal=False), (
                f"the digest of {target} posted from {asker} showed note {marker} by {writer}"
            )
        whole_channel = Audience(asker.owner, target, CHANNELS[target])  # type: ignore[arg-type]
        assert cleared(digest, whole_channel, path="test") is digest
    assert not MARKER.findall(everything_shown(answer))
    if target != asker.channel:
        assert not answer.sources  # nothing of the other conversation, not even a count
        assert not re.search(r"\d+ notes?\b", answer.intro or ""), answer.intro
    assert cleared(answer, audience(ctx, private=True), path="test") is answer


@fuzz_settings(150)
@given(written=notes, asked=reads, posted=digests)
async def test_no_answer_leaks_a_note_across_teams_or_conversations(
    backend, written: list, asked: list, posted: list
) -> None:
    # Each example on an empty database: a new SQLite file, the PostgreSQL one emptied.
    await scenario(await backend.open_empty(), written, asked, posted)


async def test_everyone_sees_what_they_may(store) -> None:
    """The other half: the filter is not simply hiding everything."""
    author = Place("T1", None, "G1", "U1")
    written = [(author, "spring", "reel"), (Place("T1", None, "C1", "U2"), "spring", "story")]
    services = services_over(store)
    for i, (place, campaign, words) in enumerate(written):
        await dispatch(place.context(services), f"note {campaign} {words} mk{i}x nt{i}q")

    async def markers(place: Place, query: str) -> set[str]:
        reply = await dispatch(place.context(services), query)
        return set(MARKER.findall(everything_shown(reply)))

    assert await markers(Place("T1", None, "G1", "U3"), "notes") == {"0", "1"}
    assert await markers(Place("T1", None, "C2", "U1"), "notes") == {"0", "1"}
    assert await markers(Place("T1", None, "C2", "U1"), "notes export") == {"1"}
    assert await markers(Place("T1", None, "C2", "U3"), "notes search mk0x") == set()
    assert await markers(Place("T2", None, "G1", "U1"), "notes") == set()
