"""`/account` and `/account/follows` (SPEC §1, §9): connections, role switch, own Spotify app,
personal API tokens, data export, account deletion; following streamers.

Every POST carries the session's CSRF token. A refused action shows the page again with the
reason and a 4xx status; a successful one redirects (303) with a message."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from premiere_ecoute.accounts import queries
from premiere_ecoute.accounts.commands import (
    CreateApiToken,
    DeleteAccount,
    FollowStreamer,
    RevokeApiToken,
    SetSpotifyApp,
    SwitchRole,
    UnfollowStreamer,
)
from premiere_ecoute.accounts.models import User
from premiere_ecoute.accounts.repository import end_web_sessions
from premiere_ecoute.apis.twitch.models import MARKER_SCOPE
from premiere_ecoute.core.errors import N_, DomainError, ValidationFailed, refuse
from premiere_ecoute.sessions.queries import export_of, followed_streamers
from premiere_ecoute.web.auth import SESSION_ID_KEY, USER_KEY, current_session_id, page_user
from premiere_ecoute.web.deps import deps
from premiere_ecoute.web.forms import (
    IMPERSONATOR_KEY,
    actor_of,
    checked_form,
    error_page,
    flash,
    gettext_for,
    render_page,
    run_form_action,
    signed_in,
    translate_error,
)

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)
LOGIN_URL = "/auth/twitch/login"
TOKEN_NAME_MAX = 100
NEW_TOKEN_KEY = "new_api_token"

Action = Callable[[User, dict[str, str]], Awaitable[str]]


async def account_view(
    request: Request,
    user: User,
    *,
    status: int = 200,
    errors: list[str] | None = None,
    new_token: str | None = None,
) -> Response:
    c = deps(request)
    async with c.db.session() as s:
        links = await queries.connections(s, user.id)
        tokens = await queries.api_tokens(s, user.id)
        browser_sessions = await queries.web_session_count(s, user.id)
    _ = gettext_for(request)
    return render_page(
        request,
        "account.html",
        user=user,
        status=status,
        errors=errors,
        title=_("Account"),
        twitch=links.get("twitch"),
        spotify=links.get("spotify"),
        markers_granted=MARKER_SCOPE in str((links.get("twitch") or {}).get("scopes", "")).split(),
        tokens=tokens,
        new_token=new_token,
        browser_sessions=browser_sessions,
    )


async def follows_view(
    request: Request, user: User, *, status: int = 200, errors: list[str] | None = None
) -> Response:
    c = deps(request)
    query = request.query_params.get("q", "")[:50]
    async with c.db.session() as s:
        followed = await followed_streamers(s, user.id)
        candidates = await queries.streamers_to_follow(s, user.id, query)
    _ = gettext_for(request)
    return render_page(
        request,
        "follows.html",
        user=user,
        status=status,
        errors=errors,
        title=_("Followed streamers"),
        followed=followed,
        candidates=candidates,
        query=query,
    )


async def _act(
    request: Request,
    action: Action,
    *,
    back: str,
    view: Callable[..., Awaitable[Response]],
) -> Response:
    """Run ``action`` for the signed-in user; success redirects to ``back`` with its message,
    a refusal shows ``view`` again with the reason and the error's status."""
    try:
        user = await signed_in(request)
    except DomainError as exc:
        return await error_page(request, exc)
    return await run_form_action(request, user, action, back=back, view=view)


@router.get("/account")
async def account(request: Request) -> Response:
    user = await page_user(request)
    if user is None:
        return RedirectResponse(LOGIN_URL, status_code=303)
    new_token = request.session.pop(NEW_TOKEN_KEY, None)
    response = await account_view(request, user, new_token=new_token)
    if new_token:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/role")
async def switch_role(request: Request) -> Response:
    async def run(user: User, form: dict[str, str]) -> str:
        role = form.get("role", "")
        await deps(request).bus.execute(
            SwitchRole(user_id=user.id, role=role, keep_session=current_session_id(request)),
            actor=actor_of(request, user),
        )
        _ = gettext_for(request)
        return _("You are now a streamer.") if role == "streamer" else _("You are now a viewer.")

    return await _act(request, run, back="/account", view=account_view)


@router.post("/account/spotify-app")
async def set_spotify_app(request: Request) -> Response:
    async def run(user: User, form: dict[str, str]) -> str:
        client_id = form.get("client_id", "").strip()
        if not client_id:
            raise refuse(ValidationFailed, N_("Enter the client ID of your Spotify app."))
        await deps(request).bus.execute(
            SetSpotifyApp(
                user_id=user.id,
                client_id=client_id,
                client_secret=form.get("client_secret", "").strip(),
            ),
            actor=actor_of(request, user),
        )
        _ = gettext_for(request)
        return _("Your Spotify app is saved. Reconnect Spotify to use it.")

    return await _act(request, run, back="/account", view=account_view)


@router.post("/account/spotify-app/remove")
async def remove_spotify_app(request: Request) -> Response:
    async def run(user: User, form: dict[str, str]) -> str:
        await deps(request).bus.execute(
            SetSpotifyApp(user_id=user.id, client_id="", client_secret=""),
            actor=actor_of(request, user),
        )
        _ = gettext_for(request)
        return _("Your Spotify app is removed; the instance's app is used.")

    return await _act(request, run, back="/account", view=account_view)


