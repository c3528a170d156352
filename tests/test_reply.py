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
