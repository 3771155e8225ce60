"""SSE endpoints: the session stream (API), the public page, the overlay and the
dashboard's "Live now" card."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sse_starlette.sse import EventSourceResponse

from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.queries import user_by_login
from premiere_ecoute.core.errors import N_, NotFound, Unauthorized, refuse
from premiere_ecoute.sessions import queries
from premiere_ecoute.web.auth import api_user, page_user
from premiere_ecoute.web.deps import kernel
from premiere_ecoute.web.live import LiveHub

router = APIRouter()


def hub(request: Request) -> LiveHub:
    live: LiveHub = request.app.state.live
    return live


@router.get("/api/v1/sessions/{session_id}/stream", tags=["v1"])
async def session_stream(
    request: Request, session_id: int, user: User = Depends(api_user)
) -> EventSourceResponse:
    async with kernel(request).db.session() as s:
        await queries.check_readable(s, session_id, user.id, user.is_admin)
    return hub(request).stream(f"session:{session_id}", "api")


async def _streamer(request: Request, login: str) -> User:
    async with kernel(request).db.session() as s:
        user = await user_by_login(s, login)
    if user is None:
        raise refuse(NotFound, N_("no streamer named '%(login)s'"), login=login[:40])
    return user


@router.get("/live/{login}/stream")
async def live_stream(request: Request, login: str) -> EventSourceResponse:
    user = await _streamer(request, login)
    return hub(request).stream(f"streamer:{user.id}", "live")


@router.get("/overlay/{login}/stream")
async def overlay_stream(request: Request, login: str) -> EventSourceResponse:
    user = await _streamer(request, login)
    return hub(request).stream(f"streamer:{user.id}", "overlay")


@router.get("/live-now/stream", include_in_schema=False)
async def live_now_stream(request: Request) -> EventSourceResponse:
    """``live-now`` each time a streamer the user follows starts or stops a session."""
    user = await page_user(request)
    if user is None:
        raise refuse(Unauthorized, N_("Please log in."))
    async with kernel(request).db.session() as s:
        followed = await queries.followed_streamers(s, user.id)
    return hub(request).following({int(f["id"]) for f in followed})
