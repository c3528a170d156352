"""Search keyed by team (schema v7, and v8 for SQLite's index) on every backend: a database at v6
or v7 full of notes upgrades and finds them; among many teams whose notes all hold the same words,
a search answers with the viewer's readable notes only, the best first (ties: newest id first),
whichever way the backend reads them (an exact word, a prefix, a word nearly every note holds);
and how often other teams use a word does not move a team's order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.store import LATEST, Viewer
from tests.support.contract import note

TEAMS = [f"T{i}" for i in range(1, 9)]
OLD = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def spread(team: str) -> list[dict]:
    """Ten notes of `team`, every one with "reel": team-wide ones in C1 and C2, private ones in
    G1 and G2, by U1 and U2, some with the word twice (a better match)."""
    out = []
    for i in range(10):
        private = i % 3 == 2
        out.append(
            dict(
                team=team,
                workspace=team,
                channel=("G" if private else "C") + str(1 + i % 2),
                channel_kind="private" if private else "public",
                author=f"U{1 + i % 4 // 2}",
                campaign="spring-launch",
                text=f"reel {'reel saves ' if i % 4 == 0 else ''}story number {i} of {team}",
            )
        )
    return out


def readable(row: dict, viewer: Viewer) -> bool:
    if row["team"] != viewer.team:
        return False
    if viewer.confined:
        return row["channel"] == viewer.channel
    return (
        row["channel_kind"] == "public"
        or row["channel"] == viewer.channel
        or (viewer.user is not None and row["author"] == viewer.user)
    )


VIEWERS = [
    Viewer("T3", "C1", "U1"),  # an answer only U1 sees: their own private notes too
    Viewer("T3", "G1"),  # the private channel G1: its notes and the team-wide ones
    Viewer("T5", "C2"),  # everyone in C2: team-wide notes only
    Viewer("T7", "G2", confined=True),  # a Slack Connect channel: its own notes only
]


@pytest.fixture
async def many_teams(store):
    written: dict[int, dict] = {}
    for team in TEAMS:
        for row in spread(team):
            written[await store.add_note(note(**row))] = row
    return store, written


@pytest.mark.parametrize(
    "viewer", VIEWERS, ids=["own-answer", "private-channel", "public", "confined"]
)
@pytest.mark.parametrize("typed", ["reel", "ree*", "reel story", "rEEl*  STORY"])
async def test_a_word_in_every_team_finds_only_the_viewers_notes(
    many_teams, viewer: Viewer, typed: str
) -> None:
    store, written = many_teams
    mine = {i for i, row in written.items() if readable(row, viewer)}
    found = [n.id for n in await store.search_notes(viewer, typed, limit=20)]
    assert set(found) == mine  # every readable one, none of another team or conversation
    assert len(found) == len(set(found))


@pytest.mark.parametrize(
    "viewer", VIEWERS, ids=["own-answer", "private-channel", "public", "confined"]
)
async def test_the_best_match_comes_first_and_ties_newest_first(many_teams, viewer) -> None:
    store, written = many_teams
    found = [n.id for n in await store.search_notes(viewer, "reel", limit=20)]
    twice = [i for i in found if "reel reel" in written[i]["text"]]
    once = [i for i in found if i not in twice]
    # The notes with the word twice rank above those with it once (both backends' ranking
    # favours it at these lengths); within each, the newest id first.
    assert found == sorted(twice, reverse=True) + sorted(once, reverse=True)


async def test_a_limit_below_the_matches_keeps_the_best_of_the_viewers_own(many_teams) -> None:
    store, written = many_teams
    viewer = VIEWERS[0]
    every = [n.id for n in await store.search_notes(viewer, "reel", limit=20)]
    for limit in (1, 3, 5):
        assert [n.id for n in await store.search_notes(viewer, "reel", limit=limit)] == every[
            :limit
        ]
        assert [n.id for n in await store.search_notes(viewer, "ree*", limit=limit)] == (
            [n.id for n in await store.search_notes(viewer, "ree*", limit=20)][:limit]
        )


async def test_other_teams_notes_do_not_change_a_teams_answer(store) -> None:
    viewer = Viewer("T1", "C1", "U1")
    for row in spread("T1"):
        await store.add_note(note(**row))
    before = {typed: await store.search_notes(viewer, typed) for typed in ("reel", "ree*", "saves")}
    for team in TEAMS[1:]:
        for row in spread(team):
            await store.add_note(note(**row))
    for typed, found in before.items():
        assert await store.search_notes(viewer, typed) == found, typed


async def test_how_often_other_teams_use_a_word_does_not_move_a_teams_order(store) -> None:
    """A team's order is ranked by its own notes: "story" is rarer than "reel" in T1's notes, so
    the note with "story" twice comes first, whether T2's notes are full of "story" or of "reel"
    (the same number of notes, of the same length, either way). Ranked over every team's notes,
    as SQLite did before v8, T2's words decided T1's order: a side channel."""
    viewer = Viewer("T1", "C1", "U1")
    reel_first = await store.add_note(note("reel reel story"))
    story_first = await store.add_note(note("reel story story"))
    await store.add_note(note("reel alone"))
    orders = []
    for word in ("story", "reel"):
        for i in range(40):
            await store.add_note(note(f"{word} filler {i}", team="T2", workspace="T2"))
        found = [n.id for n in await store.search_notes(viewer, "reel story")]
        orders.append(found)
        await store.purge_team("T2")
    assert orders[0] == orders[1] == [story_first, reel_first]


@pytest.mark.empty_database
@pytest.mark.parametrize("version", [6, 7], ids=["from-v6", "from-v7"])
async def test_an_older_database_full_of_notes_upgrades_and_its_notes_are_found(
    backend, version: int
) -> None:
    """Schema v7 (and SQLite's v8) are built over the notes already there (an index made from
    the table, not filled by new writes only): each team finds its own, old and new alike."""
    seeder = backend.older(version)
    rows = [row for team in TEAMS for row in spread(team)]
    try:
        for i, row in enumerate(rows):
            seeder.insert("notes", **row, created_at=OLD + timedelta(minutes=i), metrics={})
    finally:
        seeder.close()
    assert backend.applied_versions() == list(range(1, version + 1))

    store = await backend.open()
    assert await store.schema_version() == LATEST
    assert backend.applied_versions() == list(range(1, LATEST + 1))
    new = await store.add_note(note("a new reel story", team="T3", workspace="T3"))
    for viewer in VIEWERS:
        found = await store.search_notes(viewer, "reel", limit=20)
        expected = {f"{row['text']}" for row in rows if readable(row, viewer)} | (
            {"a new reel story"} if readable(note_row("T3"), viewer) else set()
        )
        assert {n.text for n in found} == expected
        assert all(n.team == viewer.team for n in found)
        assert {n.text for n in await store.search_notes(viewer, "stor*", limit=20)} == expected
    assert new in [n.id for n in await store.search_notes(VIEWERS[0], "new")]
    # Opening it again finds nothing left to do.
    assert store.migrate() == LATEST
    assert backend.applied_versions() == list(range(1, LATEST + 1))


def note_row(team: str) -> dict:
    return dict(team=team, channel="C1", channel_kind="public", author="U1")
