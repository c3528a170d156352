import pytest

from bot.slack.payloads import command_kind, event_kind, info_kind, team_of


@pytest.mark.parametrize(
    "body,kind",
    [
        ({"channel_id": "C1", "channel_name": "general"}, "public"),
        ({"channel_id": "C2", "channel_name": "privategroup"}, "private"),
        ({"channel_id": "G2", "channel_name": "old-private"}, "private"),
        ({"channel_id": "D1", "channel_name": "directmessage"}, "im"),
        ({"channel_id": "C3", "channel_name": "mpdm-a--b-1"}, "mpim"),
        ({"channel_id": "C4"}, "private"),  # unknown is never treated as public
    ],
)
def test_slash_command_channel_kinds(body, kind):
    assert command_kind(body) == kind


def test_event_and_info_kinds():
    assert event_kind("im", "D1") == "im" and event_kind("group", "C1") == "private"
    assert event_kind(None, "C1") is None  # only conversations.info can tell
    assert info_kind({"is_private": True}) == "private" and info_kind({"is_mpim": True}) == "mpim"
    assert info_kind({}) == "public"


def test_team_and_org_from_each_payload_shape():
    assert team_of({"team_id": "T1", "enterprise_id": "E1"}) == ("T1", "E1")
    assert team_of({"team": {"id": "T2"}, "enterprise": {"id": "E2"}}) == ("T2", "E2")
    assert team_of({"team_id": "T3", "authorizations": [{"enterprise_id": None}]}) == ("T3", None)
