"""One JSON error format (SPEC §11): ``{"error": {"code", "message"}}`` with a fitting status.

Bad input never becomes a 500 or a traceback. Pages get an HTML error page instead. Messages
are in the reader's language: the JSON API's by ``Accept-Language``, pages' as pages choose."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Mapping
from typing import Any

import psycopg
import psycopg_pool
import structlog
from fastapi import FastAPI, Request
from fastapi import routing as fastapi_routing
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import DataError as SQLDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from premiere_ecoute.core.errors import N_, DomainError, ExternalServiceError, refuse
from premiere_ecoute.web.forms import api_locale, gettext_for, locale_of, printable, translate_error

log = structlog.get_logger(__name__)
DB_RETRY_AFTER_S = 5
# Errors that mean "the database cannot be reached right now" (stopped, restarting, pool
# exhausted), not "this request is wrong": a 503 with Retry-After, no traceback.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
    ConnectionRefusedError,
)
_LOG_EVERY_S = 10.0

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
    503: "service_unavailable",
}


# Framework answers (no route, wrong method...), in the catalogs; other details as they are.
_HTTP_MESSAGES = {
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    413: N_("Request Entity Too Large"),
    415: N_("Unsupported Media Type"),
    429: N_("Too Many Requests"),
}
# What pydantic says of a request field, by error type; other types keep pydantic's words.
_FIELD_MESSAGES = {
    "missing": N_("Field required"),
    "json_invalid": N_("JSON decode error"),
    "model_attributes_type": N_("Input should be a valid object"),
    "dict_type": N_("Input should be a valid object"),
    "string_type": N_("Input should be a valid string"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "list_type": N_("Input should be a valid list"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "greater_than_equal": N_("Input should be greater than or equal to %(ge)s"),
    "less_than_equal": N_("Input should be less than or equal to %(le)s"),
    "string_too_short": N_("String should have at least %(min_length)s characters"),
    "string_too_long": N_("String should have at most %(max_length)s characters"),
    "string_pattern_mismatch": N_("String should match pattern '%(pattern)s'"),
    "literal_error": N_("Input should be %(expected)s"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
}
CONTROL_CHARACTERS = N_("must not contain control characters or invalid unicode")


def _locale(request: Request) -> str:
    return api_locale(request) if request.url.path.startswith("/api/") else locale_of(request)


def _translate(request: Request, error: DomainError) -> str:
    try:
        return translate_error(request, error, _locale(request))
    except Exception:  # no templating (a bare app in tests): the English message
        return printable(error.message)


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
    message = printable(message)
    if wants_json(request):
        return JSONResponse(
            error_body(code, message),
            status_code=status,
            headers=dict(headers) if headers else None,
        )
    render = getattr(request.app.state, "render_error", None)
    if render is not None:
        response: Response = await render(request, status, message)
    else:
        response = HTMLResponse(f"<h1>{status}</h1><p>{message}</p>", status_code=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this request's path (405's ``Allow``): the router
    names the methods of the first matching route only."""
    walk = getattr(fastapi_routing, "iter_route_contexts", None)  # lazily included routers
    routes = request.app.router.routes
    entries = list(walk(routes)) if walk else list(routes)
    path = request.url.path
    methods: set[str] = set()
    for entry in entries:
        route_path, route_methods = getattr(entry, "path", None), getattr(entry, "methods", None)
        if route_path and route_methods and _path_regex(route_path).match(path):
            methods |= set(route_methods)
    return sorted(methods)


@functools.cache
def _path_regex(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def is_database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, DATABASE_UNAVAILABLE)


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


def _field_message(request: Request, err: Mapping[str, Any]) -> str:
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    msgid = _FIELD_MESSAGES.get(str(err.get("type", "")))
    if msgid is None and msg == CONTROL_CHARACTERS:
        msgid = CONTROL_CHARACTERS
    if msgid is None:
        return msg
    ctx = err.get("ctx") or {}
    params = {k: str(v) for k, v in ctx.items()} if isinstance(ctx, Mapping) else {}
    try:
        error = DomainError(msgid % params if "%(" in msgid else msgid)
    except (KeyError, ValueError, TypeError):
        return msg
    error.msgid, error.params = msgid, params if "%(" in msgid else {}
    return _translate(request, error)


def _validation_message(request: Request, exc: RequestValidationError) -> str:
    parts: list[str] = []
    for err in exc.errors():
        loc = _field(err.get("loc", ()))
        msg = _field_message(request, err)
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
        return await _respond(request, exc.status_code, exc.code, _translate(request, exc), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return await _respond(request, 422, "validation_failed", _validation_message(request, exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        # The framework's phrases are msgids (``_HTTP_MESSAGES``); a detail is looked up as is.
        message = _translate(request, refuse(DomainError, message))
        headers = exc.headers
        if exc.status_code == 405:
            # The router names the methods of the first route on the path only.
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return await _respond(request, exc.status_code, code, message, headers)

    async def _unstorable(request: Request, exc: Exception) -> Response:
        # A safety net, not the validation itself: PostgreSQL refused a value of the request
        # (a number out of range, a NUL character...). Logged so the missing check gets added.
        log.warning("http.unstorable_value", path=request.url.path, error=str(exc)[:300])
        unstorable = N_(
            "A value of the request is out of range or holds characters that cannot be stored."
        )
        return await _respond(
            request, 422, "validation_failed", _translate(request, refuse(DomainError, unstorable))
        )

    app.add_exception_handler(SQLDataError, _unstorable)
    app.add_exception_handler(psycopg.DataError, _unstorable)

    last_logged = [0.0]

    async def _database_unavailable(request: Request, exc: Exception) -> Response:
        if not is_database_unavailable(exc):
            return await _unexpected(request, exc)
        web_deps = getattr(request.app.state, "deps", None)
        if web_deps is not None:
            web_deps.kernel.metrics.db_unavailable.inc()
        now = time.monotonic()
        if now - last_logged[0] >= _LOG_EVERY_S:  # one line per outage burst, no traceback
            last_logged[0] = now
            first_line = (str(exc).splitlines() or [""])[0][:200]
            log.warning(
                "http.database_unavailable",
                path=request.url.path,
                error=f"{type(exc).__name__}: {first_line}",
            )
        _ = gettext_for(request)
        return await _respond(
            request,
            503,
            "service_unavailable",
            _("The service is briefly unavailable. Please try again in a few seconds."),
            {"Retry-After": str(DB_RETRY_AFTER_S)},
        )

    # DBAPIError: SQLAlchemy wraps psycopg's errors in it (its DataError has its own handler
    # above); what is not an outage goes on to the 500 handler.
    kinds: tuple[type[Exception], ...] = (sa_exc.DBAPIError, *DATABASE_UNAVAILABLE)
    for kind in kinds:
        app.add_exception_handler(kind, _database_unavailable)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("http.unhandled", path=request.url.path)
        oops = refuse(DomainError, N_("Something went wrong on our side."))
        return await _respond(request, 500, "internal_error", _translate(request, oops))
