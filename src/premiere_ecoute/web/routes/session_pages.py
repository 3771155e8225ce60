"""Pages of a streamer's sessions (SPEC §9): my sessions, prepare a new one, the control page
and its live stream. Commands live in ``session_actions``, reports in ``session_reports``."""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sse_starlette.sse import EventSourceResponse

from premiere_ecoute.core.errors import DomainError, Unauthorized
from premiere_ecoute.sessions import queries
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.deps import container_of
from premiere_ecoute.web.routes import session_actions, session_player, session_reports
from premiere_ecoute.web.routes.forms import actor_of, csrf_token
from premiere_ecoute.web.routes.pages import render
from premiere_ecoute.web.routes.session_forms import (
    STREAMER_ROLES,
    csrf_ok,
    error_page,
    form_defaults,
    gettext_for,
    login_redirect,
    parse_prepare_form,
    refusal,
    render_fragment,
    see_other,
    session_access,
)

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)
router.include_router(session_actions.router)
router.include_router(session_player.router)
router.include_router(session_reports.router)
OVERLAY_MODES = ("full", "score", "streamer", "both", "player", "votes")


@router.get("/sessions")
async def my_sessions(
    request: Request, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> Response:
    user = await page_user(request)
    if user is None:
        return login_redirect()
    async with container_of(request).db.session() as s:
        listing = await queries.sessions_of(s, user.id, page=page)
    return await render(
        request,
        "sessions.html",
        user=user,
        title=gettext_for(request)("My sessions"),
        listing=listing,
        can_prepare=user.role in STREAMER_ROLES,
        csrf_token=csrf_token(request),
    )


async def _new_form(
    request: Request, values: dict[str, Any], error: str | None = None, status: int = 200
) -> Response:
    user = await page_user(request)
    if user is None:
        return login_redirect()
    _ = gettext_for(request)
    if user.role not in STREAMER_ROLES:
        return await error_page(
            request,
            403,
            _("Switch to a streamer account on your account page to run listening sessions."),
        )
    response = await render(
        request,
        "session_new.html",
        user=user,
        title=_("New session"),
        values=values,
        error=error,
        csrf_token=csrf_token(request),
    )
    response.status_code = status
    return response


@router.get("/sessions/new")
async def new_session(request: Request) -> Response:
    return await _new_form(request, form_defaults())


@router.get("/sessions/new/search")
async def search_albums(request: Request, q: str = "") -> HTMLResponse:
    """HTML fragment for the search box of /sessions/new."""
    _ = gettext_for(request)
    if await page_user(request) is None:
        return render_fragment(
            request, "_session_feedback.html", 401, ok=False, message=_("Please log in.")
        )
    query = q.strip()[:200]
    if len(query) < 2:
        return render_fragment(request, "_session_search.html", albums=[], query=query)
    try:
        albums = await container_of(request).ports.catalog.search_albums(query, 10)
    except DomainError as exc:
        return render_fragment(
            request, "_session_feedback.html", refusal(exc), ok=False, message=exc.message
        )
    return render_fragment(request, "_session_search.html", albums=albums, query=query)


@router.post("/sessions/new")
async def prepare_session(request: Request) -> Response:
    user = await page_user(request)
    if user is None:
        return login_redirect()
    form = await request.form()
    values = form_defaults(form)
    _ = gettext_for(request)
    if not csrf_ok(request, form):
        return await _new_form(
            request, values, _("This form has expired: please submit it again."), 403
        )
    if user.role not in STREAMER_ROLES:
        return await _new_form(request, values)
    try:
        command = parse_prepare_form(form, user.id, _)
        row = await container_of(request).bus.execute(command, actor=actor_of(request, user))
    except DomainError as exc:
        return await _new_form(request, values, exc.message, refusal(exc))
    return see_other(f"/sessions/{row.id}")


async def _devices(
    request: Request, detail: dict[str, Any], owner_id: int
) -> tuple[list[Any], str | None]:
    """Devices of the owner's Spotify player for a Spotify session not yet over, and why
    they could not be listed (the page opens without them)."""
    if detail["playback"] != "spotify" or detail["status"] == "stopped":
        return [], None
    try:
        return list(await container_of(request).ports.playback.list_devices(owner_id)), None
    except DomainError as exc:
        log.info("web.control.devices_refused", session_id=detail["id"], error=exc.message)
        return [], gettext_for(request)(exc.message) if exc.message else None
    except Exception as exc:  # the picker is optional: the page must open without it
        log.warning("web.control.devices_failed", session_id=detail["id"], error=repr(exc)[:200])
        return [], gettext_for(request)("Spotify did not list your devices.")


@router.get("/sessions/{session_id:int}")
async def control_page(request: Request, session_id: int) -> Response:
    if await page_user(request) is None:
        return login_redirect()
    try:
        access = await session_access(request, session_id)
    except DomainError as exc:
        return await error_page(request, refusal(exc), exc.message)
    c = container_of(request)
    async with c.db.session() as s:
        report = await queries.report(s, session_id)
        latest_votes = await queries.latest_votes(s, session_id)
    detail = access.detail
    devices, devices_error = await _devices(request, detail, access.owner.id)
    return await render(
        request,
        "session_control.html",
        user=access.user,
        title=detail["source"]["name"],
        session=detail,
        report=report,
        owner=access.owner,
        devices=devices,
        devices_error=devices_error,
        latest_votes=latest_votes,
        csrf_token=csrf_token(request),
        base_url=c.settings.base_url.rstrip("/"),
        overlay_modes=OVERLAY_MODES,
    )


@router.get("/sessions/{session_id:int}/stream")
async def control_stream(request: Request, session_id: int) -> EventSourceResponse:
    """Live snapshots for the control page (browser session: owner or admin)."""
    if await page_user(request) is None:
        raise Unauthorized(gettext_for(request)("Please log in."))
    await session_access(request, session_id)
    return EventSourceResponse(
        request.app.state.live.events(f"session:{session_id}", "control"), ping=15
    )
