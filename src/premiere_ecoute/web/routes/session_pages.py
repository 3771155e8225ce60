"""Pages of a streamer's sessions (SPEC §9): my sessions, prepare a new one, the control page
and its live stream. Commands live in ``session_actions``, reports in ``session_reports``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sse_starlette.sse import EventSourceResponse

from premiere_ecoute.accounts.queries import has_connection
from premiere_ecoute.core.errors import DomainError, Unauthorized, ValidationFailed
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions import queries
from premiere_ecoute.web.access import session_access
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.checklist import checklist
from premiere_ecoute.web.deps import deps
from premiere_ecoute.web.forms import (
    actor_of,
    csrf_ok,
    csrf_token,
    error_page,
    gettext_for,
    locale_of,
    login_redirect,
    refusal,
    render,
    render_fragment,
    see_other,
    status_page,
    translate_error,
)
from premiere_ecoute.web.live import LiveHub
from premiere_ecoute.web.routes import (
    session_actions,
    session_edit,
    session_player,
    session_reports,
    session_vod,
)

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)
router.include_router(session_actions.router)
router.include_router(session_edit.router)
router.include_router(session_player.router)
router.include_router(session_reports.router)
router.include_router(session_vod.router)
OVERLAY_MODES = ("full", "score", "streamer", "both", "player", "votes")
SCALE_PRESETS = ("0-10", "1-5", "smash-pass")
STREAMER_ROLES = ("streamer", "admin")


@router.get("/sessions")
async def my_sessions(
    request: Request, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> Response:
    user = await page_user(request)
    if user is None:
        return login_redirect()
    async with deps(request).db.session() as s:
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
        return await status_page(
            request,
            403,
            _("Switch to a streamer account on your account page to run listening sessions."),
        )
    async with deps(request).db.session() as s:
        spotify_linked = await has_connection(s, user.id, "spotify")
    response = await render(
        request,
        "session_new.html",
        user=user,
        title=_("New session"),
        values=values,
        spotify_linked=spotify_linked,
        error=error,
        csrf_token=csrf_token(request),
    )
    response.status_code = status
    return response


@router.get("/sessions/new")
async def new_session(request: Request) -> Response:
    return await _new_form(request, form_defaults(language=locale_of(request)))


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
        albums = await deps(request).ports.catalog.search_albums(query, 10)
    except DomainError as exc:
        return render_fragment(
            request,
            "_session_feedback.html",
            refusal(exc),
            ok=False,
            message=translate_error(request, exc),
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
        row = await deps(request).bus.execute(command, actor=actor_of(request, user))
    except DomainError as exc:
        return await _new_form(request, values, translate_error(request, exc), refusal(exc))
    return see_other(f"/sessions/{row.id}")


async def _devices(
    request: Request, detail: dict[str, Any], owner_id: int
) -> tuple[list[Any], str | None]:
    """Devices of the owner's Spotify player for a Spotify session not yet over, and why
    they could not be listed (the page opens without them)."""
    if detail["playback"] != "spotify" or detail["status"] == "stopped":
        return [], None
    try:
        return list(await deps(request).ports.playback.list_devices(owner_id)), None
    except DomainError as exc:
        log.info("web.control.devices_refused", session_id=detail["id"], error=exc.message)
        return [], translate_error(request, exc) if exc.message else None
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
        return await error_page(request, exc)
    c = deps(request)
    async with c.db.session() as s:
        report = await queries.report(s, session_id)
        latest_votes = await queries.latest_votes(s, session_id)
    detail = access.detail
    devices, devices_error = await _devices(request, detail, access.owner.id)
    steps = (
        await checklist(request, access.owner, session_id=session_id)
        if detail["status"] != "stopped"
        else []
    )
    return await render(
        request,
        "session_control.html",
        checklist=steps,
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
    hub: LiveHub = request.app.state.live
    return hub.stream(f"session:{session_id}", "control")


def _int_field(
    form: Mapping[str, Any], name: str, default: int, message: str, errors: list[str]
) -> int:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        errors.append(message)
        return default


def parse_prepare_form(
    form: Mapping[str, Any], user_id: int, gettext: Callable[[str], str]
) -> cmd.PrepareSession:
    """Turn the form of /sessions/new into a command; raises ValidationFailed with every
    problem of the form in one readable message."""
    _ = gettext
    errors: list[str] = []
    source = str(form.get("source") or "").strip() or str(form.get("album") or "").strip()
    album: str | None = None
    playlist: str | None = None
    if not source:
        errors.append(_("Choose an album from the search, or paste a Spotify link or id."))
    elif "playlist" in source:
        playlist = source
    else:
        album = source
    preset = str(form.get("scale") or "0-10")
    scale: str | tuple[str, ...]
    if preset == "custom":
        parts = tuple(p.strip() for p in str(form.get("custom_scale") or "").split(","))
        scale = tuple(p for p in parts if p)
        if len(scale) < 2:
            errors.append(_("A custom scale needs at least two options separated by commas."))
    elif preset in SCALE_PRESETS:
        scale = preset
    else:
        errors.append(_("Choose one of the proposed scales."))
        scale = "0-10"
    delay = _int_field(
        form, "stream_delay_s", 0, _("The stream delay must be a whole number of seconds."), errors
    )
    poll = _int_field(
        form,
        "poll_duration_s",
        120,
        _("The poll duration must be a whole number of seconds."),
        errors,
    )
    final_scene = _int_field(
        form,
        "final_scene_s",
        60,
        _("The final scene duration must be a whole number of seconds."),
        errors,
    )
    playback = str(form.get("playback") or "").strip() or None
    if errors:
        raise ValidationFailed(" ".join(errors))
    return cmd.PrepareSession(
        user_id=user_id,
        album=album,
        playlist=playlist,
        scale=scale,
        vote_mode=str(form.get("vote_mode") or "chat"),
        stream_delay_s=delay,
        poll_duration_s=poll,
        auto_advance=str(form.get("auto_advance") or "") in ("on", "true", "1"),
        playback=playback,
        final_scene_s=final_scene,
        language=str(form.get("language") or "en"),
    )


def form_defaults(form: Mapping[str, Any] | None = None, language: str = "en") -> dict[str, Any]:
    """Values the prepare form shows: the defaults (announcements in the page's language),
    overridden by what was submitted."""
    values: dict[str, Any] = {
        "source": "",
        "scale": "0-10",
        "custom_scale": "",
        "vote_mode": "chat",
        "stream_delay_s": "0",
        "poll_duration_s": "120",
        "auto_advance": True,
        "playback": "",
        "final_scene_s": "60",
        "language": language,
    }
    if form is not None:
        for key in values:
            if key != "auto_advance":
                values[key] = str(form.get(key) or "")
        values["source"] = values["source"] or str(form.get("album") or "")
        values["auto_advance"] = str(form.get("auto_advance") or "") in ("on", "true", "1")
    return values
