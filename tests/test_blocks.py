from bot.reply import Button, Fact, Notice, Reply, Section
from bot.slack.blocks import MAX_BLOCKS, escape, fallback_text, render_blocks
from tests.blockkit import assert_message_ok, check_blocks


def test_text_people_wrote_cannot_ping_or_link():
    reply = Reply(
        intro="<!channel> hi <@U123> & <https://evil|click>", sections=[Section(text="<!here>")]
    )
    blocks = render_blocks(reply)
    dumped = str(blocks)
    assert "<!channel>" not in dumped and "<@U123>" not in dumped and "<!here>" not in dumped
    assert (
        blocks[0]["text"]["text"]
        == "&lt;!channel&gt; hi &lt;@U123&gt; &amp; &lt;https://evil|click&gt;"
    )


def test_long_text_is_split_into_sections_within_limits():
    long = "\n".join(f"line {i} " + "x" * 90 for i in range(200))  # ~20,000 characters
    blocks = render_blocks(Reply(title="T" * 400, intro=long))
    assert_message_ok(blocks)
    assert blocks[0]["text"]["text"].endswith("…") and len(blocks[0]["text"]["text"]) == 150
    joined = "\n".join(b["text"]["text"] for b in blocks[1:])
    assert joined == escape(long)


def test_a_single_overlong_line_is_split_too():
    blocks = render_blocks(Reply(intro="y" * 7000))
    assert_message_ok(blocks)
    assert "".join(b["text"]["text"] for b in blocks) == "y" * 7000


def test_many_facts_and_buttons_are_chunked():
    facts = [Fact(label=f"k{i}", value="v" * 3000) for i in range(23)]
    buttons = [Button(label=f"b{i}", action_id=f"a{i}") for i in range(30)]
    blocks = render_blocks(Reply(facts=facts, buttons=buttons))
    assert_message_ok(blocks)
    assert sum(len(b.get("fields", [])) for b in blocks) == 23
    assert len(blocks[-1]["elements"]) == 25


def test_too_many_parts_are_cut_to_fifty_blocks_with_a_note():
    reply = Reply(sections=[Section(heading=f"s{i}", text="t") for i in range(80)])
    blocks = render_blocks(reply)
    assert len(blocks) == MAX_BLOCKS
    assert "more parts were left out" in blocks[-1]["elements"][0]["text"]
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
