"""The fake Twitch identity server: a login page listing demo users, token, validate, revoke."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from premiere_ecoute.apis.twitch.fake import identity
from premiere_ecoute.apis.twitch.fake.pages import page
from premiere_ecoute.apis.twitch.fake.state import FakeTwitch


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"status": status, "message": message}, status_code=status)


def _redirect(redirect_uri: str, params: dict[str, str]) -> RedirectResponse:
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + separator + urlencode(params), status_code=302)


def oauth_router(state: FakeTwitch) -> APIRouter:
    router = APIRouter(prefix="/oauth2")

    @router.get("/authorize", response_class=HTMLResponse)
    async def authorize_page(request: Request) -> Response:
        query = request.query_params
        if not query.get("redirect_uri") or query.get("response_type") != "code":
            return HTMLResponse(page("Fake Twitch", "<p>Missing redirect_uri or code.</p>"), 400)
        if state.client_id and query.get("client_id") != state.client_id:
            return HTMLResponse(page("Fake Twitch", "<p>Unknown client_id.</p>"), 400)
        buttons = "".join(
            f'<button name="login" value="{escape(login)}">{escape(login)}'
            f" <small>{escape(identity.fake_broadcaster_type(login) or 'viewer')}</small>"
            "</button>"
            for login in state.demo_logins
        )
        scopes = escape(query.get("scope", ""))
        body = (
            "<p>This is the <strong>fake Twitch</strong>: pick who you are.</p>"
            f'<form method="post" class="users">{buttons}</form>'
            '<form method="post"><label>Any login <input name="login" required '
            'pattern="[A-Za-z0-9_]{1,25}" autofocus></label> <button>Log in</button></form>'
            '<form method="post"><button name="deny" value="1">Cancel</button></form>'
            f"<p><small>Scopes asked: {scopes}</small></p>"
        )
        return HTMLResponse(page("Log in to (fake) Twitch", body))

    @router.post("/authorize")
    async def authorize(request: Request) -> Response:
        query = request.query_params
        redirect_uri = query.get("redirect_uri", "")
        if not redirect_uri:
            return HTMLResponse(page("Fake Twitch", "<p>Missing redirect_uri.</p>"), 400)
        form = await request.form()
        passthrough = {"state": query["state"]} if "state" in query else {}
        if form.get("deny"):
            return _redirect(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "The user denied you access",
                    **passthrough,
                },
            )
        login = identity.normalise_login(str(form.get("login", "")))
        if login is None:
            return HTMLResponse(page("Fake Twitch", "<p>That is not a Twitch login.</p>"), 400)
        scopes = query.get("scope", "").split()
        code = state.issue_code(login, redirect_uri, scopes)
        return _redirect(redirect_uri, {"code": code, "scope": " ".join(scopes), **passthrough})

    @router.post("/token")
    async def token(request: Request) -> Response:
        form = await request.form()
        fields = {key: str(value) for key, value in form.items()}
        if state.client_id and fields.get("client_id") != state.client_id:
            return _error(403, "invalid client")
        if state.client_secret and fields.get("client_secret") != state.client_secret:
            return _error(403, "invalid client secret")
        grant = fields.get("grant_type")
        if grant == "client_credentials":
            return JSONResponse(state.app_token())
        if grant == "authorization_code":
            redeemed = state.redeem_code(fields.get("code", ""), fields.get("redirect_uri", ""))
            if redeemed is None:
                return _error(400, "Invalid authorization code")
            login, scopes = redeemed
            return JSONResponse(state.user_tokens(login, scopes))
        if grant == "refresh_token":
            owner = identity.login_from_refresh_token(fields.get("refresh_token", ""))
            if owner is None or fields.get("refresh_token") in state.expired_tokens:
                return _error(400, "Invalid refresh token")
            return JSONResponse(state.refreshed_tokens(owner))
        return _error(400, "unsupported grant type")

    @router.get("/validate")
    async def validate(request: Request) -> Response:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        principal = state.principal(token) if scheme.lower() in ("oauth", "bearer") else None
        if principal is None:
            return _error(401, "invalid access token")
        info: dict[str, object] = {
            "client_id": state.client_id or "fake-client",
            "scopes": [] if principal.user is None else list(state.scopes_of(principal.user.login)),
            "expires_in": 3600,
        }
        if principal.user is not None:
            info.update(login=principal.user.login, user_id=principal.user.id)
        return JSONResponse(info)

    @router.post("/revoke")
    async def revoke(request: Request) -> Response:
        form = await request.form()
        token = str(form.get("token", ""))
        if state.principal(token) is None:
            return _error(400, "Invalid token")
        state.expire_token(token)
        return Response(status_code=200)

    return router
