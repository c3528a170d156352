import pytest

from bot.reply import Attachment, Fact, Notice, Reply, Section, plain, render_text


def test_plain_drops_markup_but_keeps_arithmetic():
    assert plain("*Bold* and _it_") == "Bold and it"
    assert plain("2 * 3 * 4") == "2 * 3 * 4"
    assert plain("snake_case_name") == "snake_case_name"


def test_render_text_has_every_part_in_order():
    reply = Reply(
        title="Title",
        intro="Intro",
        facts=[Fact(label="Budget", value="$500"), Fact(label="CPM", value="$8")],
        sections=[Section(heading="Part", text="Body", facts=[Fact(label="a", value="1")])],
        notices=[Notice(level="warning", text="Careful")],
        footnotes=["Source: X (2024)"],
        files=[Attachment(filename="notes.csv", content="a,b\n")],
    )
    text = render_text(reply)
    order = [
        "Title",
        "Intro",
        "Budget  $500",
        "CPM     $8",
        "Part",
        "Body",
        "a  1",
        "[!] Careful",
        "Source: X (2024)",
        "(file: notes.csv)",
    ]
    positions = [text.index(item) for item in order]
    assert positions == sorted(positions)


def test_error_reply_carries_suggestions():
    reply = Reply.error("No such term. Try `explain roas`.", ["roas"])
    assert reply.is_error and reply.data == {"suggestions": ["roas"]}
    assert render_text(reply) == "No such term. Try `explain roas`."


def test_multi_line_values_stay_aligned_under_their_value():
    text = render_text(
        Reply(
            facts=[
                Fact(label="Paid", value="$2,000\n252,207 impressions"),
                Fact(label="Organic", value="8 posts"),
            ]
        )
    )
    assert text.splitlines() == [
        "  Paid     $2,000",
        "           252,207 impressions",
        "  Organic  8 posts",
    ]


def _cut_everything(value, n):
    if isinstance(value, str):
        return value[:n]
    if isinstance(value, list):
        return [_cut_everything(v, n) for v in value[:n]]
    if isinstance(value, dict):
        return {k: v if k == "level" else _cut_everything(v, n) for k, v in value.items()}
    return value


@pytest.mark.parametrize("n", [1, 3, 8, 3901])
def test_render_text_cut_renders_as_if_every_text_and_list_were_cut(n):
    long = "*bold* and _it_ " * 600 + "\nsecond line"
    reply = Reply(
        title="*Title* " * 40,
        intro=long,
        facts=[Fact(label=f"*L{i}*", value=long) for i in range(12)],
        sections=[Section(heading="_H_" * 9, text=long, facts=[Fact(label="a", value="b\nc")])] * 9,
        notices=[Notice(level="warning", text=long)] * 5,
        footnotes=["_f_ " * 50] * 11,
        files=[Attachment(filename="x" * 20, content="c")] * 4,
    )
    every = {"title", "intro", "sections", "facts", "notices", "footnotes", "files"}
    cut = Reply.model_validate(_cut_everything(reply.model_dump(include=every), n))
    assert render_text(reply, cut=n) == render_text(cut)
    assert render_text(reply, cut=10**9) == render_text(reply)
