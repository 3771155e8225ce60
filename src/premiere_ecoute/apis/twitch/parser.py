"""Helix and OAuth JSON -> models. Provider JSON stops here.

Parsers are lenient about optional fields (Twitch adds fields over time) and strict about the
ones we act on: a missing ``id`` raises ``ExternalServiceError`` rather than a ``KeyError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import httpx

from premiere_ecoute.apis.twitch.models import (
    EventSubSubscription,
    FollowedChannel,
    Page,
    Poll,
    PollChoice,
    SentChatMessage,
    StreamMarker,
    TokenSet,
    TwitchUser,
)
from premiere_ecoute.core.errors import N_, ExternalServiceError, refuse

JSON = Mapping[str, Any]


def _malformed(what: str) -> ExternalServiceError:
    return refuse(
        ExternalServiceError,
        N_("Twitch sent an unexpected %(what)s"),
        extra={"service": "twitch"},
        what=what,
    )


def _str(obj: JSON, key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str | int) or value == "":
        raise _malformed(what)
    return str(value)


def _data(payload: JSON, what: str) -> list[JSON]:
    data = payload.get("data")
    if not isinstance(data, list):
        raise _malformed(what)
    return [item for item in data if isinstance(item, Mapping)]


def _first(payload: JSON, what: str) -> JSON:
    items = _data(payload, what)
    if not items:
        raise _malformed(what)
    return items[0]


def parse_datetime(value: object) -> dt.datetime | None:
    """RFC 3339 from Helix (``Z`` suffix, sometimes nanoseconds) -> aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def parse_user(item: JSON) -> TwitchUser:
    return TwitchUser(
        id=_str(item, "id", "user"),
        login=_str(item, "login", "user"),
        display_name=str(item.get("display_name") or item.get("login")),
        broadcaster_type=str(item.get("broadcaster_type") or ""),
        profile_image_url=item.get("profile_image_url") or None,
    )


def parse_users(payload: JSON) -> list[TwitchUser]:
    return [parse_user(item) for item in _data(payload, "user list")]


def parse_poll(item: JSON) -> Poll:
    raw_choices = item.get("choices")
    if not isinstance(raw_choices, list):
        raise _malformed("poll")
    choices = tuple(
        PollChoice(
            id=_str(choice, "id", "poll choice"),
            title=str(choice.get("title", "")),
            votes=int(choice.get("votes") or 0),
        )
        for choice in raw_choices
        if isinstance(choice, Mapping)
    )
    return Poll(
        id=_str(item, "id", "poll"),
        broadcaster_id=_str(item, "broadcaster_id", "poll"),
        title=str(item.get("title", "")),
        status=str(item.get("status", "INVALID")),
        choices=choices,
        duration=int(item.get("duration") or 0),
        started_at=parse_datetime(item.get("started_at")),
        ended_at=parse_datetime(item.get("ended_at")),
    )


def parse_first_poll(payload: JSON) -> Poll:
    return parse_poll(_first(payload, "poll response"))


def parse_stream_marker(payload: JSON) -> StreamMarker:
    """The marker just created (Twitch's example spells its id as a number)."""
    item = _first(payload, "stream marker response")
    marker_id = item.get("id")
    if marker_id is None or isinstance(marker_id, bool) or str(marker_id) == "":
        raise _malformed("stream marker")
    position = item.get("position_seconds")
    return StreamMarker(
        id=str(marker_id),
        description=str(item.get("description") or ""),
        position_seconds=position if isinstance(position, int) else 0,
    )


def parse_polls(payload: JSON) -> list[Poll]:
    return [parse_poll(item) for item in _data(payload, "poll list")]


def _string_map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def parse_subscription(item: JSON) -> EventSubSubscription:
    return EventSubSubscription(
        id=_str(item, "id", "EventSub subscription"),
        type=_str(item, "type", "EventSub subscription"),
        version=str(item.get("version", "1")),
        status=str(item.get("status", "")),
        condition=_string_map(item.get("condition")),
        transport=_string_map(item.get("transport")),
        created_at=parse_datetime(item.get("created_at")),
        cost=int(item.get("cost") or 0),
    )


def parse_first_subscription(payload: JSON) -> EventSubSubscription:
    return parse_subscription(_first(payload, "EventSub response"))


def _cursor(payload: JSON) -> str | None:
    pagination = payload.get("pagination")
    if isinstance(pagination, Mapping):
        cursor = pagination.get("cursor")
        if isinstance(cursor, str) and cursor:
            return cursor
    return None


def parse_subscription_page(payload: JSON) -> Page[EventSubSubscription]:
    items = tuple(parse_subscription(item) for item in _data(payload, "EventSub list"))
    return Page(items=items, cursor=_cursor(payload))


def parse_followed_page(payload: JSON) -> Page[FollowedChannel]:
    items = tuple(
        FollowedChannel(
            broadcaster_id=_str(item, "broadcaster_id", "followed channel"),
            broadcaster_login=_str(item, "broadcaster_login", "followed channel"),
            broadcaster_name=str(item.get("broadcaster_name") or item.get("broadcaster_login")),
            followed_at=parse_datetime(item.get("followed_at")),
        )
        for item in _data(payload, "followed channel list")
    )
    return Page(items=items, cursor=_cursor(payload))


def parse_sent_chat_message(payload: JSON) -> SentChatMessage:
    item = _first(payload, "chat message response")
    reason = item.get("drop_reason")
    drop = None
    if isinstance(reason, Mapping):
        drop = str(reason.get("message") or reason.get("code") or "dropped")
    return SentChatMessage(
        message_id=str(item.get("message_id") or ""),
        is_sent=bool(item.get("is_sent")),
        drop_reason=drop,
    )


def parse_token_set(payload: JSON, now: dt.datetime) -> TokenSet:
    access = payload.get("access_token")
    if not isinstance(access, str) or not access:
        raise _malformed("token response")
    expires_in = payload.get("expires_in")
    expires_at = (
        now + dt.timedelta(seconds=int(expires_in))
        if isinstance(expires_in, int | float) and expires_in > 0
        else None
    )
    scope = payload.get("scope") or ()
    scopes = tuple(scope.split()) if isinstance(scope, str) else tuple(str(s) for s in scope)
    refresh = payload.get("refresh_token")
    return TokenSet(
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_at=expires_at,
        scopes=scopes,
        token_type=str(payload.get("token_type") or "bearer"),
    )


def error_message(payload: object, fallback: str) -> str:
    """Twitch's human message from an error body (``{"error", "status", "message"}``)."""
    if isinstance(payload, Mapping):
        message = payload.get("message") or payload.get("error")
        if isinstance(message, str) and message:
            return message
    return fallback


def json_body(response: httpx.Response) -> object:
    """The JSON of an answer, or None when it has none (error pages, empty bodies)."""
    try:
        return response.json()
    except ValueError:
        return None
