"""Editing and deleting a session from the pages: the settings of a session still being
prepared (``ChangeSettings``), and deleting a session that is not running (``DeleteSession``,
after a confirmation page, so stale "Preparing" rows do not pile up)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from premiere_ecoute.core.errors import DomainError, ValidationFailed
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.web.access import Access, session_access
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.deps import deps
from premiere_ecoute.web.forms import (
    actor_of,
    csrf_ok,
    csrf_token,
    error_page,
    flash,
    gettext_for,
    login_redirect,
    refusal,
    render,
    see_other,
    translate_error,
)

router = APIRouter(include_in_schema=False)
SCALE_PRESETS = ("0-10", "1-5", "smash-pass")


def settings_values(
    detail: Mapping[str, Any], form: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What the edit form shows: the session's settings, or what was submitted."""
    options = list(detail["scale"]["options"])
    preset = _preset_of(options)
    values: dict[str, Any] = {
        "scale": preset,
        "custom_scale": ", ".join(options) if preset == "custom" else "",
        "vote_mode": detail["vote_mode"],
        "stream_delay_s": str(detail["stream_delay_s"]),
        "poll_duration_s": str(detail["poll_duration_s"]),
        "auto_advance": bool(detail["auto_advance"]),
        "playback": detail["playback"],
    }
    if form is not None:
        for key in values:
            if key != "auto_advance":
                values[key] = str(form.get(key) or "")
        values["auto_advance"] = str(form.get("auto_advance") or "") in ("on", "true", "1")
    return values


def _preset_of(options: list[str]) -> str:
    if options == [str(n) for n in range(11)]:
        return "0-10"
    if options == [str(n) for n in range(1, 6)]:
        return "1-5"
    if [o.casefold() for o in options] == ["smash", "pass"]:
        return "smash-pass"
    return "custom"


def _whole(form: Mapping[str, Any], name: str, message: str, errors: list[str]) -> int | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        errors.append(message)
        return None


def parse_settings_form(
    form: Mapping[str, Any], session_id: int, actor_id: int, gettext: Callable[[str], str]
) -> cmd.ChangeSettings:
    """The edit form as a command; every problem of the form in one readable message."""
    _ = gettext
    errors: list[str] = []
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
    delay = _whole(
        form, "stream_delay_s", _("The stream delay must be a whole number of seconds."), errors
    )
    poll = _whole(
        form, "poll_duration_s", _("The poll duration must be a whole number of seconds."), errors
    )
    playback = str(form.get("playback") or "").strip() or None
    if errors:
        raise ValidationFailed(" ".join(errors))
    return cmd.ChangeSettings(
        session_id=session_id,
        actor_id=actor_id,
        scale=scale,
        vote_mode=str(form.get("vote_mode") or "chat"),
        stream_delay_s=delay,
        poll_duration_s=poll,
        auto_advance=str(form.get("auto_advance") or "") in ("on", "true", "1"),
        playback=playback,
    )


async def _edit_page(
    request: Request,
    access: Access,
    values: dict[str, Any],
    error: str | None = None,
    status: int = 200,
) -> Response:
    page = await render(
        request,
        "session_edit.html",
        user=access.user,
        title=gettext_for(request)("Edit the session"),
        session=access.detail,
        values=values,
        error=error,
        csrf_token=csrf_token(request),
    )
    page.status_code = status
    return page


@router.get("/sessions/{session_id:int}/edit")
async def edit_session(request: Request, session_id: int) -> Response:
    if await page_user(request) is None:
        return login_redirect()
    try:
        access = await session_access(request, session_id)
    except DomainError as exc:
        return await error_page(request, exc)
    if access.detail["status"] != "preparing":
        flash(request, "error", gettext_for(request)("Only a session being prepared can change."))
        return see_other(f"/sessions/{session_id}")
    return await _edit_page(request, access, settings_values(access.detail))


@router.post("/sessions/{session_id:int}/edit")
async def save_session(request: Request, session_id: int) -> Response:
    user = await page_user(request)
    if user is None:
        return login_redirect()
    _ = gettext_for(request)
    try:
        access = await session_access(request, session_id)
    except DomainError as exc:
        return await error_page(request, exc)
    form = await request.form()
    values = settings_values(access.detail, form)
    if not csrf_ok(request, form):
        message = _("This form has expired: please submit it again.")
        return await _edit_page(request, access, values, message, 403)
    try:
        command = parse_settings_form(form, session_id, user.id, _)
        await deps(request).bus.execute(command, actor=actor_of(request, user))
    except DomainError as exc:
        message = translate_error(request, exc)
        return await _edit_page(request, access, values, message, refusal(exc))
    flash(request, "success", _("The session's settings are saved."))
    return see_other(f"/sessions/{session_id}")


@router.get("/sessions/{session_id:int}/delete")
async def confirm_delete(request: Request, session_id: int) -> Response:
    if await page_user(request) is None:
        return login_redirect()
    try:
        access = await session_access(request, session_id)
    except DomainError as exc:
        return await error_page(request, exc)
    return await render(
        request,
        "session_delete.html",
        user=access.user,
        title=gettext_for(request)("Delete the session"),
        session=access.detail,
        csrf_token=csrf_token(request),
    )


@router.post("/sessions/{session_id:int}/delete")
async def delete_session(request: Request, session_id: int) -> Response:
    user = await page_user(request)
    if user is None:
        return login_redirect()
    _ = gettext_for(request)
    try:
        await session_access(request, session_id)
        form = await request.form()
        if not csrf_ok(request, form):
            flash(request, "error", _("This form has expired: please submit it again."))
            return see_other(f"/sessions/{session_id}/delete")
        await deps(request).bus.execute(
            cmd.DeleteSession(session_id=session_id, actor_id=user.id),
            actor=actor_of(request, user),
        )
    except DomainError as exc:
        return await error_page(request, exc)
    flash(request, "success", _("The session is deleted."))
    return see_other("/sessions")
