"""Notes that hold up (issue 15): dated notes, each note's own realised figures, campaign names
that are not split by a typo, quotes or an underscore, and comparisons that say "in line with"
and name the campaign type a published figure comes from."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.notes.realised import _verdict
from knowledge import Benchmark


async def test_a_date_on_a_note_dates_it(ask):
    logged = await ask("note launch went live spend=$40 date=2026-11-20")
    listed = await ask("notes launch")
    (note,) = listed.data["notes"]
    assert note["created_at"] == datetime(2026, 11, 20, 12, tzinfo=UTC).isoformat()
    assert note["text"] == "went live spend=$40"  # the date token is not part of the text
    assert logged.data["id"] == note["id"]


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("note launch x date=2099-01-01", "is in the future"),
        ("note launch x date=20-11-2026", "is not a date: write it as YEAR-MONTH-DAY"),
        ("note launch x date=2026-11-01 date=2026-11-02", "`date` appears twice"),
    ],
)
async def test_a_bad_date_gets_a_sentence_and_logs_nothing(ask, line, said):
    reply = await ask(line)
    assert reply.is_error and said in reply.intro
    assert (await ask("notes")).data["total"] == 0


async def test_every_note_shows_its_own_realised_figures(ask):
    await ask("note launch reel spend=$412.50 impressions=51250 clicks=615 conversions=25")
    listed = await ask("notes launch")
    realised = listed.data["notes"][0]["realised"]
    assert realised == pytest.approx(
        {"cpm": 412.5 / 51.25, "cpc": 412.5 / 615, "ctr": 615 / 51250, "cpa": 412.5 / 25}
    )
    text = listed.sections[-1].text
    assert "$412.50 · 51,250 impr. · 615 clicks · 25 conv. — CPM $8.05 · CPC $0.671" in text
    assert "CTR 1.2% · CPA $16.50" in text


async def test_a_quoted_campaign_files_under_its_slug_not_its_first_word(ask):
    reply = await ask('note "spring launch" Reel got 3x saves')
    assert reply.data["campaign"] == "spring-launch"
    assert (await ask("notes spring-launch")).data["total"] == 1
    spring = await ask("notes spring")  # nothing filed under the first word alone
    assert "total" not in spring.data and spring.data["suggestions"] == ["spring-launch"]


async def test_an_underscore_beside_an_existing_hyphen_is_asked_about(ask):
    await ask("note spring-launch first")
    reply = await ask("note spring_launch second")
    assert reply.is_error and "Did you mean `note spring-launch ...`?" in reply.intro
    assert reply.data["suggestions"] == ["spring-launch"]
    assert (await ask("notes")).data["total"] == 1
    assert not (await ask("note other_thing fine")).is_error  # no such hyphened campaign


async def test_a_misspelt_campaign_is_suggested(ask):
    await ask("note spring-launch first")
    reply = await ask("notes spring-lanch")
    assert "Did you mean `spring-launch`?" in reply.intro
    assert reply.data["suggestions"] == ["spring-launch"]
    assert "No notes for `zzz` yet" in (await ask("notes zzz")).intro


def _published(low, high, objective=None):
    return Benchmark.model_construct(
        platform="facebook", metric="cpa", low=low, typical=low, high=high, currency="USD",
        sources=[], objective=objective, confidence="low", method="",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("value", "verdict"),
    [(20.0, "in line with"), (21.0, "in line with"), (18.9, "under"), (21.1, "over")],
)
def test_within_five_percent_of_one_published_figure_is_in_line_with_it(value, verdict):
    assert _verdict(value, _published(20.0, 20.0)) == verdict


async def test_facebooks_lead_ad_cpa_carries_its_caveat_where_compared(ask):
    from knowledge import benchmarks_for

    cpa = benchmarks_for("facebook")["cpa"]
    assert cpa.objective == "lead ads"
    await ask("note fb spend=$200 conversions=10 platform=facebook")
    listed = await ask("notes fb")
    line = next(s.text for s in listed.sections if "CPA" in s.text)
    assert "lead ads campaigns only" in line


async def test_note_edit_by_its_author_and_not_by_another(ask):
    logged = await ask("note launch reel got 3x saves spend=$40", user="U1")
    note_id = logged.data["id"]
    refused = await ask(f"note edit {note_id} someone else's words", user="U2")
    assert refused.is_error and "Only its author or a workspace admin" in refused.intro
    done = await ask(f"note edit {note_id} carousel did better spend=$55 clicks=70", user="U1")
    assert done.data == {"edited": note_id, "metrics": {"spend": 55.0, "clicks": 70.0}}
    (listed,) = (await ask("notes launch")).data["notes"]
    assert listed["text"] == "carousel did better spend=$55 clicks=70" and listed["spend"] == 55
    missing = await ask("note edit 999 x")
    assert missing.is_error and "There is no note #999" in missing.intro


async def test_mixed_currencies_never_drop_figures(ask):
    for _ in range(3):
        await ask("note mix a spend=$250 impressions=30k conversions=10")
    await ask("note mix b spend=€300 impressions=20k conversions=5")
    listed = await ask("notes mix")
    text = listed.sections[0].text
    assert "spend $750 + €300" in text
    assert "CPM $8.33 · €15, each currency on its own" in text  # $750/90k, €300/20k
    assert "CPA $25 · €60, each currency on its own" in text


async def test_the_author_edits_and_deletes_through_a_mention(ask):
    logged = await ask("note launch first words", "mention", user="U1")
    note_id = logged.data["id"]
    assert not (await ask(f"note edit {note_id} better words", "mention", user="U1")).is_error
    assert (await ask(f"note delete {note_id}", "mention", user="U2")).is_error
    assert not (await ask(f"note delete {note_id}", "mention", user="U1")).is_error
