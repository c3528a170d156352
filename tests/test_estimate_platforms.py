"""`estimate ... platform=A,B,C` (issue 14): each platform estimated exactly as it is alone, side
by side, with the platform that gives the most of the figure asked about."""

from __future__ import annotations

import pytest

from bot.context import Context
from bot.platforms import PLATFORM_NAME
from bot.router import dispatch


async def ask(text: str):
    return await dispatch(Context(surface="console"), text)


def _triple(reply, key):
    typical = reply.data[key]
    low, high = reply.data.get("ranges", {}).get(key, (typical, typical))
    return [low, typical, high]


async def test_each_platform_reads_as_it_does_alone():
    both = await ask("estimate budget=2k platform=instagram,tiktok,linkedin")
    assert not both.is_error
    assert list(both.data["platforms"]) == ["instagram", "tiktok", "linkedin"]
    for name in ("instagram", "tiktok", "linkedin"):
        alone = await ask(f"estimate budget=2k platform={name}")
        for figure, triple in both.data["platforms"][name].items():
            assert triple == pytest.approx(_triple(alone, figure), rel=1e-12), (name, figure)
    assert [s.heading for s in both.sections] == ["Instagram", "TikTok", "LinkedIn"]
    assert all("Sources: " in s.text for s in both.sections)


async def test_it_names_the_platform_with_the_most_of_the_deepest_figure_all_reach():
    reply = await ask("estimate budget=2k platform=instagram,tiktok,linkedin")
    asked = reply.data["asked"]
    assert asked == "clicks"  # none of the three publishes a conversion rate
    typical = {name: figures[asked][1] for name, figures in reply.data["platforms"].items()}
    best = max(typical, key=typical.get)
    assert reply.data["best"] == best
    assert reply.intro.startswith(f"Most clicks: *{PLATFORM_NAME[best]}*")


async def test_a_goal_names_the_platform_that_reaches_it_for_the_least():
    reply = await ask("estimate clicks=1000 platform=instagram,tiktok,linkedin")
    budgets = {name: figures["budget"][1] for name, figures in reply.data["platforms"].items()}
    best = min(budgets, key=budgets.get)
    assert reply.data["asked"] == "budget" and reply.data["best"] == best
    assert reply.intro.startswith(f"*{PLATFORM_NAME[best]}* reaches it for the least")


async def test_a_platform_without_figures_is_left_out_with_its_reason():
    reply = await ask("estimate clicks=1000 platform=instagram,pinterest")
    assert list(reply.data["platforms"]) == ["instagram"]
    assert "pinterest" in reply.data["left_out"]
    assert any(n.text.startswith("Pinterest is left out: No reliable") for n in reply.notices)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("estimate budget=2k platform=instagram,instagram", "`instagram` is named twice"),
        ("estimate budget=2k platform=ig,instagram", "`instagram` is named twice"),
        ("estimate budget=2k platform=instagram,", "names one platform"),
        ("estimate budget=2k platform=instagram,foo", "`platform=foo` is not a platform I know"),
        ("estimate budget=2k platform=" + ",".join(["facebook"] * 8), "at most 6 platforms"),
        ("estimate platform=pinterest,pinterest", "named twice"),
    ],
)
async def test_bad_platform_lists_get_a_sentence(line, message):
    reply = await ask(line)
    assert reply.is_error
    assert message in reply.intro


async def test_aliases_and_spaces_in_the_list_are_read():
    reply = await ask("estimate budget=2k platform=IG,TikTok")
    assert list(reply.data["platforms"]) == ["instagram", "tiktok"]


async def test_the_comparison_fits_a_slack_message():
    from bot.slack.blocks import render_blocks
    from tests.support.blockkit import assert_message_ok

    reply = await dispatch(
        Context(surface="command"),
        "estimate budget=2k platform=facebook,instagram,linkedin,tiktok,x,youtube",
    )
    assert len(reply.data["platforms"]) == 6
    assert_message_ok(render_blocks(reply))


async def test_each_platforms_warnings_come_along_and_a_tie_is_no_win():
    reply = await ask("estimate budget=1000 ctr=12% platform=facebook,instagram")
    texts = [n.text for n in reply.notices]
    assert any(t.startswith("Facebook: Your CTR of 12% is far above") for t in texts)
    assert any(t.startswith("Instagram: Your CTR of 12% is far above") for t in texts)
    # both use the same Meta-wide CPM and the CTR given: the same clicks, said as a tie
    clicks = {p: f["clicks"][1] for p, f in reply.data["platforms"].items()}
    assert clicks["facebook"] == pytest.approx(clicks["instagram"])
    assert reply.data["best"] is None
    assert reply.intro.startswith("*Facebook* and *Instagram* give the same typical clicks")
