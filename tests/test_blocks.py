import json

import pytest

from bot.notes.render import ZWSP, defuse
from bot.reply import Attachment, Button, Fact, Notice, Reply, Section
from bot.slack.blocks import (
    MAX_BLOCKS,
    MAX_NOTIFICATION_TEXT,
    escape,
    fallback_text,
    render_blocks,
)
from bot.slack.views import home_view, reply_modal
from tests.support.blockkit import (
    MESSAGE_BLOCKS_JSON,
    assert_message_ok,
    assert_view_ok,
    blocks_json_size,
    check_blocks,
    live_mentions,
)

LEFT_OUT = "Left out to fit"


def _texts(blocks: list[dict]) -> list[str]:
    """Every shown string of the blocks, in order."""
    out: list[str] = []
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out += [f["text"] for f in b.get("fields", [])]
        out += [e["text"] if isinstance(e["text"], str) else e["text"]["text"]
                for e in b.get("elements", [])]  # fmt: skip
    return out


def _left_out(blocks: list[dict]) -> str:
    lines = [t for t in _texts(blocks) if LEFT_OUT in t]
    assert len(lines) == 1, lines
    return lines[0]


def test_text_people_wrote_cannot_ping_or_link():
    reply = Reply(
        intro="<!channel> hi <@U123> & <https://evil|click>", sections=[Section(text="<!here>")]
    )
    blocks = render_blocks(reply)
    dumped = str(blocks)
    assert "<!channel>" not in dumped and "<@U123>" not in dumped and "<!here>" not in dumped
    # Shown as typed: escaped, and the @ of `<@U123>` cannot become a bare mention either.
    assert (
        blocks[0]["text"]["text"]
        == f"&lt;!channel&gt; hi &lt;@{ZWSP}U123&gt; &amp; &lt;https://evil|click&gt;"
    )


def test_long_text_is_split_into_sections_within_limits():
    long = "\n".join(f"line {i} " + "x" * 90 for i in range(100))  # ~10,000 characters
    blocks = render_blocks(Reply(title="T" * 400, intro=long))
    assert_message_ok(blocks)
    assert blocks[0]["text"]["text"].endswith("…") and len(blocks[0]["text"]["text"]) == 150
    joined = "\n".join(b["text"]["text"] for b in blocks[1:] if b["type"] == "section")
    assert joined == escape(long)
    assert "the end of 1 long text" in _left_out(blocks)  # the title's, said


def test_a_single_overlong_line_is_split_too():
    blocks = render_blocks(Reply(intro="y" * 7000))
    assert_message_ok(blocks)
    assert "".join(b["text"]["text"] for b in blocks) == "y" * 7000


def test_many_facts_and_buttons_are_chunked():
    facts = [Fact(label=f"k{i}", value=f"v{i}") for i in range(23)]
    buttons = [Button(label=f"b{i}", action_id=f"a{i}") for i in range(30)]
    blocks = render_blocks(Reply(facts=facts, buttons=buttons))
    assert_message_ok(blocks)
    assert sum(len(b.get("fields", [])) for b in blocks) == 23
    assert len(blocks[-1]["elements"]) == 25  # buttons beyond Slack's 25 are left out, and said
    assert "5 buttons" in _left_out(blocks)


def test_too_many_parts_are_cut_to_fifty_blocks_with_a_note():
    reply = Reply(sections=[Section(heading=f"s{i}", text="t") for i in range(80)])
    blocks = render_blocks(reply)
    assert len(blocks) == MAX_BLOCKS
    line = blocks[-1]["elements"][0]["text"]
    shown = sum(1 for t in _texts(blocks) if t.startswith("*s"))
    assert f"{80 - shown} more sections" in line and "“s25”" in line
    assert not check_blocks(blocks)


