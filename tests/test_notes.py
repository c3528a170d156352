"""The notes commands through the router: logging, validation, listings, search, export, delete,
realised costs against benchmarks, and mentions that never ping."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.context import Context, Services
from bot.notes.render import ZWSP, defuse
from bot.reply import render_text
from bot.router import dispatch
from bot.slack.blocks import render_blocks
from bot.store import NewNote, open_store
from tests.support.asking import services_over
from tests.support.blockkit import assert_message_ok

MENTIONS = "<!channel> launch is live, thanks <@U123|jane> and <!subteam^S1|@design>! @here"
DEFUSED = f"@{ZWSP}channel launch is live, thanks @{ZWSP}jane and @{ZWSP}design! @{ZWSP}here"


@pytest.fixture
def ask_where() -> dict:
    """`ask` (tests/conftest.py) logs and asks from the console in public C1, unless told."""
    return {"channel_kind": "public"}


# -- defusing mentions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("<!channel>", f"@{ZWSP}channel"),
        ("<!here> and <!everyone>", f"@{ZWSP}here and @{ZWSP}everyone"),
        ("<!here|here>", f"@{ZWSP}here"),
        ("<@U123>", f"@{ZWSP}U123"),
        ("<@U123|jane>", f"@{ZWSP}jane"),
        ("<!subteam^S1|@team>", f"@{ZWSP}team"),
        ("<!subteam^S1>", f"@{ZWSP}S1"),
        ("@channel @Here @everyone", f"@{ZWSP}channel @{ZWSP}Here @{ZWSP}everyone"),
        ("ping @design-team", f"ping @{ZWSP}design-team"),
        ("mail jane@example.com", "mail jane@example.com"),
        ("<!date^1|today> <!foo>", f"<{ZWSP}!date^1|today> <{ZWSP}!foo>"),
        ("<<!here>>", f"@{ZWSP}{ZWSP}here"),
        ("a < b & c > d", "a < b & c > d"),
        (MENTIONS, DEFUSED),
    ],
)
def test_defuse_exact_output(text: str, shown: str) -> None:
    assert defuse(text) == shown


PIECES = ["<", ">", "!", "@", "|", "^", "channel", "here", "everyone", "subteam", "U1", " ", "x"]


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_defused_text_has_no_mention_left(text: str) -> None:
    shown = defuse(text)
    assert defuse(shown) == shown
    assert "<!" not in shown and "<@" not in shown
    assert not re.search(r"@(channel|here|everyone)\b", shown, re.IGNORECASE)
    assert not re.search(r"(?<!\w)@\w", shown)


# -- note CAMPAIGN TEXT -------------------------------------------------------------------------


async def test_note_answers_with_its_id_and_says_who_sees_it(ask) -> None:
    first = await ask("note spring-launch Reel got 3x saves")
    assert not first.is_error
    assert first.data["id"] == 1 and first.data["campaign"] == "spring-launch"
    assert render_text(first).startswith(
        "Logged note #1 for `spring-launch`. Everyone in the team can see it."
    )
    dm = await ask("note Spring-Launch: idea for next week", channel="D1", channel_kind="im")
    assert dm.data == {"id": 2, "campaign": "spring-launch", "metrics": {}, "currency": None}
    assert "Only this DM and you can see it." in render_text(dm)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "note",
            "Say which campaign and what happened, e.g. "
            "`note spring-launch Reel got 3x saves spend=$400 clicks=1.2k`.",
        ),
        (
            "note spring-launch",
            "Write the note after the campaign name, e.g. "
            "`note spring-launch Reel got 3x saves spend=$400 clicks=1.2k`.",
        ),
        (
            "note <!here> hello",
            f"`@{ZWSP}here` is not a campaign name. Use a short slug: letters, digits and "
            "hyphens, up to 40 characters, e.g. `spring-launch`.",
        ),
        (
            "note " + "a" * 41 + " hello",
            f"`{'a' * 41}` is not a campaign name. Use a short slug: letters, digits and "
            "hyphens, up to 40 characters, e.g. `spring-launch`.",
        ),
        (
            "note spring " + "x" * 4001,
            "A note is at most 4,000 characters and this one has 4,001. Split it into two notes.",
        ),
        (
            "note spring hi platform=instagarm",
            "`platform=instagarm` is not a platform I know. Did you mean `platform=instagram`? "
            "Use one of: facebook, instagram, linkedin, tiktok, x, youtube; pinterest is known too "
            "but has no published figures.",
        ),
        (
            "note spring hi platform=ig platform=x",
            "`platform` appears twice in this note; give it once.",
        ),
    ],
)
async def test_bad_notes_get_a_sentence_saying_what_to_type(ask, text: str, message: str) -> None:
    reply = await ask(text)
    assert reply.is_error
    assert reply.intro == message


async def test_a_note_of_exactly_4000_characters_is_fine(ask, store) -> None:
    reply = await ask("note spring " + "x" * 4000)
    assert not reply.is_error
    assert (await store.get_note(_viewer(), reply.data["id"])).text == "x" * 4000


# -- notes [CAMPAIGN] [page=N] ------------------------------------------------------------------


def _viewer():
    from bot.store import Viewer

    return Viewer("T1", "C1", "U1")


async def _seed(store, count: int, **fields: object) -> list[int]:
    base = datetime(2025, 3, 1, 9, tzinfo=UTC)
    ids = []
    for i in range(count):
        values: dict[str, object] = dict(
            team="T1", workspace="T1", channel="C1", channel_kind="public", author="U1",
            campaign="spring", text=f"note number {i}", created_at=base + timedelta(hours=i),
        )  # fmt: skip
        values.update(fields)
        ids.append(await store.add_note(NewNote(**values)))  # type: ignore[arg-type]
    return ids


async def test_listing_is_newest_first_and_paged(ask, store) -> None:
    ids = await _seed(store, 23)
    first = await ask("notes")
    assert [n["id"] for n in first.data["notes"]] == ids[::-1][:10]
    assert (first.data["total"], first.data["page"], first.data["pages"]) == (23, 1, 3)
    text = render_text(first)
    assert "23 notes, newest first." in text
    assert "#23 · spring · 2025-03-02 07:00 UTC" in text
    assert "Page 1 of 3. Next: `page=2`." in text
    last = await ask("notes spring page=3")
    assert [n["id"] for n in last.data["notes"]] == ids[2::-1]
    beyond = await ask("notes page=4")
    assert beyond.is_error
    assert beyond.intro == (
        "There is no page 4: the 23 notes are on 3 pages; try `page=1` to `page=3`."
    )
    campaign = await ask("notes spring page=9")
    assert campaign.intro == (
        "There is no page 9: the 23 notes for `spring` are on 3 pages; try `page=1` to `page=3`."
    )


@pytest.mark.parametrize("typed", ["0", "²", "9" * 30, "-1", "two"])
async def test_a_page_that_is_no_page_number_says_which_pages_there_are(ask, store, typed):
    await _seed(store, 12)
    reply = await ask(f"notes page={typed}")
    assert reply.is_error
    assert reply.intro == (
        f"`page={typed}` is not a page number: pages count from 1, and the 12 notes are on 2 "
        "pages; try `page=1` to `page=2`."
    )


async def test_one_page_is_named_alone(ask, store):
    await _seed(store, 1)
    reply = await ask("notes page=3")
    assert reply.intro == "There is no page 3: the 1 note is on 1 page; try `page=1`."


async def test_listing_shows_times_in_the_users_zone(store, ask) -> None:
    await _seed(store, 1)
    reply = await ask("notes", user_tz="Europe/Paris")
    assert "#1 · spring · 2025-03-01 10:00 CET" in render_text(reply)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "notes page=0",
            "`page=0` is not a page number, and there are no notes yet: log one with "
            "`note CAMPAIGN TEXT`.",
        ),
        (
            "note delete " + "9" * 30,
            f"Give the number of one note, not `{'9' * 30}`, e.g. `note delete 12`. "
            "`notes` shows the numbers.",
        ),
        (
            "notes spring summer",
            "`notes` takes one campaign, not `spring` and `summer`. "
            "To find words in notes, use `notes search WORDS`.",
        ),
        (
            "notes colour=red",
            "`colour=red` is not an option of `notes`. Use `notes [CAMPAIGN] [since=7d] "
            "[page=2]`, e.g. `notes spring-launch since=30d`.",
        ),
        ("notes search", "Say what to look for, e.g. `notes search reel saves`."),
        (
            "notes export a b",
            "Export takes at most one campaign, e.g. `notes export spring-launch`.",
        ),
        (
            "note delete",
            "Give the number of one note, e.g. `note delete 12`. `notes` shows the numbers.",
        ),
        (
            "note delete twelve",
            "Give the number of one note, not `twelve`, e.g. `note delete 12`. `notes` shows the "
            "numbers.",
        ),
    ],
)
async def test_bad_options_get_a_sentence(ask, text: str, message: str) -> None:
    reply = await ask(text)
    assert reply.is_error
    assert reply.intro == message


async def test_empty_listing_says_how_to_log_one(ask) -> None:
    reply = await ask("notes spring")
    assert not reply.is_error
    assert reply.intro == "No notes for `spring` yet. Log one with `note CAMPAIGN TEXT`."


async def test_long_notes_are_clipped_in_listings_but_whole_in_exports(ask, store) -> None:
    await ask("note spring " + "word " * 700)
    listing = (await ask("notes")).sections[-1].text
    assert len(listing.split("\n")[0]) == 500 and listing.split("\n")[0].endswith("…")
    exported = (await ask("notes export")).files[0].content
    assert ("word " * 700).strip() in exported


# -- mentions stay harmless everywhere a note is shown ------------------------------------------


async def test_mentions_are_shown_harmlessly_in_listing_search_and_export(ask) -> None:
    await ask(f"note spring {MENTIONS}")
    listing, found, exported = (
        await ask("notes"),
        await ask("notes search launch"),
        await ask("notes export"),
    )
    for reply in (listing, found):
        assert reply.sections[-1].text == f"{DEFUSED}\n_by U1 · team-wide_"
        assert reply.data["notes"][0]["text"] == DEFUSED
        blocks = json.dumps(render_blocks(reply), ensure_ascii=False)
        assert "<!" not in blocks and "<@" not in blocks and "@here" not in blocks
    rows = list(csv.reader(io.StringIO(exported.files[0].content)))
    assert rows[1][-1] == "'" + DEFUSED  # and a spreadsheet does not read "@..." as a formula


async def test_export_is_an_exact_csv(ask, store) -> None:
    await _seed(store, 1, text="=HYPERLINK(\"x\") <!here>", platform="instagram", spend=400.0,
                currency="$", impressions=60_000.0, clicks=1_200.5)  # fmt: skip
    await _seed(store, 1, campaign="other", text="elsewhere")
    reply = await ask("notes export spring")
    assert reply.intro == "1 note for `spring` as CSV."
    [attachment] = reply.files
    assert re.fullmatch(r"smx-notes-spring-\d{8}\.csv", attachment.filename)
    assert attachment.content == (
        "id,created_at,campaign,platform,spend,currency,impressions,clicks,conversions,"
        "other_metrics,author,channel,visibility,text\n"
        f"1,2025-03-01T09:00:00+00:00,spring,instagram,400,$,60000,1200.5,,,U1,C1,team,"
        f'"\'=HYPERLINK(""x"") @{ZWSP}here"\n'
    )


async def test_export_with_nothing_to_export_has_no_file(ask) -> None:
    reply = await ask("notes export")
    assert reply.files == [] and reply.intro == "No notes to export here yet."


# -- notes search QUERY -------------------------------------------------------------------------


@pytest.mark.parametrize("query", ['"', "*", "AND", "OR NOT", "NEAR(", 'launch"', "a:b", "^", "-"])
async def test_search_takes_any_words_without_breaking(ask, query: str) -> None:
    await ask("note spring launch AND story")
    reply = await ask(f"notes search {query}")
    assert not reply.is_error


async def test_search_finds_every_word_with_stems_and_prefixes(ask) -> None:
    await ask("note spring Reels did great on launch day")
    await ask("note summer Story flopped")
    assert [n["campaign"] for n in (await ask("notes search reel launch")).data["notes"]] == [
        "spring"
    ]
    assert len((await ask("notes search sto*")).data["notes"]) == 1
    none = await ask("notes search reel story")
    assert none.intro == (
        "No notes match “reel story”. Every word must appear; try fewer words or a prefix "
        "such as `launch*`."
    )


# -- note delete ID -----------------------------------------------------------------------------


async def test_delete_by_author_or_admin_only(ask) -> None:
    await ask("note spring mine")
    other = await ask("note delete 1", user="U2")
    assert other.is_error
    assert other.intro == "Only its author or a workspace admin can delete note #1."
    assert (await ask("note delete #1", user="U2", is_admin=True)).intro == "Deleted note #1."
    gone = await ask("note delete 1")
    assert gone.intro == (
        "There is no note #1 you can see here. `notes` lists them with their numbers."
    )
    await ask("note spring theirs", team="T2")
    assert (await ask("note delete 2", is_admin=True)).is_error  # another team's note


# -- routing and help ---------------------------------------------------------------------------


async def test_help_lists_the_notes_commands(ask) -> None:
    usages = (await ask("help")).data["commands"]
    for usage in (
        "note CAMPAIGN TEXT",
        "notes [CAMPAIGN] [chart] [since=7d] [page=N]",
        "notes search WORDS",
        "notes export [CAMPAIGN]",
        "note delete ID",
    ):
        assert usage in usages


# -- metric tokens --------------------------------------------------------------------------------


async def test_metric_tokens_are_stored_as_numbers(ask, store) -> None:
    reply = await ask(
        "note spring-launch Reel got 3x saves spend=$400 impressions=60k clicks=1.2k "
        "conversions=35 platform=Instagram ctr=2 revenue=$1.5k."
    )
    assert reply.data["metrics"] == {
        "platform": "instagram",
        "spend": 400.0,
        "impressions": 60_000.0,
        "clicks": 1_200.0,
        "conversions": 35.0,
        "ctr": 0.02,
        "revenue": 1_500.0,
    }
    assert reply.data["currency"] == "$"
    text = render_text(reply)
    assert "  spend        $400\n  impressions  60,000\n  clicks       1,200\n" in text
    assert "[i] ctr 2 read as 2%: a bare number of 1 or more is a percent." in text
    note = await store.get_note(_viewer(), reply.data["id"])
    assert (note.spend, note.currency, note.impressions, note.clicks, note.conversions) == (
        400.0, "$", 60_000.0, 1_200.0, 35.0,
    )  # fmt: skip
    assert note.platform == "instagram" and note.metrics == {"ctr": 0.02, "revenue": 1_500.0}
    assert note.text.endswith("ctr=2 revenue=$1.5k.")  # the text stays as typed


async def test_platform_aliases_and_prose_with_equals_signs(ask, store) -> None:
    reply = await ask("note spring posted on platform=Twitter see utm_source=ig")
    note = await store.get_note(_viewer(), reply.data["id"])
    assert note.platform == "x"
    assert note.text == "posted on platform=Twitter see utm_source=ig"  # kept as typed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "note spring spedn=$400",
            "`spedn` is not a metric; did you mean `spend=`? Metrics in a note look like "
            "`spend=$400 impressions=60k clicks=1.2k conversions=35 platform=instagram`.",
        ),
        (
            "note spring spend=$400 revenue=€500",
            "This note mixes $ and €; log each currency in a note of its own, so that sums stay "
            "in one currency.",
        ),
        ("note spring spend=$4 spend=$5", "`budget` appears twice in this note; give it once."),
        ("note spring clicks=-5", "`clicks=-5` is negative: write a positive value, like clicks=1.2k."),
        ("notes since=soon", "`soon` is not a length of time: write it like 7d (days), 4w (weeks) or 24h (hours)."),
    ],
)  # fmt: skip
async def test_bad_metrics_get_a_sentence(ask, text: str, message: str) -> None:
    reply = await ask(text)
    assert reply.is_error
    assert reply.intro == message


async def test_since_keeps_recent_notes_only(ask, store) -> None:
    now = datetime.now(UTC)
    old = await _seed(store, 1, text="old", created_at=now - timedelta(days=10))
    new = await _seed(store, 1, text="new", created_at=now - timedelta(days=1))
    assert [n["id"] for n in (await ask("notes since=7d")).data["notes"]] == new
    assert [n["id"] for n in (await ask("notes spring since=2w")).data["notes"]] == new + old
    empty = await ask("notes since=12h")
    assert empty.intro.startswith("No notes since ")


# -- realised costs against the platform's figures ---------------------------------------------


def _benchmark(metric: str, low: float, typical: float, high: float):
    from knowledge import Benchmark

    return Benchmark(
        platform="facebook", metric=metric, low=low, typical=typical, high=high,
        currency=None if metric == "ctr" else "USD", method="test",
        sources=[{"name": "Survey", "year": "2024"}],
    )  # fmt: skip


async def test_realised_costs_set_against_the_platforms_range(ask, monkeypatch) -> None:
    figures = {"cpm": _benchmark("cpm", 5, 8, 12), "ctr": _benchmark("ctr", 0.01, 0.015, 0.03)}
    figures["cpa"] = _benchmark("cpa", 22, 22, 22)
    monkeypatch.setattr("bot.notes.realised.benchmarks_for", lambda p: figures)
    await ask("note leads day 1 spend=$1k impressions=100k clicks=2k conversions=50 platform=fb")
    await ask("note leads day 2 spend=$200")  # no impressions: not in the CPM
    await ask("note brand push spend=€900 impressions=30k clicks=150 platform=linkedin")
    await ask("note mixed a spend=$10 impressions=1k platform=x")
    await ask("note mixed b spend=$10 impressions=1k platform=tiktok")
    reply = await ask("notes")
    realised = reply.sections[0]
    assert realised.heading == "Realised, per campaign"
    assert realised.text == "\n".join(
        [
            "*leads* · facebook · 2 notes · spend $1,200 · 100,000 impr. · 2,000 clicks · 50 conv.",
            "   CPM $10: within the range $5–$12 USD, typical $8 (Survey 2024)",
            "   CPC $0.50, not compared: no published CPC for facebook",
            "   CTR 2%: within the range 1%–3%, typical 1.5% (Survey 2024)",
            "   CPA $20: under the published $22 USD (Survey 2024)",
            "*brand* · linkedin · 1 note · spend €900 · 30,000 impr. · 150 clicks",
            "   CPM €30, not compared: published figures are in US dollars",
            "   CPC €6, not compared: no published CPC for linkedin",
            "   CTR 0.5%: below the range 1%–3%, typical 1.5% (Survey 2024)",
            "*mixed* · tiktok, x · 2 notes · spend $20 · 2,000 impr.",
            "   CPM $10, not compared: several platforms (tiktok, x)",
        ]
    )
    leads = reply.data["campaigns"][0]
    assert leads["cpm"] == 10.0 and leads["cpm_verdict"] == "within"
    assert leads["cpa"] == 20.0 and leads["cpa_verdict"] == "under"
    assert leads["cpm_typical"] == {"low": 5, "typical": 8, "high": 12}


async def test_realised_figures_use_the_knowledge_base(ask) -> None:
    from knowledge import benchmarks_for

    cpm = benchmarks_for("facebook")["cpm"]
    await ask("note leads spend=$1k impressions=100k platform=facebook")
    [leads] = (await ask("notes")).data["campaigns"]
    assert leads["cpm"] == 10.0
    assert leads["cpm_typical"] == {"low": cpm.low, "typical": cpm.typical, "high": cpm.high}


async def test_the_largest_answers_fit_slacks_limits(ask, store) -> None:
    long_text = "<!here> " + "word " * 790
    for c in range(12):
        await _seed(store, 3, campaign=f"c{c}", text=long_text, spend=10.0, currency="$",
                    impressions=1000.0, clicks=10.0, conversions=1.0, platform="facebook")  # fmt: skip
    from bot.slack.blocks import fallback_text

    for query in ("notes", "notes search word", "notes c1"):
        reply = await ask(query)
        assert not reply.is_error
        assert_message_ok(render_blocks(reply), fallback_text(reply))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(
        ["note", "note spring", "notes", "notes search", "notes export", "note delete"]
    ),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from('=$%*"<>@!#^'),
        max_size=40,
    ),
)
def test_any_input_gets_an_answer_never_a_crash(command: str, rest: str) -> None:
    import asyncio
    import tempfile

    async def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(str(Path(tmp) / "smx.db"))
            ctx = Context(surface="console", services=services_over(store))
            try:
                await dispatch(ctx, "note spring seed spend=$5 impressions=1k")
                reply = await dispatch(ctx, f"{command} {rest}")
                if reply.is_error:
                    assert reply.intro and "Traceback" not in reply.intro
            finally:
                await store.close()

    asyncio.run(run())


@pytest.mark.parametrize("word", ["export", "search", "Export"])
async def test_command_words_are_refused_as_campaign_names(word, tmp_path):
    from bot.config import Settings
    from bot.context import Context
    from bot.router import dispatch

    ctx = Context(services=Services(Settings(SMX_DB=str(tmp_path / "r.db"))))
    reply = await dispatch(ctx, f"note {word} first day")
    assert reply.is_error
    assert reply.intro == (
        f"`{word.lower()}` is a command word, so it can't be a campaign name (`notes {word.lower()}` would "
        f"run the command). Use a longer name, e.g. `{word.lower()}-campaign`."
    )
    await ctx.services.store.close()
