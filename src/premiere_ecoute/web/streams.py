"""SSE endpoints: the session stream (API), the public page and the overlay.

The audience's streams (``/live/{login}/stream``, ``/overlay/{login}/stream``) can number
thousands per streamer, so ``AudienceStreams`` serves them as a plain ASGI app ahead of the
framework (``web.app.Shortcuts``): no middleware wraps their frames, and the streamer's id
is remembered for a few seconds instead of being read from the database on every connect.

The dashboard's "Live now" card follows ``/live-now/stream``."""

from __future__ import annotations

import json
import time

import structlog
from fastapi import APIRouter, Depends, Request
from sse_starlette.sse import EventSourceResponse
from starlette.types import Receive, Scope, Send

from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.queries import user_by_login
from premiere_ecoute.core.db import Database
from premiere_ecoute.core.errors import N_, Unauthorized, refuse
from premiere_ecoute.sessions import queries
from premiere_ecoute.web.access import check_results_readable
from premiere_ecoute.web.auth import api_user, page_user
from premiere_ecoute.web.deps import kernel
from premiere_ecoute.web.live import LiveHub

log = structlog.get_logger(__name__)
router = APIRouter()
KINDS = {"live": "live", "overlay": "overlay"}


def hub(request: Request) -> LiveHub:
    live: LiveHub = request.app.state.live
    return live


@router.get("/api/v1/sessions/{session_id}/stream", tags=["v1"])
async def session_stream(
    request: Request, session_id: int, user: User = Depends(api_user)
) -> EventSourceResponse:
    await check_results_readable(request, session_id, user)
    return hub(request).stream(f"session:{session_id}", "api")


@router.get("/live-now/stream", include_in_schema=False)
async def live_now_stream(request: Request) -> EventSourceResponse:
    """``live-now`` each time a streamer the user follows starts or stops a session."""
    user = await page_user(request)
    if user is None:
        raise refuse(Unauthorized, N_("Please log in."))
    async with kernel(request).db.session() as s:
        followed = await queries.followed_streamers(s, user.id)
    return hub(request).following({int(f["id"]) for f in followed})


class AudienceStreams:
    """``GET /live/{login}/stream`` and ``GET /overlay/{login}/stream`` as plain ASGI."""

    def __init__(self, hub: LiveHub, db: Database, *, remember_s: float = 10.0) -> None:
        self._hub = hub
        self._db = db
        self._remember_s = remember_s
        self._ids: dict[str, tuple[int, float]] = {}

    @staticmethod
    def match(path: str) -> tuple[str, str] | None:
        """(kind, login) when ``path`` is an audience stream."""
        parts = path.split("/")
        # "", kind, login, "stream"
        if len(parts) == 4 and parts[3] == "stream" and parts[1] in KINDS and parts[2]:
            return KINDS[parts[1]], parts[2]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = self.match(scope["path"])
        assert matched is not None
        kind, login = matched
        if scope["method"] not in ("GET", "HEAD"):
            await _json(send, 405, "method_not_allowed", "use GET", [(b"allow", b"GET, HEAD")])
            return
        try:
            user_id = await self._streamer_id(login)
        except Exception:
            log.warning("live.stream.lookup_failed", exc_info=True)
            await _json(send, 503, "unavailable", "try again shortly", [(b"retry-after", b"5")])
            return
        if user_id is None:
            await _json(send, 404, "not_found", f"no streamer named {login[:40]!r}")
            return
        await self._hub.serve(f"streamer:{user_id}", kind, receive, send)

    async def _streamer_id(self, login: str) -> int | None:
        now = time.monotonic()
        known = self._ids.get(login)
        if known is not None and known[1] > now:
            return known[0]
        async with self._db.session() as s:
            user = await user_by_login(s, login)
        if user is None:
            return None  # not remembered: a streamer who signs up is found at once
        if len(self._ids) > 10_000:
            self._ids.clear()
        self._ids[login] = (user.id, now + self._remember_s)
        return user.id


async def _json(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