@router.post("/account/tokens")
async def create_token(request: Request) -> Response:
    """The new token is shown once, on the account page this redirects to: it is stored
    hashed."""
    try:
        user = await signed_in(request)
        form = await checked_form(request)
        name = " ".join(form.get("name", "").split())
        if not name or len(name) > TOKEN_NAME_MAX:
            raise refuse(ValidationFailed, N_("Give the token a name of 1 to 100 characters."))
        token: str = await deps(request).bus.execute(
            CreateApiToken(user_id=user.id, name=name), actor=actor_of(request, user)
        )
    except DomainError as exc:
        current = await page_user(request)
        if current is None:
            return await error_page(request, exc)
        message = translate_error(request, exc)
        return await account_view(request, current, status=exc.status_code, errors=[message])
    # Post/redirect/get: a reload of the page that shows the token creates nothing. The token
    # waits in the signed session for that one GET, which shows it once and forgets it.
    request.session[NEW_TOKEN_KEY] = token
    return RedirectResponse("/account#tokens", status_code=303)


@router.post("/account/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: int) -> Response:
    async def run(user: User, form: dict[str, str]) -> str:
        await deps(request).bus.execute(
            RevokeApiToken(user_id=user.id, token_id=token_id), actor=actor_of(request, user)
        )
        _ = gettext_for(request)
        return _("The token is revoked.")

    return await _act(request, run, back="/account", view=account_view)


@router.get("/account/export")
async def export(request: Request) -> Response:
    user = await page_user(request)
    if user is None:
        return RedirectResponse(LOGIN_URL, status_code=303)
    c = deps(request)
    async with c.db.session() as s:
        data: dict[str, Any] | None = await queries.export(s, c.kernel.store, user.id)
        if data is not None:
            data.update(await export_of(s, user))
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="premiere-ecoute-{user.login}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/account/delete")
async def delete_account(request: Request) -> Response:
    try:
        user = await signed_in(request)
    except DomainError as exc:
        return await error_page(request, exc)
    try:
        form = await checked_form(request)
        await deps(request).bus.execute(
            DeleteAccount(
                actor_id=int(request.session.get(IMPERSONATOR_KEY) or user.id),
                user_id=user.id,
                confirm_login=form.get("confirm_login", ""),
            ),
            actor=actor_of(request, user),
        )
    except DomainError as exc:
        message = translate_error(request, exc)
        return await account_view(request, user, status=exc.status_code, errors=[message])
    admin_id = request.session.get(IMPERSONATOR_KEY)
    session_id = current_session_id(request)  # the admin's, when impersonating
    request.session.clear()
    _ = gettext_for(request)
    if admin_id:
        # An admin who deleted the account they were viewing goes back to their own.
        request.session[USER_KEY] = int(admin_id)
        request.session[SESSION_ID_KEY] = session_id
        flash(request, "success", _("The account is deleted."))
        return RedirectResponse("/admin/users", status_code=303)
    flash(request, "success", _("Your account and its data are deleted."))
    return RedirectResponse("/", status_code=303)


@router.post("/account/sessions/end")
async def end_sessions(request: Request) -> Response:
    """Log out everywhere: every browser session of the user ends, this one included."""
    try:
        user = await signed_in(request)
        await checked_form(request)
    except DomainError as exc:
        return await error_page(request, exc)
    if request.session.get(IMPERSONATOR_KEY):
        _ = gettext_for(request)
        return await account_view(
            request,
            user,
            status=403,
            errors=[_("Stop the impersonation to end this user's sessions.")],
        )
    async with deps(request).db.session() as s:
        ended = await end_web_sessions(s, user.id)
        await s.commit()
    log.info("accounts.sessions.ended", user_id=user.id, sessions=ended)
    request.session.clear()
    _ = gettext_for(request)
    flash(request, "success", _("You are logged out on every device."))
    return RedirectResponse("/", status_code=303)


@router.get("/account/follows")
async def follows(request: Request) -> Response:
    user = await page_user(request)
    if user is None:
        return RedirectResponse(LOGIN_URL, status_code=303)
    return await follows_view(request, user)


@router.post("/account/follows")
async def follow(request: Request) -> Response:
    async def run(user: User, form: dict[str, str]) -> str:
        streamer: User = await deps(request).bus.execute(
            FollowStreamer(user_id=user.id, streamer_login=form.get("login", "")),
            actor=actor_of(request, user),
        )
        _ = gettext_for(request)
        return _("You now follow %(login)s.") % {"login": streamer.login}

    return await _act(request, run, back="/account/follows", view=follows_view)


@router.post("/account/follows/{streamer_id}/unfollow")
async def unfollow(request: Request, streamer_id: int) -> Response:
    async def run(user: User, form: dict[str, str]) -> str:
        await deps(request).bus.execute(
            UnfollowStreamer(user_id=user.id, streamer_id=streamer_id),
            actor=actor_of(request, user),
        )
        _ = gettext_for(request)
        return _("You no longer follow this streamer.")

    return await _act(request, run, back="/account/follows", view=follows_view)
