"""`target`, `targets` and the check after a note or an import (bot/target_commands.py), over a
real store: hand-worked figures, who may see a target, and one crossing per move off track."""

from __future__ import annotations

from pathlib import Path

from bot.context import Context
from bot.imports.log import log_export
from bot.imports.read import read_export
from tests.support.asking import services_over

DATA = Path(__file__).parent / "data" / "imports"


async def test_set_list_and_remove_targets(ask):
    await ask("note spring spend=$300 impressions=30k clicks=360 conversions=15 platform=facebook")
    set_ = await ask("target spring cpa<=25 ctr>=1% spend<=$5k", "command")
    assert not set_.is_error
    assert [t["status"] for t in set_.data["targets"]] == ["on track", "on track", "on track"]
    assert set_.data["targets"][0]["realised"] == 20.0  # $300 / 15
    listed = await ask("targets spring", "command")
    assert listed.data["targets"]["spring"][1]["realised"] == 360 / 30_000
    assert "CTR ≥ 1%: 1.2% realised, on track" in listed.sections[0].text
    assert (await ask("target spring off", "command")).data["removed"] == 3
    assert (await ask("targets", "command")).data["targets"] == {}


async def test_a_target_set_in_a_private_channel_is_seen_only_there(ask):
    await ask("target secret cpa<=20", "command", channel="G1", channel_kind="private")
    assert (await ask("targets", "command", channel="C1")).data["targets"] == {}
    inside = await ask("targets", "command", channel="G1", channel_kind="private")
    assert list(inside.data["targets"]) == ["secret"]


async def test_a_note_that_moves_a_target_off_track_says_so_once(ask):
    await ask("target spring cpa<=20", "command")
    first = await ask("note spring spend=$300 conversions=15", "command")  # CPA $20: on track
    assert "crossed" not in first.data
    second = await ask("note spring spend=$100 conversions=1", "command")  # $400 / 16 = $25
    (crossed,) = second.data["crossed"]
    assert crossed["channel"] == "C1" and crossed["keys"] == ["cpa"]
    assert "CPA ≤ $20 ($25 realised)" in crossed["text"]
    assert any("off track" in n.text for n in second.notices)
    third = await ask("note spring spend=$50 conversions=1", "command")  # still off: no message
    assert "crossed" not in third.data
    back = await ask("note spring spend=$10 conversions=10", "command")  # $460 / 27: on track
    assert "crossed" not in back.data
    again = await ask("note spring spend=$200 conversions=1", "command")  # $660 / 28: off again
    assert [c["keys"] for c in again.data["crossed"]] == [["cpa"]]


async def test_an_import_that_moves_a_target_off_track_says_so_once(store, ask):
    await ask("target black-friday-push cpa<=15", "console")
    ctx = Context(
        team="T1", user="U1", channel="C1", channel_kind="console", surface="ask",
        services=services_over(store),
    )  # fmt: skip
    export = read_export((DATA / "meta_ads_manager.csv").read_bytes(), "meta.csv")
    done = await log_export(ctx, export, "meta.csv")  # black-friday-push: $1,240 / 62 = $20
    assert [c["campaign"] for c in done.data["crossed"]] == ["black-friday-push"]
    again = await log_export(ctx, export, "meta.csv")  # nothing new logged: nothing moves
    assert "crossed" not in again.data and again.data["imported"] == 0


async def test_a_crossing_elsewhere_in_private_is_not_told_here(ask):
    await ask("target spring cpa<=20", "command", channel="G1", channel_kind="private")
    # A team-wide note moves the private channel's target: said there, with its figure.
    public = await ask("note spring spend=$300 conversions=10", "command", channel="C1")
    (crossed,) = public.data["crossed"]
    assert crossed["channel"] == "G1" and "$30 realised" in crossed["text"]
    # Here, in the public channel, nothing: not the figure, not even that the target exists.
    assert not [n for n in public.notices if "off track" in n.text or "target" in n.text]


async def test_another_conversations_private_target_is_neither_removed_nor_replaced(ask):
    await ask("target spring cpa<=20", "command", channel="G1", channel_kind="private")
    off = await ask("target spring off", "command", channel="C1")
    assert "no targets here" in off.intro
    await ask("target spring cpa<=50", "command", channel="C1")
    inside = await ask("targets spring", "command", channel="G1", channel_kind="private")
    values = [t["value"] for t in inside.data["targets"]["spring"]]
    assert sorted(values) == [20.0, 50.0]  # its own, and the team's
    outside = await ask("targets spring", "command", channel="C2")
    assert [t["value"] for t in outside.data["targets"]["spring"]] == [50.0]


async def test_a_team_target_reset_from_another_channel_replaces_it(ask):
    await ask("target spring cpa<=20", "command", channel="C1")
    await ask("target spring cpa<=30", "command", channel="C2")
    listed = await ask("targets spring", "command", channel="C3")
    assert [t["value"] for t in listed.data["targets"]["spring"]] == [30.0]


async def test_notes_of_a_campaign_show_its_targets(ask):
    await ask("note spring spend=$300 conversions=10", "command")
    await ask("target spring cpa<=20 spend<=$5k", "command")
    listed = await ask("notes spring", "command")
    headings = [s.heading for s in listed.sections]
    assert "Targets: 1 off track" in headings
    section = listed.sections[headings.index("Targets: 1 off track")]
    assert "CPA ≤ $20: $30 realised, off track" in section.text
    assert [t["status"] for t in listed.data["targets"]] == ["off track", "on track"]
    # Another campaign's listing, and the listing of every campaign, show none.
    assert "targets" not in (await ask("notes", "command")).data


async def test_an_edit_that_moves_a_target_off_track_says_so(ask):
    logged = await ask("note spring spend=$100 conversions=10", "command")  # $10
    await ask("target spring cpa<=20", "command")
    edited = await ask(f"note edit {logged.data['id']} spend=$400 conversions=10", "command")
    assert [c["keys"] for c in edited.data["crossed"]] == [["cpa"]]


async def test_targets_of_two_campaigns_at_once_gets_a_sentence(ask):
    reply = await ask("targets spring summer", "command")
    assert reply.is_error and "`targets` takes one campaign at most" in reply.intro
