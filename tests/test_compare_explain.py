"""`compare` and `explain`: what a marketer reads, and what they are told when input is off."""

from __future__ import annotations

import pytest

from bot.context import Context
from bot.errors import UserError
from bot.guide import compare, explain
from bot.reply import Reply, render_text
from bot.router import dispatch
from knowledge import load

CTX = Context()


def _all_text(reply: Reply) -> str:
    return render_text(reply)


def _within_slack_limits(reply: Reply) -> None:
    """Slack's limits on what our reply becomes: header 150, section text 3000, field 2000."""
    assert reply.title and len(reply.title) <= 150
    if reply.intro:
        assert len(reply.intro) <= 3000
    for section in reply.sections:
        heading = f"*{section.heading}*\n" if section.heading else ""
        assert len(section.heading or "") <= 150
        assert len(heading + section.text) <= 3000, section.heading
        assert len(section.facts) <= 10
        for fact in section.facts:
            assert len(f"*{fact.label}*\n{fact.value}") <= 2000
    for fact in reply.facts:
        assert len(f"*{fact.label}*\n{fact.value}") <= 2000
    assert all(len(f) <= 3000 for f in reply.footnotes)


def _user_error(handler, text: str, ctx: Context = CTX) -> UserError:
    with pytest.raises(UserError) as caught:
        handler(ctx, text.split())
    return caught.value


# --- compare ---------------------------------------------------------------------------------------


def test_compare_overview_covers_every_aspect_side_by_side():
    reply = compare(CTX, [])
    aspects = load().aspects
    assert reply.data == {"aspects": [a.key for a in aspects]}
    assert [s.heading for s in reply.sections] == [a.title for a in aspects]
    for section, aspect in zip(reply.sections, aspects, strict=True):
        assert [f.label for f in section.facts] == ["SMO", "SMM"]
        assert [f.value for f in section.facts] == [aspect.smo, aspect.smm]
        assert aspect.takeaway in section.text
    assert reply.title == "SMO vs SMM, side by side"
    assert any("`compare ASPECT`" in f and "`compare cost`" in f for f in reply.footnotes)
    _within_slack_limits(reply)


def test_compare_overview_fits_in_one_slack_message():
    blocks_mod = pytest.importorskip("bot.slack.blocks")
    blockkit = pytest.importorskip("tests.support.blockkit")
    blocks = blocks_mod.render_blocks(compare(CTX, []))
    assert len(blocks) < blocks_mod.MAX_BLOCKS  # nothing was cut off
    assert blockkit.check_blocks(blocks) == []


@pytest.mark.parametrize("words", ["smo vs smm", "all", "SMO and SMM side by side"])
def test_compare_with_only_filler_words_is_the_overview(words):
    assert compare(CTX, words.split()).data["aspects"] == [a.key for a in load().aspects]


def test_compare_timeline_says_smm_is_immediate_and_smo_lasts():
    reply = compare(CTX, ["timeline"])
    assert reply.data == {"aspects": ["timeline"]}
    assert reply.title == "SMO vs SMM: Timeline and visibility"
    smo, smm = (f.value for f in reply.sections[0].facts)
    assert smo != smm
    assert "slow" in smo.lower() and "lasts" in smo.lower()
    assert "immediate" in smm.lower() and "stops when the spend stops" in smm.lower()
    assert "Showing" not in reply.intro  # an exact aspect key needs no "did you mean"
    in_depth = reply.sections[1]
    assert in_depth.heading == "In depth" and len(in_depth.text) > 500
    _within_slack_limits(reply)


@pytest.mark.parametrize(
    ("words", "key", "exact"),
    [
        ("cost", "cost", True),
        ("price", "cost", True),
        ("pricng", "cost", False),
        ("time", "timeline", True),
        ("timline", "timeline", False),
        ("Timeline and visibility", "timeline", True),
        ("targetting", "targeting", False),
        ("audience", "targeting", True),
        ("kpi", "goals", True),
        ("when should i use which", "when", False),
        ("smo vs smm on cost", "cost", True),
        ("combine", "together", True),
        ("cost?", "cost", True),
    ],
)
def test_compare_finds_an_aspect_by_fuzzy_name(words, key, exact):
    reply = compare(CTX, words.split())
    aspect = next(a for a in load().aspects if a.key == key)
    assert reply.data["aspects"] == [key]
    assert reply.data.get("decide", []) == aspect.decide  # the short decision list, where one is
    assert aspect.in_depth in [s.text for s in reply.sections]
    assert ("Showing" in reply.intro) is (not exact)