def test_notices_and_footnotes_render():
    reply = Reply(
        notices=[Notice(level="warning", text="CPC and CPM disagree")],
        footnotes=["Source: A (2024)"] * 12,
    )
    blocks = render_blocks(reply)
    assert_message_ok(blocks)
    assert blocks[0]["text"]["text"] == ":warning: CPC and CPM disagree"
    assert [len(b["elements"]) for b in blocks[1:]] == [10, 2]


def test_fallback_text_is_short_and_escaped():
    text = fallback_text(Reply(intro="<!channel> " + "z" * 9000))
    assert len(text) <= MAX_NOTIFICATION_TEXT and text.startswith("&lt;!channel&gt; zzz")
    assert text.endswith("…")


# -- mentions: nothing smx posts can ping (issue 10, defect 7) ---------------------------------

WRAPPED = [
    "_@channel_", "_@here_", "*@channel*", "~@here~", "(@everyone)", "@HERE", "@here's",
    "@channel:", "x@here", "_@design-team_", "<_@everyone_>", "`@here`",
]  # fmt: skip


@pytest.mark.parametrize("text", WRAPPED)
def test_defuse_disarms_mentions_inside_markup_and_punctuation(text: str) -> None:
    shown = defuse(text)
    assert live_mentions(shown) == [], shown
    assert shown.replace(ZWSP, "") == text  # still reads the same
    assert defuse(shown) == shown


def test_defuse_keeps_handles_in_inline_code_so_commands_can_be_copied() -> None:
    assert defuse("Invite me with `/invite @smx`, then ping @team") == (
        f"Invite me with `/invite @smx`, then ping @{ZWSP}team"
    )
    assert defuse("`/invite @here`") == f"`/invite @{ZWSP}here`"  # never a special one


HOSTILE = "_@channel_ *@here* (@everyone) @HERE's <!here> <@U1> <#C1|x> <!subteam^S1> @here:"


def _everywhere(text: str) -> Reply:
    return Reply(
        title=text,
        intro=text,
        facts=[Fact(label=text, value=text)],
        sections=[Section(heading=text, text=text, facts=[Fact(label=text, value=text)])],
        notices=[Notice(level="error", text=text)],
        footnotes=[text],
        buttons=[Button(label=text, action_id="a", value=text)],
    )


def test_no_part_of_a_message_can_ping_in_blocks_or_fallback_text():
    reply = _everywhere(HOSTILE)
    payload = {"text": fallback_text(reply), "blocks": render_blocks(reply)}
    assert live_mentions(payload) == []
    assert_message_ok(payload["blocks"], payload["text"])
    assert "@\u200bchannel @\u200bhere" in payload["text"]  # the digest's fallback case


def test_no_part_of_a_modal_or_the_app_home_can_ping():
    reply = _everywhere(HOSTILE)
    for view in (reply_modal(HOSTILE, reply), home_view(reply, HOSTILE)):
        assert live_mentions(view) == [], live_mentions(view)
        assert_view_ok(view)


def test_a_cut_never_makes_a_mention():
    # A hard split or a clip right after "x@here" would leave a bare "@here" at a piece's end.
    for n in range(1, 12):
        text = "y" * (3000 - n) + "x@heresy " * 3
        reply = Reply(intro=text, title="t" * (150 - n) + "x@heresy", footnotes=[text])
        headline = Reply(intro="z" * (MAX_NOTIFICATION_TEXT - 1 - n) + "x@heresy")
        payload = {"text": fallback_text(headline), "blocks": render_blocks(reply)}
        assert live_mentions(payload) == [], (n, live_mentions(payload))
        assert_message_ok(payload["blocks"], payload["text"])


# -- size: every message within Slack's limits (issue 10, defect 10) ---------------------------


def _search_like(hits: int, text: str) -> Reply:
    return Reply(
        title="Notes matching “launch”",
        intro=f"{hits} notes (the best {hits}), best match first.",
        sections=[
            Section(
                heading=f"#{i} · spring-launch · 2025-03-0{i % 9 + 1} 10:00 CET",
                text=f"{text}\n_by U1 · team-wide_",
            )
            for i in range(1, hits + 1)
        ],
    )


