"""manifest.yml: valid against Slack's own schema, and in step with what the code registers and calls."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import jsonschema
import yaml

from bot.router import usage_hint
from bot.slack.app import BOT_SCOPES

ROOT = Path(__file__).resolve().parent.parent
# Slack's own manifest schema (MIT, LICENSE beside it), kept in the repository so it stands alone.
SCHEMA = ROOT / "tests" / "data" / "slack" / "manifest.schema.1.0.0.json"
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())

# Which bot scope each Web API method the code calls needs (Slack's method docs).
METHOD_SCOPES = {
    "chat_postMessage": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "views_open": set(),
    "views_publish": set(),
    "auth_test": set(),  # the gate's direct path checks the bot token once (bot/slack/direct.py)
    "users_info": {"users:read"},
    "conversations_info": {"channels:read", "groups:read", "im:read", "mpim:read"},
    "files_upload_v2": {"files:write"},
    "files_info": {"files:read"},
    "conversations_open": {
        "im:write"
    },  # a chart of an answer only the person sees: their DM  # an export shared to import (bot/slack/file_import.py)
    "conversations_list": {"channels:read", "groups:read"},
    "conversations_members": {"channels:read", "groups:read", "im:read", "mpim:read"},
    "conversations_history": {"im:history"},  # only ever of a DM (bot/slack/welcome.py)
}
# Which scope each subscribed event needs.
EVENT_SCOPES = {
    "app_mention": {"app_mentions:read"},
    "message.im": {"im:history"},
    "app_home_opened": set(),
    "app_uninstalled": set(),
    "tokens_revoked": set(),
}


def registrations() -> dict[str, set[str]]:
    """Literal names passed to app.command / app.event / app.action / app.view, and client.* calls."""
    found: dict[str, set[str]] = {
        "command": set(),
        "event": set(),
        "action": set(),
        "view": set(),
        "client": set(),
    }
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            name = node.func.attr
            if isinstance(owner, ast.Name) and owner.id == "app" and name in found and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant):
                    found[name].add(arg.value)
                elif isinstance(arg, ast.Name):
                    found[name].add(f"<{arg.id}>")
            if isinstance(owner, ast.Name) and owner.id == "client":
                found["client"].add(name)
    return found


def test_manifest_is_valid_against_slacks_schema():
    jsonschema.validate(MANIFEST, json.loads(SCHEMA.read_text()))


def test_a_broken_manifest_is_caught_by_the_schema():
    broken = json.loads(json.dumps(MANIFEST))
    broken["features"]["slash_commands"][0]["command"] = "smx"  # must start with /
    try:
        jsonschema.validate(broken, json.loads(SCHEMA.read_text()))
    except jsonschema.ValidationError:
        return
    raise AssertionError("the schema accepted a command without its slash")


def test_commands_match_what_the_app_registers():
    declared = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert declared == registrations()["command"] == {"/smx"}


def test_usage_hint_comes_from_the_command_table():
    assert MANIFEST["features"]["slash_commands"][0]["usage_hint"] == usage_hint()


def test_events_match_the_listeners():
    declared = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    registered = registrations()["event"]
    # "message" is handled for DMs only, which Slack delivers as message.im.
    expected = {("message.im" if e == "message" else e) for e in registered}
    assert declared == expected


def test_scopes_are_exactly_what_the_code_needs():
    declared = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert declared == set(BOT_SCOPES)
    calls = registrations()["client"]
    unknown = calls - set(METHOD_SCOPES)
    assert not unknown, f"add the scopes these Web API methods need to METHOD_SCOPES: {unknown}"
    needed = {"commands"}
    for method in calls:
        needed |= METHOD_SCOPES[method]
    for event in declared_events():
        needed |= EVENT_SCOPES[event]
    assert declared == needed, f"missing {needed - declared}, unused {declared - needed}"


def declared_events() -> set[str]:
    return set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])


def test_interactivity_is_on_because_the_app_has_buttons_and_a_modal():
    found = registrations()
    assert found["action"] and found["view"]
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    urls = {
        MANIFEST["settings"]["interactivity"]["request_url"],
        MANIFEST["settings"]["event_subscriptions"]["request_url"],
        MANIFEST["features"]["slash_commands"][0]["url"],
    }
    assert {u.rsplit("/", 2)[-2] + "/" + u.rsplit("/", 1)[-1] for u in urls} == {"slack/events"}


def test_the_agent_surfaces_suggested_prompts_are_the_welcomes_four_questions():
    from bot.slack.welcome import SUGGESTED

    agent = MANIFEST["features"]["agent_view"]
    prompts = agent["suggested_prompts"]
    assert [(p["title"], p["message"]) for p in prompts] == list(SUGGESTED)
    assert len(prompts) <= 4 and len(agent["agent_description"]) <= 300
