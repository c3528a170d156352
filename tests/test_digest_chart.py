"""The weekly digest's chart (issue 16): built from the digest's own data and the channel's last
four weeks, drawn as a real PNG, written by `smx digest preview --chart`, and uploaded into the
digest's thread in Slack, end to end over signed HTTP and the fake Web API. A chart that cannot
be uploaded costs one line in the thread, never the digest."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.charts.digest import CAMPAIGNS_SHOWN, digest_chart, trend_edges
from bot.charts.model import chart_for
from bot.charts.render import png
from bot.digest.slots import Slot
from bot.slack.server import DIGESTS
from bot.store import Audience, Subscription
from tests.support.digest_support import note
from tests.support.waits import eventually
from tests.test_charts import size_of
from tests.test_digest_cli import smx
from tests.test_slack_e2e import assert_quick_ok

NOW = datetime.now(UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


async def seed(store, channel: str = "C1") -> None:
    """Three campaigns this week (two in dollars with figures, one in euros), and notes in each
    of the three weeks before."""
    add = store.add_note
    await add(
        note(
            channel,
            days_ago(1),
            "carousel",
            campaign="spring",
            platform="instagram",
            spend=420.0,
            currency="$",
            impressions=52_000.0,
            clicks=610.0,
            conversions=18.0,
        )
    )
    await add(
        note(
            channel,
            days_ago(2),
            "webinar",
            campaign="webinar",
            platform="linkedin",
            spend=900.0,
            currency="$",
            impressions=24_000.0,
            clicks=160.0,
            conversions=7.0,
        )
    )
    await add(
        note(
            channel,
            days_ago(3),
            "berlin",
            campaign="berlin",
            platform="facebook",
            spend=80.0,
            currency="€",
            impressions=9_000.0,
            clicks=90.0,
        )
    )
    await add(note(channel, days_ago(9), "w3", campaign="spring", spend=300.0, currency="$"))
    await add(note(channel, days_ago(10), "w3 too", campaign="spring"))
    await add(note(channel, days_ago(23), "w1", campaign="spring", spend=100.0, currency="$"))
    # fmt: skip


async def test_the_chart_draws_the_digests_own_figures_and_the_last_four_weeks(ask, store):
    await seed(store)
    reply = await ask("digest preview", surface="command")
    info = reply.data["digest"]
    chart = chart_for(reply.data, reply.title)
    assert chart is not None and chart.kind == "digest"
    series = {s["metric"]: s for s in chart.data()["series"]}
    by_name = {c["campaign"]: c for c in info["campaign_data"]}
    # Spend: the campaigns in the week's main currency, the most first; the euro one left out.
    assert [(b["label"], b["value"]) for b in series["spend"]["bars"]] == [
        ("webinar (linkedin)", 900.0),
        ("spring (instagram)", 420.0),
    ]
    assert series["spend"]["unit"] == "$"
    # Each realised figure is the digest's own, its band the published range it was held against.
    for metric in ("cpm", "cpc", "ctr", "cpa"):
        for bar in series[metric]["bars"]:
            mine = by_name[bar["label"]]
            assert bar["value"] == mine[metric]
            low, typical, high = mine.get(f"{metric}_published") or (None, None, None)
            assert (bar["low"], bar["typical"], bar["high"]) == (low, typical, high)
    assert {b["label"] for b in series["ctr"]["bars"]} == {"spring", "webinar", "berlin"}
    assert "berlin" not in {b["label"] for b in series["cpm"]["bars"]}  # euros: not on a $ axis
    assert series["cpm"]["bars"][0]["low"] is not None  # linkedin's published CPM range
    # The trend: four weeks, oldest first, each week's notes and dollars as read.
    weeks = series["notes_per_week"]["points"]
    assert [p["value"] for p in weeks] == [1.0, 0.0, 2.0, 3.0]
    assert [p["value"] for p in series["spend_per_week"]["points"]] == [100.0, None, 300.0, 1320.0]
    assert [p["label"] for p in weeks] == [t["label"] for t in info["trend"]]
    # This week's column is the digest's own week: the same notes and dollars as its text says.
    assert weeks[-1]["value"] == info["notes"]
    assert series["spend_per_week"]["points"][-1]["value"] == info["spend"]["$"]
    width, height = size_of(png(chart))
    assert width == 800 and 500 < height < 1400
    alt = chart.alt_text()
    assert "webinar" in alt and "$900" in alt and len(alt) <= 1000
    assert "Money is drawn in $" in chart.caption  # the euro campaign is said to be left out


async def test_many_campaigns_draw_the_ones_that_spent_most_and_say_so(ask, store):
    for i in range(CAMPAIGNS_SHOWN + 3):
        await store.add_note(
            note("C1", days_ago(1), f"c{i}", campaign=f"camp-{i:02d}", spend=10.0 + i,
                 currency="$", impressions=1000.0, clicks=10.0)
        )  # fmt: skip
    reply = await ask("digest preview", surface="command")
    chart = chart_for(reply.data, reply.title)
    (spend,) = [p for p in chart.panels if p.metric == "spend"]
    assert len(spend.bars) == CAMPAIGNS_SHOWN
    assert spend.bars[0].label == f"camp-{CAMPAIGNS_SHOWN + 2:02d}"
    assert f"({CAMPAIGNS_SHOWN} that spent most of {CAMPAIGNS_SHOWN + 3})" in spend.title
    (cpc,) = [p for p in chart.panels if p.metric == "cpc"]
    assert f"({CAMPAIGNS_SHOWN} that spent most of {CAMPAIGNS_SHOWN + 3})" in cpc.title
    assert size_of(png(chart))[0] == 800
    alt = chart.alt_text()  # every panel named, even where not every bar fits
    assert len(alt) <= 1000 and "Notes logged" in alt and "CPC" in alt


def campaign(name: str, spend: float | None, currency: str | None = "$", **figures) -> dict:
    return {"campaign": name, "notes": 1, "spend": spend, "currency": currency,
            "platforms": [], **figures}  # fmt: skip


def test_long_names_that_share_a_start_stay_two_bars_and_two_colours():
    east, west = "q4-2026-holiday-retargeting-us-east", "q4-2026-holiday-retargeting-us-west"
    info = {"notes": 2, "tz": "UTC", "spend": {"$": 30.0},
            "campaign_data": [campaign(east, 20.0, cpc=1.0), campaign(west, 10.0, cpc=2.0)]}  # fmt: skip
    chart = digest_chart({"digest": info})
    for panel in chart.panels:
        labels = [b.label for b in panel.bars]
        assert len(set(labels)) == 2 and all(len(label) <= 30 for label in labels), labels
        assert [b.key for b in panel.bars] == [east, west]
    assert chart.panels[0].bars[0].label.endswith("us-east")
    assert size_of(png(chart))[0] == 800


def test_money_is_drawn_in_the_currency_most_campaigns_spent_in():
    info = {"notes": 3, "tz": "UTC", "spend": {"$": 1320.0, "¥": 2000.0},
            "campaign_data": [campaign("webinar", 900.0, cpc=5.6), campaign("spring", 420.0, cpc=0.7),
                              campaign("tokyo", 2000.0, "¥", cpc=20.0, ctr=0.01)]}  # fmt: skip
    chart = digest_chart({"digest": info})
    spend, cpc, ctr = chart.panels
    assert spend.unit == cpc.unit == "$"
    assert [b.label for b in spend.bars] == ["webinar", "spring"]
    assert [b.label for b in ctr.bars] == ["tokyo"]  # a rate compares across currencies
    assert "Money is drawn in $" in chart.caption
    assert "Shaded" not in chart.caption  # no band drawn, none described


async def test_an_empty_week_and_a_week_without_figures(ask, store):
    assert chart_for((await ask("digest preview", surface="command")).data) is None
    await store.add_note(note("C1", days_ago(1), "no figures at all", campaign="plain"))
    reply = await ask("digest preview", surface="command")
    chart = chart_for(reply.data, reply.title)
    assert [p.metric for p in chart.panels] == ["notes_per_week"]  # what there is: the notes
    assert size_of(png(chart))[0] == 800


def test_the_weeks_before_are_a_week_earlier_on_the_channels_clock():
    berlin = ZoneInfo("Europe/Berlin")
    since = datetime(2026, 11, 2, 9, tzinfo=berlin).astimezone(UTC)  # the week after DST ended
    until = since + timedelta(days=7)
    edges = trend_edges(since, until, "Europe/Berlin")
    assert len(edges) == 5 and edges[-2:] == [since, until]
    assert all(e.astimezone(berlin).hour == 9 for e in edges)
    assert [(b - a) / timedelta(hours=1) for a, b in zip(edges, edges[1:], strict=False)] == [
        168, 169, 168, 168  # the week of 25 October is an hour longer
    ]  # fmt: skip


def test_the_model_reads_nothing_but_the_data_it_is_given():
    info = {"notes": 2, "tz": "UTC", "spend": {"$": 50.0}, "campaign_data": [
        {"campaign": "a", "notes": 2, "spend": 50.0, "currency": "$", "platforms": [],
         "cpc": 2.5}]}  # fmt: skip
    chart = digest_chart({"digest": info}, "Weekly digest")
    assert [(p.metric, p.style) for p in chart.panels] == [("spend", "bars"), ("cpc", "against")]
    assert chart.panels[1].bars[0].low is None  # no platform: nothing to hold it against


async def test_smx_digest_preview_chart_writes_the_png(tmp_path):
    db = str(tmp_path / "smx.db")
    from bot.store import open_store

    store = open_store(db)
    await seed(store, channel="C7")
    await store.close()
    out = tmp_path / "digest.png"
    done = await asyncio.to_thread(
        smx, "digest", "preview", "--team", "T1", "--channel", "C7", "--chart", str(out),
        "--json", env={"SMX_DB": db},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert size_of(out.read_bytes())[0] == 800
    answer = json.loads(done.stdout)
    drawn = answer["data"].pop("chart")
    assert drawn == chart_for(answer["data"], "Weekly digest").data() | {"title": drawn["title"]}
    assert drawn["kind"] == "digest" and drawn["series"][0]["metric"] == "spend"
    empty = tmp_path / "empty.png"
    done = await asyncio.to_thread(
        smx, "digest", "preview", "--team", "T2", "--channel", "C9", "--chart", str(empty),
        env={"SMX_DB": db},
    )  # fmt: skip
    assert done.returncode == 0 and "no chart" in done.stderr and not empty.exists()


# -- in Slack: the digest's thread -------------------------------------------------------------------


async def due_digest(bot) -> None:
    """A subscription of C1 due now, with notes to post."""
    store = bot.services.store
    await seed(store)
    slot = Slot(NOW.weekday(), NOW.hour, NOW.minute, "UTC")
    await store.save_subscription(
        Subscription(
            team="T1", channel="C1", workspace="T1", enterprise=None, weekday=slot.weekday,
            hour=slot.hour, minute=slot.minute, tz="UTC", subscriber="U1",
            next_run=slot.latest_at_or_before(NOW),
        )
    )  # fmt: skip
    bot.web_app[DIGESTS].wake()


async def test_a_posted_digest_uploads_its_chart_into_its_thread(bot, slack):
    await due_digest(bot)
    (posted,) = await slack.wait_for("chat.postMessage", within=10)
    (done,) = await slack.wait_for("files.completeUploadExternal", within=10)
    assert done.args["channel_id"] == "C1"
    assert done.args["thread_ts"] == slack.sent_ts(posted)  # in the digest's own thread
    (upload,) = slack.calls_to("upload")
    assert size_of(upload.args["bytes"])[0] == 800
    (asked,) = slack.calls_to("files.getUploadURLExternal")
    assert "webinar" in asked.args["alt_txt"] and "$900" in asked.args["alt_txt"]
    assert len(slack.calls_to("chat.postMessage")) == 1  # the digest, once; no complaint


async def test_a_failed_chart_upload_leaves_the_digest_and_says_so_in_its_thread(bot, slack):
    slack.fail("files.getUploadURLExternal", error="missing_scope")
    await due_digest(bot)
    said = await slack.wait_for("chat.postMessage", count=2, within=10)
    digest, line = said
    assert "webinar" in json.dumps(digest.args)  # the digest itself, whole
    assert line.args["thread_ts"] == slack.sent_ts(digest)
    assert "chart of this digest could not be uploaded" in line.args["text"]
    assert "missing_scope" in line.args["text"]

    async def recorded() -> bool:
        return [r.state for r in await bot.services.store.list_runs("T1", "C1")] == ["posted"]

    await eventually(recorded)


async def test_an_upload_url_that_refuses_the_bytes_is_said_in_the_thread_too(bot, slack):
    slack.fail("upload", status=500, error="gone")
    await due_digest(bot)
    digest, line = await slack.wait_for("chat.postMessage", count=2, within=10)
    assert line.args["thread_ts"] == slack.sent_ts(digest)
    assert "could not be uploaded (Slack said `upload_failed`)" in line.args["text"]


async def test_a_channel_shared_with_another_organisation_since_the_post_gets_no_chart(
    bot, slack, monkeypatch
):
    """The chart asks Slack about the channel again before drawing (it may wait behind others):
    here Slack says it is private when the digest is posted and shared when the chart is made."""
    answer = slack._answer
    asked = []

    def shared_after_the_post(method, args):
        found = answer(method, args)
        if method == "conversations.info":
            asked.append(args["channel"])
            if len(asked) > 1:
                found["channel"]["is_ext_shared"] = True
        return found

    monkeypatch.setattr(slack, "_answer", shared_after_the_post)
    await due_digest(bot)
    (posted,) = await slack.wait_for("chat.postMessage", within=10)

    async def recorded() -> bool:  # by then the post is over and its chart queued
        return [r.state for r in await bot.services.store.list_runs("T1", "C1")] == ["posted"]

    await eventually(recorded)
    await bot.idle()
    assert asked == ["C1", "C1"]  # before the digest, and again before its chart
    assert not slack.calls_to("files.getUploadURLExternal")
    assert len(slack.calls_to("chat.postMessage")) == 1  # and nothing said in the channel


async def test_digest_now_posts_its_chart_in_the_thread_too(bot, slack):
    await seed(bot.services.store)
    assert_quick_ok(await bot.command("digest now"))
    (posted,) = await slack.wait_for("chat.postMessage", within=10)
    (done,) = await slack.wait_for("files.completeUploadExternal", within=10)
    assert done.args["thread_ts"] == slack.sent_ts(posted)


async def test_a_chart_whose_weeks_count_what_the_channel_may_not_read_is_not_uploaded(slack):
    """The last-step check on the trend: a store that (wrongly) counted a private channel's
    note elsewhere gets nothing drawn or uploaded, and the refusal is counted."""
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.digest_chart import chart_digest_later, settled
    from bot.store.trend import Trend, WeekPoint
    from bot.telemetry import UNEXPECTED_ERRORS

    class Leaky:  # a store whose trend read got its filter wrong
        async def week_trend(self, viewer, edges):
            weeks = [WeekPoint(a, b, 1, {}) for a, b in zip(edges, edges[1:], strict=False)]
            return Trend(weeks, (("T1", "G9", "private", "U2"),))

    from bot.reply import Reply

    reply = Reply(
        title="Weekly digest",
        data={"digest": {"notes": 1, "since": days_ago(7).isoformat(),
                         "until": NOW.isoformat(), "tz": "UTC", "campaign_data": []}},
    )  # fmt: skip
    before = UNEXPECTED_ERRORS.labels("privacy_check")._value.get()
    client = AsyncWebClient(token="xoxb-x", base_url=slack.api_url + "/")
    chart_digest_later(client, Leaky(), "C1", "1.0001", reply, Audience("T1", "C1", "public"))
    await settled()
    assert not slack.calls_to("files.getUploadURLExternal")
    assert UNEXPECTED_ERRORS.labels("privacy_check")._value.get() == before + 1


@pytest.mark.parametrize("line", ["estimate budget=$2k platform=instagram,tiktok"])
async def test_the_share_buttons_answer_brings_its_chart_to_the_channel(bot, slack, line):
    answer = await bot.command(line, channel="C1", user="U7")
    assert_quick_ok(answer)
    (first,) = await slack.wait_for("files.completeUploadExternal")
    assert first.args["channel_id"] == "D7"  # ephemeral: the person's DM
    payload = {
        "type": "block_actions",
        "user": {"id": "U7", "team_id": "T1"},
        "channel": {"id": "C1", "name": "general"},
        "response_url": slack.response_url("share"),
        "actions": [{"action_id": "smx_share", "block_id": "b", "type": "button", "value": line}],
    }
    assert_quick_ok(await bot.interact(payload))
    done = await slack.wait_for("files.completeUploadExternal", count=2)
    assert done[1].args["channel_id"] == "C1"  # shared: the channel sees it with the answer