def test_twenty_long_hits_stay_under_the_size_budget_and_say_what_was_left_out():
    reply = _search_like(20, "launch " + "w" * 490)
    assert blocks_json_size(render_blocks(reply, max_blocks=10**9)) > 13_000  # what Slack refused
    blocks = render_blocks(reply)
    assert_message_ok(blocks, fallback_text(reply))
    assert blocks_json_size(blocks) <= MESSAGE_BLOCKS_JSON
    shown = [t for t in _texts(blocks) if t.startswith("*#")]
    line = _left_out(blocks)
    assert 0 < len(shown) < 20 and f"{20 - len(shown)} more sections" in line
    assert f"“#{len(shown) + 1} · spring-launch" in line  # names the first one left out
    assert "`/smx notes export`" in line  # and what to type to see them


def test_text_outside_ascii_is_measured_as_sent():
    # 3,000 CJK characters are one section by count but 18,000 characters of JSON.
    blocks = render_blocks(Reply(intro="漢" * 3000, footnotes=["字" * 3000]))
    assert_message_ok(blocks)
    assert "".join(t for t in _texts(blocks) if LEFT_OUT not in t).count("漢") >= 900


def test_big_fields_are_kept_within_the_budget():
    facts = [Fact(label=f"k{i}", value="v" * 3000) for i in range(23)]
    blocks = render_blocks(Reply(facts=facts))
    assert_message_ok(blocks)
    fields = sum(len(b.get("fields", [])) for b in blocks)
    assert 0 < fields < 23 and f"{23 - fields} facts" in _left_out(blocks)


def test_a_cut_keeps_the_notices_footnotes_and_buttons():
    reply = _search_like(30, "w" * 480).model_copy(
        update={
            "notices": [Notice(level="warning", text="Two notes disagree")],
            "footnotes": ["Page 1 of 3. Next: `page=2`."],
            "buttons": [Button(label="Share", action_id="share", value="notes")],
        }
    )
    blocks = render_blocks(reply)
    assert_message_ok(blocks)
    texts = _texts(blocks)
    assert ":warning: Two notes disagree" in texts and "Page 1 of 3. Next: `page=2`." in texts
    assert blocks[-1]["type"] == "actions"
    assert texts.index(_left_out(blocks)) < texts.index(":warning: Two notes disagree")


def test_fallback_text_stays_short_however_many_mentions_it_defuses():
    text = fallback_text(Reply(intro="@a " * 5000))
    assert len(text) <= MAX_NOTIFICATION_TEXT and live_mentions(text) == []
    assert text.startswith(f"@{ZWSP}a @{ZWSP}a")


def test_a_whole_size_can_still_be_measured_uncut():
    # bot/slack/digest_post.fits measures a digest with max_blocks=10**9 to decide its split.
    reply = _search_like(40, "w" * 480)
    whole = render_blocks(reply, max_blocks=10**9)
    assert blocks_json_size(whole) > 2 * MESSAGE_BLOCKS_JSON
    assert not any(LEFT_OUT in t for t in _texts(whole))


def test_views_have_their_own_limits():
    notes = _search_like(120, "w" * 2500)
    home = home_view(notes, "Weekly digest: none set up by you.")
    assert_view_ok(home)
    assert len(home["blocks"]) <= 100 and LEFT_OUT in json.dumps(home)
    modal = reply_modal("SMO vs SMM", notes)
    assert_view_ok(modal)


# -- the message `text`: a notification's headline, not the whole answer (issue 13) ------------

LONG_ANSWER = Reply(
    title="Notes matching “launch”",
    intro="40 notes, best match first. " + "Word " * 8_000,
    facts=[Fact(label=f"k{i}", value="v" * 3000) for i in range(20)],
    sections=[Section(heading=f"#{i}", text="launch " + "w" * 40_000) for i in range(40)],
    notices=[Notice(level="warning", text="Two notes disagree.")],
    footnotes=["Page 1 of 3. Next: `page=2`."],
)


