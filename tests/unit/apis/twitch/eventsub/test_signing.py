import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from premiere_ecoute.apis.twitch.eventsub.signing import (
    format_twitch_timestamp,
    parse_twitch_timestamp,
    sign,
    verify_signature,
)

SECRET = "s3cr3t-webhook-key"
MESSAGE_ID = "e76c6bd4-55c9-4987-8304-da1588d8988b"
TIMESTAMP = "2026-11-23T20:05:00.123456789Z"
BODY = b'{"subscription":{},"event":{"text":"7"}}'


def test_signature_is_hmac_sha256_of_id_timestamp_and_body() -> None:
    digest = hmac.new(
        SECRET.encode(), (MESSAGE_ID + TIMESTAMP).encode() + BODY, hashlib.sha256
    ).hexdigest()

    assert sign(SECRET, MESSAGE_ID, TIMESTAMP, BODY) == "sha256=" + digest


def test_matching_signature_is_accepted() -> None:
    signature = sign(SECRET, MESSAGE_ID, TIMESTAMP, BODY)

    assert verify_signature(SECRET, MESSAGE_ID, TIMESTAMP, BODY, signature)


@pytest.mark.parametrize(
    ("secret", "message_id", "timestamp", "body"),
    [
        ("other-secret", MESSAGE_ID, TIMESTAMP, BODY),
        (SECRET, "another-id", TIMESTAMP, BODY),
        (SECRET, MESSAGE_ID, "2026-11-23T20:05:01.123456789Z", BODY),
        (SECRET, MESSAGE_ID, TIMESTAMP, BODY + b" "),
    ],
)
def test_signature_over_any_other_input_is_refused(
    secret: str, message_id: str, timestamp: str, body: bytes
) -> None:
    signature = sign(secret, message_id, timestamp, body)

    assert not verify_signature(SECRET, MESSAGE_ID, TIMESTAMP, BODY, signature)


@pytest.mark.parametrize("signature", ["", "sha256=", "sha256=zz", "md5=abc", "sha256=é"])
def test_garbage_signature_is_refused_without_error(signature: str) -> None:
    assert not verify_signature(SECRET, MESSAGE_ID, TIMESTAMP, BODY, signature)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T20:05:00.123456789Z", datetime(2026, 11, 23, 20, 5, 0, 123456, UTC)),
        ("2026-11-23T20:05:00.1Z", datetime(2026, 11, 23, 20, 5, 0, 100000, UTC)),
        ("2026-11-23T20:05:00Z", datetime(2026, 11, 23, 20, 5, 0, 0, UTC)),
        ("2026-11-23T20:05:00.5+00:00", datetime(2026, 11, 23, 20, 5, 0, 500000, UTC)),
        ("2026-11-23T22:05:00+02:00", datetime(2026, 11, 23, 20, 5, 0, 0, UTC)),
    ],
)
def test_twitch_timestamps_parse_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_twitch_timestamp(text)

    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2026-11-23 20:05:00",
        "2026-11-23T20:05:00",
        "2026-11-23T20:05:00.1234567890Z",
        "2026-13-23T20:05:00Z",
        "2026-11-23T20:05:00.Z",
    ],
)
def test_malformed_timestamps_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_twitch_timestamp(text)


def test_formatted_timestamp_has_nine_fractional_digits() -> None:
    moment = datetime(2026, 11, 23, 21, 5, 0, 123456, timezone(timedelta(hours=1)))

    assert format_twitch_timestamp(moment, nanos=789) == TIMESTAMP
    assert format_twitch_timestamp(moment) == "2026-11-23T20:05:00.123456000Z"


def test_formatting_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        format_twitch_timestamp(datetime(2026, 1, 1))


@given(st.datetimes(timezones=st.just(UTC)), st.integers(min_value=0, max_value=999))
def test_format_then_parse_keeps_the_instant(moment: datetime, nanos: int) -> None:
    assert parse_twitch_timestamp(format_twitch_timestamp(moment, nanos)) == moment
