"""The one command table: each entry says what every face must do with it, and the faces read
it instead of parsing command words of their own."""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path

import pytest

import bot
from bot.context import Context
from bot.reply import Reply
from bot.router import COMMANDS, dispatch, entry, usage_hint
from bot.slack.listeners.commands import needs_web_api, opens_form

BOT = Path(bot.__file__).parent


async def test_compare_with_numbers_is_routed_to_the_estimate_routes(monkeypatch):
    calls = []

    def compare_routes(ctx, args):
        calls.append((ctx, args))
        return Reply(title="routes")

    fake = types.ModuleType("bot.estimate.plans")
    fake.compare_routes = compare_routes
    monkeypatch.setitem(sys.modules, "bot.estimate.plans", fake)
    ctx = Context()
    reply = await dispatch(ctx, "compare budget=$1000 followers=5000")
    assert reply.title == "routes"
    assert calls == [(ctx, ["budget=$1000", "followers=5000"])]
    words = await dispatch(ctx, "compare timeline")
    assert words.title != "routes" and len(calls) == 1


def test_the_guide_does_not_import_the_estimate_feature():
    tree = ast.parse((BOT / "guide.py").read_text(encoding="utf-8"))
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    ]
    assert not [m for m in imported if m and m.startswith("bot.estimate")]


def test_each_digest_subcommand_is_an_entry_of_its_own():
    names = {c.name for c in COMMANDS}
    for word in ("on", "off", "pause", "resume", "status", "preview", "now"):
        assert f"digest {word}" in names
    head = next(c for c in COMMANDS if c.name == "digest")
    assert head.family and head.usage == "digest on|off|pause|resume|status|preview|now [#channel]"
    assert head.usage in usage_hint()


async def test_a_word_that_names_no_digest_subcommand_lists_the_family():
    reply = await dispatch(Context(), "digest pauze")
    assert reply.is_error
    assert reply.intro == (
        "`digest pauze` is not something I can do. Did you mean `digest pause`? Use `digest on`, "
        "`off`, `pause`, `resume`, `status`, `preview` or `now`."
    )
    assert reply.data["suggestions"] == ["pause"]


# What the Slack face did before the table said it (the old route_kind's answers): every text
# that needed the Web API still does, and nothing else.
WEB_API = {
    "estimate": True,  # the form
    "ESTIMATE": True,
    "estimate share": False,
    "estimate budget=$2k cpm=8": False,
    "notes export": True,
    "Notes Export spring": True,
    "note delete 3": True,
    "digest on": True,  # reads the time zone
    "digest now": True,  # posts
    "digest status": False,
    "digest status #marketing": True,  # a #name to look up
    "digest off <#C2|x>": True,
    "digest pause": False,
    "notes": False,
    "note x y": False,
    "compare budget=$1k": False,
    "help": False,
    "": False,
    "frob": False,
}


@pytest.mark.parametrize("text", list(WEB_API))
def test_the_slack_face_reads_what_an_entry_needs_from_the_table(text):
    assert needs_web_api(text) is WEB_API[text]
    assert opens_form(text) is (text.lower() == "estimate")


def test_entries_that_read_or_write_notes_say_so():
    reads = {c.name for c in COMMANDS if c.slack.reads_notes}
    assert reads == {
        c.name for c in COMMANDS if c.words[0] in ("note", "notes", "digest", "target", "targets")
    }
    found = entry("  no\u200bte x")  # cleaned as the router cleans it
    assert found is not None and found[0].name == "note"


def test_the_slash_prefix_has_one_home():
    copies = [
        p.relative_to(BOT).as_posix()
        for p in BOT.rglob("*.py")
        if '"/smx "' in p.read_text(encoding="utf-8") and p.name != "slash.py"
    ]
    owned = {"router.py", "guide.py", "digest/commands.py", "digest/parse.py", "digest/compose.py"}
    assert not owned & set(copies)


def test_the_manifest_hint_is_written_from_the_table(tmp_path):
    from bot.router import write_usage_hint

    manifest = tmp_path / "manifest.yml"
    manifest.write_text('slash:\n    usage_hint: "compare | help"\n    x: 1\n', encoding="utf-8")
    assert write_usage_hint(str(manifest)) is True
    assert manifest.read_text(encoding="utf-8") == (
        f'slash:\n    usage_hint: "{usage_hint()}"\n    x: 1\n'
    )
    assert write_usage_hint(str(manifest)) is False
