"""The fake Helix API: users, chat messages, polls, followed channels (EventSub in its own module).

Answers have Twitch's shapes, including errors (``{"error", "status", "message"}``) and the
``Ratelimit-*`` headers of a per-token bucket.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.apis.twitch.eventsub.signing import format_twitch_timestamp
from premiere_ecoute.apis.twitch.fake import delivery
from premiere_ecoute.apis.twitch.fake.state import (
    FakePoll,
    FakePollChoice,
    FakeTwitch,
    FakeUser,
    Principal,
)
from premiere_ecoute.apis.twitch.models import MARKER_DESCRIPTION_MAX, MARKER_SCOPE


class HelixError(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        body = {
            "error": HTTPStatus(self.status).phrase,
            "status": self.status,
            "message": self.message,
        }
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def principal_dependency(state: FakeTwitch) -> Callable[..., Awaitable[Principal]]:
    async def authenticate(request: Request, response: Response) -> Principal:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HelixError(401, "OAuth token is missing")
        if not request.headers.get("Client-Id"):
            raise HelixError(401, "Client ID is missing")
        principal = state.principal(token)
        if principal is None:
            raise HelixError(401, "Invalid OAuth token")
        allowed, headers = state.take_point(token)
        response.headers.update(headers)
        if not allowed:
            raise HelixError(429, "Too Many Requests", headers)
        return principal

    return authenticate


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise HelixError(400, "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise HelixError(400, "The request body must be a JSON object")
    return body


def user_json(user: FakeUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "login": user.login,
        "display_name": user.display_name,
        "type": "",
        "broadcaster_type": user.broadcaster_type,
        "description": f"{user.display_name} on the fake Twitch.",
        "profile_image_url": "",
        "offline_image_url": "",
        "view_count": 0,
        "created_at": "2020-01-01T00:00:00Z",
    }


def poll_json(poll: FakePoll) -> dict[str, Any]:
    return {
        "id": poll.id,
        "broadcaster_id": poll.broadcaster.id,
        "broadcaster_name": poll.broadcaster.display_name,
        "broadcaster_login": poll.broadcaster.login,
        "title": poll.title,
        "choices": [
            {
                "id": c.id,
                "title": c.title,
                "votes": c.votes,
                "channel_points_votes": 0,
                "bits_votes": 0,
            }
            for c in poll.choices
        ],
        "bits_voting_enabled": False,
        "bits_per_vote": 0,
        "channel_points_voting_enabled": False,
        "channel_points_per_vote": 0,
        "status": poll.status,
        "duration": poll.duration,
        "started_at": format_twitch_timestamp(poll.started_at),
        "ended_at": format_twitch_timestamp(poll.ended_at) if poll.ended_at else None,
    }


def _as_broadcaster(principal: Principal, broadcaster_id: object) -> FakeUser:
    """Polls need the broadcaster's own user token, as on Twitch."""
    if principal.user is None:
        raise HelixError(401, "The Authorization header must contain a user access token")
    if principal.user.id != broadcaster_id:
        raise HelixError(401, "The ID in broadcaster_id must match the user ID in the access token")
    return principal.user


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    try:
        return int(raw) if raw else default
    except ValueError:
        raise HelixError(400, f"The {name} query parameter is not valid") from None


async def end_poll(state: FakeTwitch, poll: FakePoll, status: str) -> None:
    poll.status = status
    poll.ended_at = state.now()
    await delivery.poll_update(state, poll, "end")


async def _complete_on_time(state: FakeTwitch, poll: FakePoll) -> None:
    await asyncio.sleep(poll.duration)
    if poll.status == "ACTIVE":
        await end_poll(state, poll, "COMPLETED")


