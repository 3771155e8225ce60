"""SSE endpoints: the session stream (API), the public page and the overlay."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sse_starlette.sse import EventSourceResponse

from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.queries import user_by_login
from premiere_ecoute.core.errors import NotFound
from premiere_ecoute.web.access import check_results_readable
from premiere_ecoute.web.auth import api_user
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
    await check_results_readable(request, session_id, user)
    return hub(request).stream(f"session:{session_id}", "api")


async def _streamer(request: Request, login: str) -> User:
    async with kernel(request).db.session() as s:
        user = await user_by_login(s, login)
    if user is None:
        raise NotFound(f"no streamer named {login[:40]!r}")
    return user


@router.get("/live/{login}/stream")
async def live_stream(request: Request, login: str) -> EventSourceResponse:
    user = await _streamer(request, login)
    return hub(request).stream(f"streamer:{user.id}", "live")


@router.get("/overlay/{login}/stream")
async def overlay_stream(request: Request, login: str) -> EventSourceResponse:
    user = await _streamer(request, login)
    return hub(request).stream(f"streamer:{user.id}", "overlay")
