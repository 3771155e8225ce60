"""EventSub webhook signatures and Twitch's nanosecond timestamps.

Twitch signs ``message id + timestamp + raw body`` with HMAC-SHA256 and sends timestamps with up
to nine fractional digits, which ``datetime.fromisoformat`` refuses before Python 3.11 and
truncates silently; we parse them ourselves so nothing depends on that.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta, timezone

SIGNATURE_PREFIX = "sha256="

_TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})"
    r"(?:\.(\d{1,9}))?"
    r"([Zz]|[+-]\d{2}:?\d{2})$"
)


def sign(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """Return the ``Twitch-Eventsub-Message-Signature`` value for a message."""
    mac = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha256)
    mac.update(message_id.encode("utf-8"))
    mac.update(timestamp.encode("utf-8"))
    mac.update(body)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify_signature(
    secret: str, message_id: str, timestamp: str, body: bytes, signature: str
) -> bool:
    """True when ``signature`` is the one Twitch would send; compared in constant time."""
    expected = sign(secret, message_id, timestamp, body)
    # compare_digest needs both sides of one type; bytes also avoids a non-ASCII TypeError.
    return hmac.compare_digest(expected.encode("utf-8"), signature.encode("utf-8", "replace"))


def parse_twitch_timestamp(value: str) -> datetime:
    """Parse an RFC 3339 timestamp as Twitch sends it into a UTC-aware datetime.

    Digits beyond microseconds are dropped (datetime cannot hold them). Raises ValueError.
    """
    match = _TIMESTAMP_RE.match(value.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0").ljust(6, "0")[:6])
    if zone in ("Z", "z"):
        tz: timezone = UTC
    else:
        sign_ = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tz = timezone(sign_ * offset)
    try:
        parsed = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=tz
        )
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. year 1 with a positive offset: not a time Twitch sends
        raise ValueError(f"timestamp out of range: {value!r}") from None


def format_twitch_timestamp(dt: datetime, nanos: int | None = None) -> str:
    """Format ``dt`` as Twitch does: UTC, nine fractional digits, ``Z``.

    ``nanos`` (0-999) adds the sub-microsecond digits a datetime cannot carry.
    """
    if dt.tzinfo is None:
        raise ValueError("a naive datetime has no defined instant")
    if nanos is not None and not 0 <= nanos <= 999:
        raise ValueError("nanos must be between 0 and 999")
    utc = dt.astimezone(UTC)
    fraction = f"{utc.microsecond:06d}{(nanos or 0):03d}"
    # strftime's %Y drops leading zeros on glibc (year 999 -> "999"), so build it by hand.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{fraction}Z"
    )