def helix_router(state: FakeTwitch) -> APIRouter:
    router = APIRouter(prefix="/helix")
    authenticated = Depends(principal_dependency(state))

    @router.get("/users")
    async def get_users(request: Request, principal: Principal = authenticated) -> Any:
        ids = request.query_params.getlist("id")
        logins = request.query_params.getlist("login")
        if len(ids) + len(logins) > 100:
            raise HelixError(400, "The number of IDs and logins may not exceed 100")
        if not ids and not logins:
            if principal.user is None:
                raise HelixError(400, "Missing required parameter: id or login")
            return {"data": [user_json(principal.user)]}
        found: list[FakeUser] = []
        for user_id in ids:
            user = state.user_by_id(user_id)
            if user is not None:
                found.append(user)
        for login in logins:
            try:
                found.append(state.user(login))
            except ValueError:
                continue
        return {"data": [user_json(user) for user in found]}

    @router.post("/chat/messages")
    async def send_chat_message(request: Request, principal: Principal = authenticated) -> Any:
        body = await json_body(request)
        text = body.get("message")
        if not isinstance(text, str) or not text.strip():
            raise HelixError(400, "The message field is required")
        if len(text) > 500:
            raise HelixError(400, "The message is limited to 500 characters")
        broadcaster = state.user_by_id(str(body.get("broadcaster_id", "")))
        sender = state.user_by_id(str(body.get("sender_id", "")))
        if broadcaster is None:
            raise HelixError(400, "The ID in broadcaster_id is not valid")
        if sender is None:
            raise HelixError(400, "The ID in sender_id is not valid")
        if principal.user is not None and principal.user.id != sender.id:
            raise HelixError(403, "The sender must be the user in the access token")
        line = state.record_chat(broadcaster.id, sender, text, "api")
        event = envelope.chat_message_event(
            broadcaster.id, broadcaster.login, sender.id, sender.login, text, line.message_id
        )
        state.spawn(
            delivery.deliver_to_channel(state, broadcaster.id, "channel.chat.message", event)
        )
        return {"data": [{"message_id": line.message_id, "is_sent": True, "drop_reason": None}]}

    @router.post("/polls")
    async def create_poll(request: Request, principal: Principal = authenticated) -> Any:
        body = await json_body(request)
        broadcaster = _as_broadcaster(principal, body.get("broadcaster_id"))
        if not broadcaster.broadcaster_type:
            raise HelixError(403, "The broadcaster is not a partner or affiliate.")
        title, choices, duration = body.get("title"), body.get("choices"), body.get("duration")
        if not isinstance(title, str) or not 1 <= len(title) <= 60:
            raise HelixError(400, "The title field is required and may contain 60 characters")
        if not isinstance(choices, list) or not 2 <= len(choices) <= 5:
            raise HelixError(400, "number of choices should be 2 to 5")
        titles = [c.get("title") if isinstance(c, dict) else None for c in choices]
        if any(not isinstance(t, str) or not 1 <= len(t) <= 25 for t in titles):
            raise HelixError(400, "Each choice title is required and may contain 25 characters")
        if not isinstance(duration, int) or not 15 <= duration <= 1800:
            raise HelixError(400, "The value in duration is outside the allowed range of values")
        if state.active_poll(broadcaster.id) is not None:
            raise HelixError(400, "The broadcaster already has an active poll")
        poll = FakePoll(
            id=state.new_id(),
            broadcaster=broadcaster,
            title=title,
            choices=[FakePollChoice(state.new_id(), str(t)) for t in titles],
            duration=duration,
            started_at=state.now(),
        )
        state.polls[poll.id] = poll
        state.spawn(delivery.poll_update(state, poll, "begin"))
        state.spawn(_complete_on_time(state, poll), timer=True)
        return {"data": [poll_json(poll)]}

    @router.patch("/polls")
    async def patch_poll(request: Request, principal: Principal = authenticated) -> Any:
        body = await json_body(request)
        broadcaster = _as_broadcaster(principal, body.get("broadcaster_id"))
        status = body.get("status")
        if status not in ("TERMINATED", "ARCHIVED"):
            raise HelixError(400, "The value in the status field is not valid")
        poll = state.polls.get(str(body.get("id", "")))
        if poll is None or poll.broadcaster.id != broadcaster.id:
            raise HelixError(400, "The ID in the id field is not valid")
        if poll.status != "ACTIVE":
            raise HelixError(400, "The poll must be active to terminate or archive it")
        poll.status, poll.ended_at = str(status), state.now()
        state.spawn(delivery.poll_update(state, poll, "end"))
        return {"data": [poll_json(poll)]}

    @router.get("/polls")
    async def get_polls(request: Request, principal: Principal = authenticated) -> Any:
        broadcaster = _as_broadcaster(principal, request.query_params.get("broadcaster_id"))
        wanted = set(request.query_params.getlist("id"))
        polls = [
            p
            for p in reversed(list(state.polls.values()))
            if p.broadcaster.id == broadcaster.id and (not wanted or p.id in wanted)
        ]
        return {"data": [poll_json(p) for p in polls[:20]], "pagination": {}}

    @router.post("/streams/markers")
    async def create_stream_marker(request: Request, principal: Principal = authenticated) -> Any:
        # Twitch's order: the token (user, scope), the body, the rights, then the stream.
        if principal.user is None:
            raise HelixError(401, "The Authorization header must contain a user access token")
        if MARKER_SCOPE not in state.scopes_of(principal.user.login):
            raise HelixError(401, f"Missing scope: {MARKER_SCOPE}")
        body = await json_body(request)
        user_id, description = body.get("user_id"), body.get("description", "")
        if not isinstance(user_id, str) or not user_id:
            raise HelixError(400, "The user_id field is required")
        if not isinstance(description, str) or len(description) > MARKER_DESCRIPTION_MAX:
            raise HelixError(400, "The length of the string in the description field is too long")
        if principal.user.id != user_id:
            raise HelixError(
                403,
                "The user in the access token is not authorized to create video markers "
                "for the user in the user_id field",
            )
        if user_id in state.offline:
            raise HelixError(404, "The user in the user_id field is not streaming live")
        marker = state.add_marker(user_id, description)
        return {
            "data": [
                {
                    "id": marker.id,
                    "created_at": format_twitch_timestamp(marker.created_at),
                    "description": marker.description,
                    "position_seconds": marker.position_seconds,
                }
            ]
        }

    @router.get("/channels/followed")
    async def followed(request: Request, principal: Principal = authenticated) -> Any:
        user_id = request.query_params.get("user_id")
        if principal.user is None or principal.user.id != user_id:
            raise HelixError(401, "The user_id must match the user ID in the user access token")
        first = min(max(_int_param(request, "first", 20), 1), 100)
        offset = max(_int_param(request, "after", 0), 0)
        pairs = state.followed(principal.user)
        page = pairs[offset : offset + first]
        data = [
            {
                "broadcaster_id": user.id,
                "broadcaster_login": user.login,
                "broadcaster_name": user.display_name,
                "followed_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            for user, at in page
        ]
        more = offset + first < len(pairs)
        pagination = {"cursor": str(offset + first)} if more else {}
        return {"total": len(pairs), "data": data, "pagination": pagination}

    return router
