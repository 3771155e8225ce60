"""The session after the stream (pages): the vote timeline, the chapters as text, the VOD
form of the report page, and what the report shows of them (highlights, chapters)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from premiere_ecoute.core.errors import DomainError, Forbidden
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions import queries
from premiere_ecoute.sessions.scores.vod import clock, parse_offset
from premiere_ecoute.web.access import Access, may_manage, session_access
from premiere_ecoute.web.deps import deps
from premiere_ecoute.web.forms import (
    actor_of,
    checked_form,
    error_page,
    flash,
    gettext_for,
    render,
    see_other,
    translate_error,
)

router = APIRouter(include_in_schema=False)


async def _access(request: Request, session_id: int) -> Access | Response:
    """Public once the session is stopped, its streamer's and the admins' before."""
    try:
        return await session_access(request, session_id, public_if_stopped=True)
    except DomainError as exc:
        return await error_page(request, exc)


async def after_json(request: Request, session_id: int, offset_s: int | None) -> dict[str, Any]:
    c = deps(request)
    async with c.db.session() as s:
        after = await queries.session_after(s, c.kernel.store, session_id, now=c.clock.now())
    return after.as_json(offset_s)


async def report_extras(request: Request, session_id: int) -> dict[str, Any]:
    """What the report page shows of the session after the stream: chapters (from ``?offset=``
    or the saved VOD offset), highlights, the VOD, and an error for a bad ``?offset=``."""
    raw = request.query_params.get("offset")
    offset_error = None
    offset_s: int | None = None
    if raw is not None and raw.strip():
        try:
            offset_s = parse_offset(raw[:20])
        except DomainError as exc:
            offset_error = translate_error(request, exc)
    c = deps(request)
    async with c.db.session() as s:
        after = await queries.session_after(s, c.kernel.store, session_id, now=c.clock.now())
    data = after.as_json(offset_s)
    saved = after.row.vod_offset_s
    return {
        "after": data,
        "offset_text": clock(data["offset_s"]) if data["offset_s"] else "",
        "saved_offset_text": clock(saved) if saved else "",
        "offset_error": offset_error,
    }


@router.get("/sessions/{session_id:int}/timeline")
async def timeline_page(request: Request, session_id: int) -> Response:
    access = await _access(request, session_id)
    if isinstance(access, Response):
        return access
    data = await after_json(request, session_id, None)
    return await render(
        request,
        "timeline.html",
        user=access.user,
        title=gettext_for(request)("Vote timeline"),
        session=access.detail,
        owner=access.owner,
        after=data,
        can_manage=may_manage(access.user, access.owner.id),
    )


@router.get("/sessions/{session_id:int}/timeline.json")
async def timeline_json(request: Request, session_id: int) -> Response:
    access = await _access(request, session_id)
    if isinstance(access, Response):
        return access
    return JSONResponse(await after_json(request, session_id, None))


@router.get("/sessions/{session_id:int}/chapters.txt")
async def chapters_txt(request: Request, session_id: int) -> Response:
    access = await _access(request, session_id)
    if isinstance(access, Response):
        return access
    raw = request.query_params.get("offset")
    try:
        offset_s = parse_offset(raw[:20]) if raw is not None and raw.strip() else None
    except DomainError as exc:
        return Response(
            translate_error(request, exc) + "\n",
            status_code=exc.status_code,
            media_type="text/plain; charset=utf-8",
        )
    lines = (await after_json(request, session_id, offset_s))["chapters"]
    return Response(
        "\n".join(lines) + ("\n" if lines else ""),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="session-{session_id}-chapters.txt"'},
    )


@router.post("/sessions/{session_id:int}/vod")
async def save_vod(request: Request, session_id: int) -> Response:
    """The report's VOD form (its streamer or an admin); a refusal is an error page with the
    reason and its 4xx status."""
    from_report = f"/sessions/{session_id}/report"
    _ = gettext_for(request)
    try:
        access = await session_access(request, session_id, public_if_stopped=True)
        if not may_manage(access.user, access.owner.id):
            raise Forbidden(_("Only the streamer who runs this session can open this page."))
        assert access.user is not None
        form = await checked_form(request)
        await deps(request).bus.execute(
            cmd.SetVod(
                session_id=session_id,
                actor_id=access.user.id,
                url=form.get("vod_url", "")[:600],
                offset=form.get("vod_offset", "")[:20],
            ),
            actor=actor_of(request, access.user),
        )
    except DomainError as exc:
        return await error_page(request, exc)
    flash(request, "success", _("The video link is saved."))
    return see_other(from_report + "#vod")
