import json

import pytest

from bot.notes.render import ZWSP, defuse
from bot.reply import Button, Fact, Notice, Reply, Section
from bot.slack.blocks import MAX_BLOCKS, escape, fallback_text, render_blocks
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
    assert len(text) <= 4000 and text.startswith("&lt;!channel&gt;")


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
        payload = {"text": fallback_text(Reply(intro="z" * (3899 - n) + "x@heresy")),
                   "blocks": render_blocks(reply)}  # fmt: skip
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
    assert len(text) <= 4000 and live_mentions(text) == []


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
