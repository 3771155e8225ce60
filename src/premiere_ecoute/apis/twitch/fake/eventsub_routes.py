"""Fake EventSub: subscriptions (Helix), the WebSocket server at ``/ws``, and test hooks.

A webhook subscription goes through Twitch's real handshake: it stays
``webhook_callback_verification_pending`` until the callback echoes a signed challenge.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, Request, Response, WebSocket, WebSocketDisconnect

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.apis.twitch.fake import delivery
from premiere_ecoute.apis.twitch.fake.helix_routes import (
    HelixError,
    json_body,
    principal_dependency,
)
from premiere_ecoute.apis.twitch.fake.state import (
    FakeSubscription,
    FakeTwitch,
    Principal,
    WsSession,
)

SUPPORTED = {
    "channel.chat.message": ("1", ("broadcaster_user_id", "user_id")),
    "channel.poll.begin": ("1", ("broadcaster_user_id",)),
    "channel.poll.progress": ("1", ("broadcaster_user_id",)),
    "channel.poll.end": ("1", ("broadcaster_user_id",)),
}
MAX_TOTAL_COST = 10_000


def _validated(state: FakeTwitch, principal: Principal, body: dict[str, Any]) -> FakeSubscription:
    type_, version = body.get("type"), body.get("version")
    condition, transport = body.get("condition"), body.get("transport")
    spec = SUPPORTED.get(str(type_))
    if spec is None or spec[0] != version:
        raise HelixError(
            400, "The combination of values in the type and version fields is not valid"
        )
    if not isinstance(condition, dict) or any(not condition.get(key) for key in spec[1]):
        raise HelixError(400, f"The condition must have {', '.join(spec[1])}")
    if not isinstance(transport, dict):
        raise HelixError(400, "The transport field is required")
    sub = FakeSubscription(
        id=state.new_id(),
        type=str(type_),
        version=str(version),
        condition={k: str(v) for k, v in condition.items()},
        method=str(transport.get("method")),
        created_at=state.timestamp(),
        status="webhook_callback_verification_pending",
    )
    if sub.method == "webhook":
        if principal.kind != "app":
            raise HelixError(401, "The webhook transport requires an app access token")
        sub.callback, sub.secret = (
            str(transport.get("callback", "")),
            str(transport.get("secret", "")),
        )
        if not sub.callback.startswith(("https://", "http://")):
            raise HelixError(400, "The callback must be an HTTPS URL")
        if not 10 <= len(sub.secret) <= 100:
            raise HelixError(400, "The secret must be 10 to 100 characters long")
    elif sub.method == "websocket":
        if principal.user is None:
            raise HelixError(401, "The websocket transport requires a user access token")
        sub.session_id = str(transport.get("session_id", ""))
        if sub.session_id not in state.ws_sessions:
            raise HelixError(
                400, "websocket transport session does not exist or has already disconnected"
            )
        authoriser = sub.condition.get("user_id") or sub.condition["broadcaster_user_id"]
        if authoriser != principal.user.id:
            raise HelixError(403, "subscription missing proper authorization")
        sub.owner_id, sub.status = principal.user.id, "enabled"
    else:
        raise HelixError(400, "The transport method must be webhook or websocket")
    return sub


def _visible(sub: FakeSubscription, principal: Principal) -> bool:
    if principal.user is None:
        return sub.method == "webhook"
    return sub.method == "websocket" and sub.owner_id == principal.user.id


def _same(a: FakeSubscription, b: FakeSubscription) -> bool:
    return (a.type, a.condition, a.method, a.callback, a.session_id) == (
        b.type,
        b.condition,
        b.method,
        b.callback,
        b.session_id,
    )


def eventsub_router(state: FakeTwitch) -> APIRouter:
    router = APIRouter()
    authenticate = principal_dependency(state)

    def totals(principal: Principal) -> dict[str, int]:
        mine = [s for s in state.subscriptions.values() if _visible(s, principal)]
        cost = sum(s.public()["cost"] for s in mine)
        return {"total": len(mine), "total_cost": cost, "max_total_cost": MAX_TOTAL_COST}

    @router.post("/helix/eventsub/subscriptions", status_code=202)
    async def create(request: Request, response: Response) -> Any:
        principal = await authenticate(request, response)
        sub = _validated(state, principal, await json_body(request))
        # Like Twitch, a revoked or failed subscription does not block a new one.
        live = ("enabled", "webhook_callback_verification_pending")
        if any(_same(sub, o) and o.status in live for o in state.subscriptions.values()):
            raise HelixError(409, "subscription already exists")
        state.subscriptions[sub.id] = sub
        if sub.method == "webhook":
            state.spawn(delivery.verify_callback(state, sub))
        return {"data": [sub.public()], **totals(principal)}

    @router.get("/helix/eventsub/subscriptions")
    async def list_(request: Request, response: Response) -> Any:
        principal = await authenticate(request, response)
        query = request.query_params
        subs = [s for s in state.subscriptions.values() if _visible(s, principal)]
        if query.get("status"):
            subs = [s for s in subs if s.status == query["status"]]
        if query.get("type"):
            subs = [s for s in subs if s.type == query["type"]]
        if query.get("user_id"):
            subs = [s for s in subs if query["user_id"] in s.condition.values()]
        if query.get("subscription_id"):
            subs = [s for s in subs if s.id == query["subscription_id"]]
        after = query.get("after") or "0"
        offset = int(after) if after.isdigit() else 0
        size = state.list_page_size
        page = subs[offset : offset + size]
        more = offset + size < len(subs)
        return {
            "data": [s.public() for s in page],
            **totals(principal),
            "pagination": {"cursor": str(offset + size)} if more else {},
        }

    @router.delete("/helix/eventsub/subscriptions", status_code=204)
    async def delete(request: Request, response: Response) -> Response:
        principal = await authenticate(request, response)
        sub = state.subscriptions.get(request.query_params.get("id", ""))
        if sub is None or not _visible(sub, principal):
            raise HelixError(404, "subscription not found")
        del state.subscriptions[sub.id]
        limits = {k: v for k, v in response.headers.items() if k.lower().startswith("ratelimit")}
        return Response(status_code=204, headers=limits)

    @router.post("/eventsub/subscriptions/{subscription_id}/revoke")
    async def revoke(subscription_id: str, status: str = "authorization_revoked") -> Any:
        sub = state.subscriptions.get(subscription_id)
        if sub is None:
            raise HelixError(404, "subscription not found")
        await delivery.revoke(state, sub, status)
        return sub.public()

    @router.post("/ws/{session_id}/reconnect")
    async def ask_reconnect(session_id: str) -> Any:
        session = state.ws_sessions.get(session_id)
        if session is None:
            raise HelixError(404, "no such WebSocket session")
        payload = envelope.session_payload(
            session.id, "reconnecting", session.connected_at, None, session.reconnect_url
        )
        frame = envelope.ws_frame("session_reconnect", payload, state.new_id(), state.timestamp())
        session.outbox.put_nowait(frame)
        return {"reconnect_url": session.reconnect_url}

    @router.websocket("/ws")
    async def websocket(socket: WebSocket) -> None:
        await serve_session(state, socket)

    return router


async def serve_session(state: FakeTwitch, socket: WebSocket) -> None:
    """One EventSub WebSocket connection: welcome, keepalives, frames from the outbox."""
    await socket.accept()
    previous = state.ws_sessions.get(socket.query_params.get("reconnect", ""))
    session_id = previous.id if previous is not None else state.new_id()
    session = WsSession(id=session_id, connected_at=state.timestamp())
    session.reconnect_url = str(socket.url.replace(query=f"reconnect={session_id}"))
    state.ws_sessions[session_id] = session
    welcome = envelope.session_payload(
        session_id, "connected", session.connected_at, state.keepalive_timeout_s
    )
    await socket.send_text(
        envelope.ws_frame("session_welcome", welcome, state.new_id(), state.timestamp())
    )
    if previous is not None:
        previous.outbox.put_nowait(None)  # the old connection closes once the new one is up
    receiver = asyncio.ensure_future(_first_inbound(socket))
    interval = max(0.5, state.keepalive_timeout_s * 0.75)
    try:
        while True:
            getter = asyncio.ensure_future(session.outbox.get())
            done, _ = await asyncio.wait(
                {getter, receiver}, timeout=interval, return_when=asyncio.FIRST_COMPLETED
            )
            if getter in done:
                frame = getter.result()
                if frame is None:
                    await socket.close(code=1000)
                    return
                await socket.send_text(frame)
            else:
                getter.cancel()
            if receiver in done:
                if receiver.result():
                    # Twitch allows no inbound traffic (other than pongs) and closes with 4001.
                    await socket.close(code=4001, reason="Client sent inbound traffic")
                return
            if not done:
                keepalive = envelope.ws_frame(
                    "session_keepalive", {}, state.new_id(), state.timestamp()
                )
                await socket.send_text(keepalive)
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        receiver.cancel()
        if state.ws_sessions.get(session_id) is session:
            del state.ws_sessions[session_id]
            for sub in state.subscriptions.values():
                if sub.session_id == session_id and sub.status == "enabled":
                    sub.status = "websocket_disconnected"


async def _first_inbound(socket: WebSocket) -> bool:
    """True when the client sent a message, False when it disconnected."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        message = await socket.receive()
        return message.get("type") == "websocket.receive"
    return False