def test_a_long_answers_fallback_is_its_short_headline():
    text = fallback_text(LONG_ANSWER)
    assert text == "Notes matching “launch” — 40 notes, best match first."
    assert len(text) <= MAX_NOTIFICATION_TEXT
    assert "Word" not in text and "Two notes disagree" not in text  # that is for the blocks


def test_the_fallback_reads_only_what_it_can_show(monkeypatch):
    # Its cost does not grow with the answer: no text past a bounded prefix is ever defused
    # (the old fallback defused nearly 4,000 characters of every long answer).
    import bot.slack.blocks as blocks

    seen: list[int] = []

    def counting(text: str) -> str:
        seen.append(len(text))
        return defuse(text)

    monkeypatch.setattr(blocks, "defuse", counting)
    fallback_text(LONG_ANSWER.model_copy(update={"intro": "@x " + "w" * 40_000}))
    assert seen and max(seen) <= 2 * MAX_NOTIFICATION_TEXT + 16


def test_the_fallback_starts_with_the_title_then_the_first_sentence_under_it():
    reply = Reply(
        title="CPM (SMM)",
        intro="Cost per mille: what 1,000 impressions cost, i.e. the price per thousand. "
        "*Mille* is Latin for thousand.\nSecond line.",
        facts=[Fact(label="Formula", value="CPM = cost / impressions × 1000")],
    )
    assert fallback_text(reply) == (
        "CPM (SMM) — Cost per mille: what 1,000 impressions cost, i.e. the price per thousand."
    )
    # No intro: what comes first under the title (a fact, a section's text, ...), plain.
    assert fallback_text(reply.model_copy(update={"intro": None})) == (
        "CPM (SMM) — Formula: CPM = cost / impressions × 1000"
    )
    listing = Reply(
        title="Notes",
        sections=[Section(heading="#1 · spring-launch", text="*CTR* looks great! More.")],
    )
    assert fallback_text(listing) == "Notes — CTR looks great!"
    # A digest's thread reply has no title: its first campaign's heading and first sentence.
    assert (
        fallback_text(Reply(sections=listing.sections)) == "#1 · spring-launch — CTR looks great!"
    )


def test_an_errors_fallback_is_its_sentence():
    reply = Reply.error(
        "`budget=abc` is not an amount of money: write it like budget=$2,000. "
        "Type `help estimate` for more.",
        suggestions=["estimate budget=$2,000"],
    )
    assert fallback_text(reply) == (
        "`budget=abc` is not an amount of money: write it like budget=$2,000."
    )
    assert fallback_text(Reply.error("Nothing to post.")) == "Nothing to post."


MENTIONS = "<!channel> <!here|here> <@U123> <@U9|jane> <!subteam^S1|@team> @here @everyone <#C1|x>"


@pytest.mark.parametrize(
    "reply",
    [
        Reply(title=MENTIONS, intro="Fine."),
        Reply(title="Notes", intro=MENTIONS + " said it. More."),
        Reply(title="x" * 150, intro="y" * 40 + "x@heresy " * 3),  # the cut lands on a mention
        Reply.error("_@channel_ *@here* said: " + MENTIONS),
        Reply(sections=[Section(heading="@here", text="<@U1> wrote it.")]),
    ],
)
def test_mentions_in_a_title_or_intro_are_defused_in_the_fallback(reply: Reply):
    text = fallback_text(reply)
    assert live_mentions(text) == [], text
    assert "<" not in text and len(text) <= MAX_NOTIFICATION_TEXT
    assert text == defuse(text)


def test_the_mentions_fallback_still_reads_the_same():
    text = fallback_text(Reply(title=MENTIONS, intro="Fine."))
    assert text.replace(ZWSP, "") == escape(MENTIONS) + " — Fine."