def test_every_aspect_in_depth_is_within_slack_limits():
    for aspect in load().aspects:
        reply = compare(CTX, [aspect.key])
        _within_slack_limits(reply)
        others = [a.key for a in load().aspects if a.key != aspect.key]
        assert all(f"`compare {k}`" in reply.footnotes[0] for k in others)


def test_compare_unknown_aspect_says_what_to_type():
    err = _user_error(compare, "banana")
    assert "“banana”" in err.message
    assert "Type `compare ASPECT` with one of: strategy, cost, timeline, targeting, goals" in (
        err.message
    )
    assert "`compare` for all of them" in err.message
    assert "Did you mean" not in err.message and err.suggestions == []


def test_compare_near_miss_suggests_aspects():
    err = _user_error(compare, "viz")
    assert err.suggestions == ["timeline"]
    assert "Did you mean `timeline`?" in err.message


def test_compare_a_glossary_term_points_to_explain():
    err = _user_error(compare, "roas")
    assert "ROAS is a glossary term" in err.message and "`explain roas`" in err.message


def test_commands_in_messages_carry_the_slash_command_in_slack():
    err = _user_error(compare, "banana", Context(surface="command"))
    assert "`/smx compare ASPECT`" in err.message


# --- explain ---------------------------------------------------------------------------------------


def test_explain_cpm():
    reply = explain(CTX, ["cpm"])
    assert reply.title == "CPM (SMM)"
    assert "per thousand impressions" in reply.intro
    assert "per mile" not in reply.intro.replace('not "cost per mile"', "")
    facts = {f.label: f.value for f in reply.facts}
    assert facts["Formula"] == "CPM = cost / impressions × 1000"
    assert reply.data["term"] == "cpm" and reply.data["side"] == "SMM"
    assert reply.data["formula"] == "CPM = cost / impressions × 1000"
    sections = {s.heading: s.text for s in reply.sections}
    assert "500 / 62,500 × 1000 = $8.00 CPM" in sections["Worked example"]
    assert (
        "Impressions" in sections["Related terms"]
        and "`explain impressions`" in (sections["Related terms"])
    )
    # platform figures, with their sources, years and the Meta caveat
    figures = sections["Published platform figures"]
    assert "*LinkedIn*: $25.00 – *$34.50* – $44.00" in figures and "Stackmatix 2026" in figures
    assert "Facebook and Instagram together" in figures
    assert reply.data["benchmarks"]["youtube"]["typical"] == 6.20
    assert any("US dollars" in f and "Pinterest" in f for f in reply.footnotes)
    _within_slack_limits(reply)


def test_explain_engagement_rate_states_the_denominator_of_each_figure():
    reply = explain(CTX, ["engagement", "rate"])
    assert reply.data["term"] == "engagement_rate" and reply.data["side"] == "both"
    assert "denominator" in reply.intro
    assert "engagements / reach" in reply.data["formula"]
    figures = next(s.text for s in reply.sections if s.heading == "Published platform figures")
    assert "*Instagram*: 1.16%" in figures
    assert figures.count("denominator impressions") == len(reply.data["benchmarks"])


def test_explain_a_term_without_figures_has_no_figures_section():
    reply = explain(CTX, ["ugc"])
    assert reply.title == "UGC (SMO)"
    assert "benchmarks" not in reply.data and reply.data["formula"] is None
    assert "Published platform figures" not in [s.heading for s in reply.sections]
    assert [f.label for f in reply.facts] == ["Side"]


def test_explain_smo_lists_tactics_strengths_and_limits():
    reply = explain(CTX, ["social", "media", "optimization"])
    headings = [s.heading for s in reply.sections]
    assert reply.data["term"] == "smo"
    assert {"Typical tactics", "Strengths", "Limits"} <= set(headings)
    tactics = next(s.text for s in reply.sections if s.heading == "Typical tactics")
    assert tactics.count("• ") >= 3


