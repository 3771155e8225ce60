from datetime import UTC, datetime, timedelta

import pytest

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.apis.twitch.eventsub.messages import WebhookRejected
from premiere_ecoute.apis.twitch.eventsub.parser import verify_webhook
from premiere_ecoute.apis.twitch.eventsub.signing import format_twitch_timestamp

SECRET = "webhook-secret-for-tests"
NOW = datetime(2026, 11, 23, 20, 5, 0, tzinfo=UTC)


def _delivery(
    sent_at: datetime = NOW, secret: str = SECRET, body: bytes = b'{"event":{}}'
) -> tuple[dict[str, str], bytes]:
    timestamp = format_twitch_timestamp(sent_at, nanos=123)
    headers = envelope.webhook_headers(
        secret, "msg-1", timestamp, "notification", "channel.chat.message", "1", body
    )
    return headers, body


def test_signed_fresh_delivery_is_accepted_with_its_metadata() -> None:
    headers, body = _delivery(NOW - timedelta(seconds=3))

    message = verify_webhook(headers, body, SECRET, NOW)

    assert message.message_id == "msg-1"
    assert message.message_type == "notification"
    assert message.subscription_type == "channel.chat.message"
    assert message.subscription_version == "1"
    assert message.timestamp == NOW - timedelta(seconds=3)
    assert message.body == body


def test_header_names_are_matched_case_insensitively() -> None:
    headers, body = _delivery()
    lowered = {key.lower(): value for key, value in headers.items()}

    assert verify_webhook(lowered, body, SECRET, NOW).message_id == "msg-1"


def test_delivery_signed_with_another_secret_is_forbidden() -> None:
    headers, body = _delivery(secret="not-our-secret")

    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(headers, body, SECRET, NOW)
    assert caught.value.status_code == 403


def test_tampered_body_is_forbidden() -> None:
    headers, _ = _delivery()

    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(headers, b'{"event":{"text":"10"}}', SECRET, NOW)
    assert caught.value.status_code == 403


def test_unsigned_garbage_is_forbidden_not_bad_request() -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook({"Content-Type": "text/plain"}, b"garbage", SECRET, NOW)
    assert caught.value.status_code == 403


@pytest.mark.parametrize(
    ("age", "accepted"),
    [
        (timedelta(minutes=9, seconds=59), True),
        (timedelta(minutes=10, seconds=1), False),
        (timedelta(minutes=-9), True),
        (timedelta(minutes=-11), False),
    ],
)
def test_only_deliveries_within_ten_minutes_of_now_are_accepted(
    age: timedelta, accepted: bool
) -> None:
    headers, body = _delivery(NOW - age)

    if accepted:
        verify_webhook(headers, body, SECRET, NOW)
    else:
        with pytest.raises(WebhookRejected) as caught:
            verify_webhook(headers, body, SECRET, NOW)
        assert caught.value.status_code == 403


@pytest.mark.parametrize(
    "header", ["Twitch-Eventsub-Message-Type", "Twitch-Eventsub-Subscription-Type"]
)
def test_signed_delivery_missing_a_required_header_is_a_bad_request(header: str) -> None:
    headers, body = _delivery()
    del headers[header]

    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(headers, body, SECRET, NOW)
    assert caught.value.status_code == 400


def test_signed_delivery_with_malformed_timestamp_is_a_bad_request() -> None:
    body = b"{}"
    headers = envelope.webhook_headers(
        SECRET, "msg-2", "last tuesday", "notification", "channel.chat.message", "1", body
    )

    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(headers, body, SECRET, NOW)
    assert caught.value.status_code == 400


def test_delivery_without_message_id_cannot_be_verified() -> None:
    headers, body = _delivery()
    del headers["Twitch-Eventsub-Message-Id"]

    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(headers, body, SECRET, NOW)
    assert caught.value.status_code == 400
