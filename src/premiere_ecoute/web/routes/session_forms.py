"""Shared pieces of the session pages: who may see a session, CSRF, the prepare form, locale.

Access rules (SPEC §3, §9): the control page, its stream and its commands belong to the owner
or an admin; the report of a stopped session is public, other reports are owner/admin only."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from premiere_ecoute.accounts.models import User
from premiere_ecoute.core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from premiere_ecoute.sessions import commands as cmd
from premiere_ecoute.sessions import queries
from premiere_ecoute.sessions.repository import get_session
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.deps import container_of
from premiere_ecoute.web.routes.forms import CSRF_KEY, gettext_for, locale_of

SCALE_PRESETS = ("0-10", "1-5", "smash-pass")
STREAMER_ROLES = ("streamer", "admin")


def render_fragment(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = request.app.state.templating.render(name, context, locale_of(request))
    return HTMLResponse(html, status_code=status)


def csrf_ok(request: Request, form: Mapping[str, Any]) -> bool:
    """htmx requests carry HX-Request, a header a cross-site form cannot send; plain forms
    must echo the token of the browser session (field ``csrf_token`` or X-CSRF-Token)."""
    if request.headers.get("hx-request"):
        return True
    sent = form.get("csrf_token") or request.headers.get("x-csrf-token")
    expected = request.session.get(CSRF_KEY)
    return (
        isinstance(sent, str)
        and isinstance(expected, str)
        and bool(expected)
        and hmac.compare_digest(sent, expected)
    )


def login_redirect() -> RedirectResponse:
    return RedirectResponse("/auth/twitch/login", status_code=303)


async def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    from premiere_ecoute.web.routes.pages import render

    response = await render(request, "error.html", status_code=status, message=message)
    response.status_code = status
    return response


@dataclass
class Access:
    """A session as a page shows it, and who is looking (``user`` is None when anonymous)."""

    user: User | None
    owner: User
    detail: dict[str, Any]

    @property
    def session_id(self) -> int:
        return int(self.detail["id"])


def may_manage(user: User | None, owner_id: int) -> bool:
    return user is not None and (user.id == owner_id or user.is_admin)


async def session_access(
    request: Request, session_id: int, *, public_if_stopped: bool = False
) -> Access:
    """The session and its owner; raises NotFound, or Forbidden unless the caller may see it."""
    _ = gettext_for(request)
    c = container_of(request)
    user = await page_user(request)
    async with c.db.session() as s:
        row = await get_session(s, session_id)
        owner = await s.get(User, row.user_id)
        if owner is None:
            raise NotFound(_("This session no longer has a streamer."))
        public = public_if_stopped and row.status == "stopped"
        if not public and not may_manage(user, row.user_id):
            raise Forbidden(_("Only the streamer who runs this session can open this page."))
        detail = await queries.session_view(s, row)
    return Access(user=user, owner=owner, detail=detail)


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
    )


def form_defaults(form: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Values the prepare form shows: the defaults, overridden by what was submitted."""
    values: dict[str, Any] = {
        "source": "",
        "scale": "0-10",
        "custom_scale": "",
        "vote_mode": "chat",
        "stream_delay_s": "0",
        "poll_duration_s": "120",
        "auto_advance": True,
        "playback": "",
    }
    if form is not None:
        for key in values:
            if key != "auto_advance":
                values[key] = str(form.get(key) or "")
        values["source"] = values["source"] or str(form.get("album") or "")
        values["auto_advance"] = str(form.get("auto_advance") or "") in ("on", "true", "1")
    return values


def refusal(exc: DomainError) -> int:
    """Status of a refused page command: the domain's own, 4xx or 5xx, never a 500."""
    return exc.status_code if exc.status_code != 500 else 502


def see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)