def test_every_term_is_reachable_by_key_name_and_alias():
    for term in load().terms:
        for name in (term.key, term.name, *term.aliases):
            reply = explain(CTX, name.split())
            assert reply.data["term"] == term.key, name
            assert reply.intro == term.definition, name  # an exact name needs no "Showing"


def test_every_term_reply_is_within_slack_limits():
    for term in load().terms:
        reply = explain(CTX, [term.key])
        _within_slack_limits(reply)
        assert reply.title.startswith(term.name)


@pytest.mark.parametrize(
    ("words", "key"),
    [
        ("engagment rate", "engagement_rate"),
        ("cost per mile", "cpm"),
        ("impresions", "impressions"),
        ("retarget", "retargeting"),
        ("What does ROAS stand for?", "roas"),
        ("what is a lookalike audience", "lookalike_audience"),
        ("A/B testing", "ab_test"),
    ],
)
def test_explain_finds_typos_and_questions(words, key):
    reply = explain(CTX, words.split())
    assert reply.data["term"] == key


def test_explain_says_when_it_guessed():
    reply = explain(CTX, ["engagment", "rate"])
    assert reply.intro.startswith("Showing *Engagement rate* for “engagment rate”.")


def test_explain_roaz_suggests_roas():
    err = _user_error(explain, "roaz")
    assert err.suggestions[0] == "ROAS"
    assert len(err.suggestions) <= 3
    assert "I don't have “roaz” in the glossary. Did you mean ROAS" in err.message
    assert "Type `explain roas`." in err.message


def test_explain_does_not_guess_between_similar_acronyms():
    err = _user_error(explain, "cpx")
    assert err.suggestions == ["CPM", "CPC", "CPA"]
    assert "Did you mean CPM, CPC or CPA? Type `explain cpm`." in err.message


def test_explain_without_a_term_says_what_to_type():
    assert _user_error(explain, "").message == "Type `explain TERM`, for example `explain roas`."
    assert _user_error(explain, "what is ?").message.startswith("Type `explain TERM`")
    slack = _user_error(explain, "", Context(surface="command"))
    assert slack.message == "Type `/smx explain TERM`, for example `/smx explain roas`."


def test_explain_nonsense_lists_the_glossary_instead_of_not_found():
    err = _user_error(explain, "xyzzy")
    assert "nothing in it looks close" in err.message
    assert "Type `explain TERM` with one of:" in err.message
    assert "ROAS" in err.message and "Share of voice" in err.message
    assert "not found" not in err.message.lower()


async def test_router_turns_an_unknown_term_into_an_error_reply_with_suggestions():
    reply = await dispatch(Context(), "explain roaz")
    assert reply.is_error
    assert "ROAS" in reply.data["suggestions"]
    assert "Did you mean ROAS" in reply.intro


async def test_router_shares_a_compare_answer_when_asked():
    reply = await dispatch(Context(), "compare cost share")
    assert not reply.is_error and reply.share
    assert reply.data == {"aspects": ["cost"]}
    assert "Cost structure" in _all_text(reply)


@pytest.mark.parametrize(
    "line",
    ["explain smo vs smm", "explain SMM or SMO?", "explain social media marketing vs smo"],
)
async def test_explaining_both_sides_points_to_compare(line):
    reply = await dispatch(Context(surface="command"), line)
    assert not reply.is_error
    assert reply.data["points_to"] == "compare"
    assert "`/smx compare`" in reply.intro and "`/smx compare cost`" in reply.intro
    assert [f.label for f in reply.facts] == ["SMO", "SMM"]
    _within_slack_limits(reply)


async def test_one_side_is_still_its_glossary_term():
    for line, key in (("explain smo", "smo"), ("explain social media marketing", "smm")):
        reply = await dispatch(Context(surface="command"), line)
        assert reply.data["term"] == key


def test_when_to_choose_which_leads_with_a_short_decision_list():
    reply = compare(CTX, ["when"])
    first = reply.sections[0]
    assert first.heading == "Quick decision"
    lines = first.text.splitlines()
    assert 3 <= len(lines) <= 8 and all(line.startswith("• ") for line in lines)
    assert any("SMO" in line for line in lines) and any("SMM" in line for line in lines)
    assert reply.data["decide"] == [line[2:] for line in lines]
