import json
from datetime import UTC, datetime
from typing import Any

import pytest

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.apis.twitch.eventsub.messages import (
    Ignored,
    MalformedMessage,
    Verification,
    WebhookMessage,
)
from premiere_ecoute.apis.twitch.eventsub.parser import parse_payload, parse_webhook
from premiere_ecoute.sessions.inbound import ChatLine, PollTally, SubscriptionRevoked

SENT_AT = datetime(2026, 11, 23, 20, 5, 0, 123456, tzinfo=UTC)
CREATED = "2026-11-23T19:00:00.000000001Z"


def _subscription(kind: str, status: str = "enabled") -> dict[str, Any]:
    return envelope.subscription_dict(
        "sub-1",
        kind,
        "1",
        {"broadcaster_user_id": "123456789"},
        envelope.webhook_transport("https://example.test/webhooks/twitch"),
        status,
        CREATED,
    )


def _notification(kind: str, event: dict[str, Any]) -> Any:
    return json.loads(envelope.notification_body(_subscription(kind), event))


def test_chat_notification_becomes_a_chat_line_dated_by_the_delivery() -> None:
    event = envelope.chat_message_event("123456789", "dj_host", "987654321", "fan_1", "7", "m-1")

    parsed = parse_payload(
        "notification",
        "channel.chat.message",
        _notification("channel.chat.message", event),
        SENT_AT,
    )

    assert parsed == ChatLine(
        broadcaster_id="123456789",
        chatter_id="987654321",
        chatter_login="fan_1",
        chatter_name=event["chatter_user_name"],
        text="7",
        sent_at=SENT_AT,
    )


def test_chat_text_with_mentions_keeps_the_full_text() -> None:
    text = "@someone hi there"
    event = envelope.chat_message_event("1", "host", "2", "fan", text, "m-2")

    parsed = parse_payload(
        "notification",
        "channel.chat.message",
        _notification("channel.chat.message", event),
        SENT_AT,
    )

    assert isinstance(parsed, ChatLine)
    assert parsed.text == text
    fragments = event["message"]["fragments"]
    assert "".join(fragment["text"] for fragment in fragments) == text
    assert fragments[0]["type"] == "mention"


@pytest.mark.parametrize(
    ("kind", "status"), [("begin", "active"), ("progress", "active"), ("end", "completed")]
)
def test_poll_notifications_become_poll_tallies(kind: str, status: str) -> None:
    event = envelope.poll_event(
        kind,  # type: ignore[arg-type]
        "poll-9",
        "123456789",
        "dj_host",
        "Rate: Intro",
        [("c1", "1", 4), ("c2", "2", 7)],
        status,
        "2026-11-23T20:00:00.000000000Z",
        "2026-11-23T20:02:00.000000000Z",
    )
    subscription_type = f"channel.poll.{kind}"

    parsed = parse_payload(
        "notification", subscription_type, _notification(subscription_type, event), SENT_AT
    )

    votes = (0, 0) if kind == "begin" else (4, 7)
    assert parsed == PollTally(
        poll_id="poll-9",
        broadcaster_id="123456789",
        counts={"1": votes[0], "2": votes[1]},
        final=kind == "end",
        at=SENT_AT,
    )


def test_verification_returns_the_challenge() -> None:
    body = envelope.verification_body(_subscription("channel.chat.message"), "pog-challenge")

    parsed = parse_payload(
        "webhook_callback_verification", "channel.chat.message", json.loads(body), SENT_AT
    )

    assert parsed == Verification(challenge="pog-challenge")


def test_revocation_names_subscription_reason_and_broadcaster() -> None:
    subscription = _subscription("channel.poll.end", status="authorization_revoked")
    body = envelope.revocation_body(subscription)

    parsed = parse_payload("revocation", "channel.poll.end", json.loads(body), SENT_AT)

    assert parsed == SubscriptionRevoked(
        "sub-1", "channel.poll.end", "authorization_revoked", "123456789"
    )


def test_unknown_subscription_type_is_ignored_not_an_error() -> None:
    payload = _notification("channel.follow", {"user_id": "5"})

    parsed = parse_payload("notification", "channel.follow", payload, SENT_AT)

    assert isinstance(parsed, Ignored)
    assert "channel.follow" in parsed.reason


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"subscription": {}},
        {"subscription": {}, "event": {"broadcaster_user_id": "1"}},
        {"event": {**envelope.chat_message_event("1", "h", "2", "f", "7", "m"), "message": None}},
        {
            "event": {
                **envelope.chat_message_event("1", "h", "2", "f", "7", "m"),
                "chatter_user_id": 2,
            }
        },
    ],
)
def test_chat_notification_with_wrong_shape_is_malformed(payload: Any) -> None:
    with pytest.raises(MalformedMessage):
        parse_payload("notification", "channel.chat.message", payload, SENT_AT)


@pytest.mark.parametrize("votes", [-1, "3", None, True])
def test_poll_progress_with_bad_vote_count_is_malformed(votes: Any) -> None:
    event = envelope.poll_event(
        "progress", "p", "1", "h", "t", [("c1", "1", 0)], "active", CREATED, CREATED
    )
    event["choices"][0]["votes"] = votes

    with pytest.raises(MalformedMessage):
        parse_payload("notification", "channel.poll.progress", {"event": event}, SENT_AT)


def test_webhook_body_that_is_not_json_is_malformed() -> None:
    message = WebhookMessage("m", "notification", SENT_AT, "channel.chat.message", "1", 0, b"{")

    with pytest.raises(MalformedMessage):
        parse_webhook(message)


def test_webhook_message_is_parsed_with_its_own_timestamp() -> None:
    event = envelope.chat_message_event("1", "host", "2", "fan", "!vote 8", "m-3")
    body = envelope.notification_body(_subscription("channel.chat.message"), event)
    message = WebhookMessage("m", "notification", SENT_AT, "channel.chat.message", "1", 0, body)

    parsed = parse_webhook(message)

    assert isinstance(parsed, ChatLine)
    assert (parsed.text, parsed.sent_at) == ("!vote 8", SENT_AT)
