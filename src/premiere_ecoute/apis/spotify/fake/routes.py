"""``create_fake_spotify_app``: the fake's accounts service, covers, and Web API in one app.

Mounted by the web app at ``/_fake/spotify`` in development; tests reach it through
``httpx.ASGITransport``. Paths mirror Spotify's two hosts: ``/authorize`` and ``/api/token``
(accounts), ``/v1/...`` (Web API).
"""

from __future__ import annotations

import asyncio
import base64
import html
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from premiere_ecoute.apis.spotify.fake.api_routes import SpotifyHTTPError, build_api_router
from premiere_ecoute.apis.spotify.fake.state import FakeSpotify, OAuthError

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Fake Spotify - authorize</title>
<style>body{{font-family:sans-serif;background:#121212;color:#eee;max-width:32rem;margin:4rem auto}}
button{{background:#1db954;border:0;border-radius:2rem;padding:.7rem 2rem;font-size:1rem}}
input{{padding:.4rem}}</style></head>
<body><h1>Fake Spotify</h1>
<p>The app <strong>{client_id}</strong> asks to use your Spotify account:</p>
<p><code>{scope}</code></p>
<form method="post" action="authorize">
{hidden}
<p><label>Fake Spotify account <input name="account" value="demo"></label></p>
<p><button type="submit" name="decision" value="allow">Authorize</button>
<button type="submit" name="decision" value="deny">Cancel</button></p>
</form></body></html>
"""


def _relative_path(request: Request) -> str:
    path = request.scope["path"]
    root = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _client_id(request: Request, form_client_id: str | None) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
        except ValueError:
            return ""
        return decoded.partition(":")[0]
    return form_client_id or ""


def create_fake_spotify_app(state: FakeSpotify) -> FastAPI:
    app = FastAPI(title="Fake Spotify", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.fake_spotify = state
    # Route parameters below are called ``state`` (OAuth's word), hence this alias.
    fake = state

    @app.middleware("http")
    async def inject_failures(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = _relative_path(request)
        fake.requests.append((request.method, path))
        failure = fake.take_failure(request.method, path)
        if failure is None:
            return await call_next(request)
        if failure.status == "timeout":
            await asyncio.sleep(fake.timeout_s)
            return await call_next(request)
        status = int(failure.status)
        error = SpotifyHTTPError(status, f"Injected failure {status}", failure.reason)
        response = error.response()
        if failure.retry_after is not None:
            response.headers["Retry-After"] = str(int(failure.retry_after))
        return response

    @app.exception_handler(SpotifyHTTPError)
    async def spotify_error(request: Request, exc: SpotifyHTTPError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Spotify answers 400 (not FastAPI's 422) for bad parameters.
        return SpotifyHTTPError(400, f"Invalid request: {exc.errors()[0]['msg']}").response()

    @app.get("/authorize", response_class=HTMLResponse)
    async def authorize_page(
        client_id: str,
        response_type: str,
        redirect_uri: str,
        state: str = "",
        scope: str = "",
        code_challenge: str = "",
        code_challenge_method: str = "",
    ) -> HTMLResponse:
        if response_type != "code":
            return HTMLResponse("unsupported response_type", status_code=400)
        fields = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": code_challenge_method,
        }
        hidden = "\n".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items()
        )
        page = _PAGE.format(
            client_id=html.escape(client_id), scope=html.escape(scope), hidden=hidden
        )
        return HTMLResponse(page)

    @app.post("/authorize")
    async def authorize_decision(
        client_id: str = Form(...),
        redirect_uri: str = Form(...),
        state: str = Form(""),
        code_challenge: str = Form(""),
        code_challenge_method: str = Form(""),
        account: str = Form("demo"),
        decision: str = Form("allow"),
    ) -> RedirectResponse:
        if decision != "allow":
            query = urlencode({"error": "access_denied", "state": state})
            return RedirectResponse(f"{redirect_uri}?{query}", status_code=303)
        challenge = code_challenge if code_challenge_method == "S256" and code_challenge else None
        owner = "fake-spotify-" + (account.strip() or "demo")
        code = fake.issue_code(owner, client_id, redirect_uri, challenge)
        query = urlencode({"code": code, "state": state})
        return RedirectResponse(f"{redirect_uri}?{query}", status_code=303)

    @app.post("/api/token")
    async def token(
        request: Request,
        grant_type: str = Form(...),
        code: str = Form(""),
        redirect_uri: str = Form(""),
        code_verifier: str = Form(""),
        refresh_token: str = Form(""),
        client_id: str | None = Form(None),
    ) -> JSONResponse:
        caller = _client_id(request, client_id)
        if not caller:
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        try:
            if grant_type == "authorization_code":
                body = fake.exchange_code(code, redirect_uri, code_verifier or None, caller)
            elif grant_type == "refresh_token":
                body = fake.refresh(refresh_token)
            elif grant_type == "client_credentials":
                body = fake.client_credentials(caller)
            else:
                return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        except OAuthError as exc:
            payload = {"error": exc.error, "error_description": exc.description}
            return JSONResponse(payload, status_code=400)
        return JSONResponse(body)

    @app.get("/covers/{item_id}.svg", name="fake_spotify_cover")
    async def cover(item_id: str) -> Response:
        color = fake.catalogue.cover_color(item_id) or "#444444"
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 300">'
            f'<rect width="300" height="300" fill="{html.escape(color)}"/>'
            '<circle cx="150" cy="150" r="90" fill="none" stroke="#fff" stroke-width="6"/>'
            '<circle cx="150" cy="150" r="12" fill="#fff"/></svg>'
        )
        return Response(svg, media_type="image/svg+xml")

    app.include_router(build_api_router())
    return app
