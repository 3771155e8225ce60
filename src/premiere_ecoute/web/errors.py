"""One JSON error format (SPEC §11): ``{"error": {"code", "message"}}`` with a fitting status.

Bad input never becomes a 500 or a traceback. Pages get an HTML error page instead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import DataError as SQLDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from premiere_ecoute.core.errors import DomainError, ExternalServiceError

log = structlog.get_logger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/webhooks/", "/_fake/")) or path in ("/health", "/ready"):
        return True
    return "text/html" not in request.headers.get("accept", "")


async def _respond(
    request: Request, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    if wants_json(request):
        return JSONResponse(
            error_body(code, message),
            status_code=status,
            headers=dict(headers) if headers else None,
        )
    render = getattr(request.app.state, "render_error", None)
    if render is not None:
        response: Response = await render(request, status, message)
        return response
    return HTMLResponse(f"<h1>{status}</h1><p>{message}</p>", status_code=status)


_LOCATIONS = ("body", "query", "path", "header", "cookie")
# Union branches show up in pydantic's locations as type tags ("str", "list[...]"): not fields.
_TYPE_TAGS = ("str", "int", "float", "bool", "list", "dict", "none")


def _field(loc: Any) -> str:
    parts = []
    for part in loc or ():
        text = str(part)
        if part in _LOCATIONS or "[" in text or text.casefold() in _TYPE_TAGS:
            continue
        parts.append(text)
    return ".".join(parts)


def _validation_message(exc: RequestValidationError) -> str:
    parts: list[str] = []
    for err in exc.errors():
        loc = _field(err.get("loc", ()))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        part = f"{loc}: {msg}" if loc else msg
        if part not in parts:
            parts.append(part)
        if len(parts) == 5:
            break
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        headers = None
        if isinstance(exc, ExternalServiceError) and exc.retry_after_s:
            headers = {"Retry-After": str(int(exc.retry_after_s + 0.999))}
        return await _respond(request, exc.status_code, exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return await _respond(request, 422, "validation_failed", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return await _respond(request, exc.status_code, code, message, exc.headers)

    async def _unstorable(request: Request, exc: Exception) -> Response:
        # A safety net, not the validation itself: PostgreSQL refused a value of the request
        # (a number out of range, a NUL character...). Logged so the missing check gets added.
        log.warning("http.unstorable_value", path=request.url.path, error=str(exc)[:300])
        return await _respond(
            request,
            422,
            "validation_failed",
            "A value of the request is out of range or holds characters that cannot be stored.",
        )

    app.add_exception_handler(SQLDataError, _unstorable)
    app.add_exception_handler(psycopg.DataError, _unstorable)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("http.unhandled", path=request.url.path)
        return await _respond(request, 500, "internal_error", "Something went wrong on our side.")