def test_the_fallback_is_safe_outside_ascii():
    reply = Reply(title="Kampagne „Frühling“ 漢字 \ud83d", intro="😀 Ça marche. Ensuite.")
    text = fallback_text(reply)
    assert text == "Kampagne „Frühling“ 漢字 \ufffd — 😀 Ça marche."
    text.encode("utf-8")  # a lone surrogate cannot be sent; it is shown as U+FFFD
    json.dumps({"text": text})
    wide = fallback_text(Reply(intro="漢" * 5000))
    assert len(wide) == MAX_NOTIFICATION_TEXT and wide.endswith("…")
    assert fallback_text(Reply(intro="\udfff")) == "\ufffd"


SHAPES = {
    "empty": Reply(),
    "blank title and intro": Reply(title="  \n ", intro=" \n\t"),
    "title only": Reply(title="Estimate"),
    "title on a second line": Reply(title="\n\nEstimate\nfor spring"),
    "intro only": Reply(intro="\n  Logged note *#3* for `spring`. Everyone can see it."),
    "facts only": Reply(facts=[Fact(label="Budget", value="$500")]),
    "heading only": Reply(sections=[Section(heading="Paid (SMM)")]),
    "section text only": Reply(sections=[Section(text="• Impressions: 62,500")]),
    "section facts only": Reply(sections=[Section(facts=[Fact(label="CPM", value="$8")])]),
    "notice only": Reply(notices=[Notice(level="warning", text="CPC and CPM disagree.")]),
    "footnote only": Reply(footnotes=["", "Source: A (2024)."]),
    "button only": Reply(buttons=[Button(label="Share", action_id="share", value="x")]),
    "file only": Reply(files=[Attachment(filename="notes.csv", content="a,b\n")]),
    "error": Reply.error("That did not work."),
    "markup only": Reply(intro="**"),
}
HEADLINES = {
    "empty": "An answer from smx.",
    "blank title and intro": "An answer from smx.",
    "title only": "Estimate",
    "title on a second line": "Estimate",
    "intro only": "Logged note #3 for `spring`.",
    "facts only": "Budget: $500",
    "heading only": "Paid (SMM)",
    "section text only": "• Impressions: 62,500",
    "section facts only": "CPM: $8",
    "notice only": "CPC and CPM disagree.",
    "footnote only": "Source: A (2024).",
    "button only": "Share",
    "file only": "notes.csv",
    "error": "That did not work.",
    "markup only": "**",
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_reply_shape_gives_a_short_text_that_is_not_blank(shape: str):
    # slack_sdk warns of a blank `text` with blocks: notifications and screen readers need one.
    text = fallback_text(SHAPES[shape])
    assert text.strip() and len(text) <= MAX_NOTIFICATION_TEXT
    assert text == HEADLINES[shape]
    assert_message_ok(render_blocks(SHAPES[shape]), text)


async def test_what_smxs_answers_say_in_a_notification(ask):
    said = {q: fallback_text(await ask(q, "command")) for q in (
        "help", "compare", "explain cpm", "estimate budget=500 cpm=8",
        "note spring-launch Reel got 3x saves <!channel>", "notes", "estimate budget=abc",
    )}  # fmt: skip
    assert said == {
        "help": "smx: SMO, SMM and your campaigns — Ask how Social Media Optimization (organic) "
        "and Social Media Marketing (paid) differ, what a metric means, and more.",
        "compare": "SMO vs SMM, side by side — Social Media Optimization (SMO): Earn attention "
        "without paying for it, through optimised profiles, useful content and an engaged "
        "community.",
        "explain cpm": "CPM (SMM) — Cost per mille: what 1,000 impressions cost, i.e. the price "
        "per thousand impressions.",
        "estimate budget=500 cpm=8": "Estimate — 62,500 impressions",
        "note spring-launch Reel got 3x saves <!channel>": "Logged note #1 for `spring-launch`.",
        "notes": "Notes — 1 note, newest first.",
        "estimate budget=abc": "`budget=abc` is not an amount of money: write it like "
        "budget=$2,000.",
    }
