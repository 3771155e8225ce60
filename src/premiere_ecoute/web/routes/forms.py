"""What the account and admin pages share: CSRF tokens for POST forms, flash messages,
translated domain errors, the impersonation banner, and rendering with a status code."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from premiere_ecoute.accounts.account import N_, fail
from premiere_ecoute.accounts.models import Role, User
from premiere_ecoute.core.errors import DomainError, Forbidden, Unauthorized
from premiere_ecoute.web.auth import page_user
from premiere_ecoute.web.i18n import LOCALE_COOKIE, negotiate_locale

CSRF_KEY = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
FLASH_KEY = "flashes"
IMPERSONATOR_KEY = "impersonator_id"
IMPERSONATOR_LOGIN_KEY = "impersonator_login"


def locale_of(request: Request) -> str:
    return negotiate_locale(
        request.query_params.get("locale"),
        request.cookies.get(LOCALE_COOKIE),
        request.headers.get("accept-language"),
    )


def gettext_for(request: Request) -> Callable[[str], str]:
    translate: Callable[[str], str] = request.app.state.templating.gettext(locale_of(request))
    return translate


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


async def checked_form(request: Request) -> dict[str, str]:
    """The submitted form, refused (403) unless it carries this browser session's CSRF token
    in the ``csrf_token`` field or the ``X-CSRF-Token`` header."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    sent = values.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    expected = request.session.get(CSRF_KEY)
    if not isinstance(expected, str) or not expected or not sent:
        raise fail(Forbidden, N_("This form has expired. Reload the page and try again."))
    if not hmac.compare_digest(expected.encode(), sent.encode("utf-8", "replace")):
        raise fail(Forbidden, N_("This form has expired. Reload the page and try again."))
    return values


def translate_error(request: Request, error: DomainError) -> str:
    gettext = gettext_for(request)
    msgid = getattr(error, "msgid", None)
    if msgid is None:
        return gettext(error.message)
    params = getattr(error, "params", {}) or {}
    return gettext(msgid) % params if params else gettext(msgid)


def flash(request: Request, level: str, message: str) -> None:
    # Assigned (not appended in place) so the session knows it changed and re-signs it.
    pending = list(request.session.get(FLASH_KEY) or [])
    request.session[FLASH_KEY] = [*pending, {"level": level, "message": message}]


async def signed_in(request: Request) -> User:
    user = await page_user(request)
    if user is None:
        raise fail(Unauthorized, N_("Log in to see this page."))
    return user


async def admin_user(request: Request) -> User:
    user = await signed_in(request)
    if user.role != Role.ADMIN.value:
        raise fail(Forbidden, N_("This page is for admins only."))
    return user


def render_page(
    request: Request,
    name: str,
    *,
    user: User | None,
    status: int = 200,
    errors: list[str] | None = None,
    **context: Any,
) -> HTMLResponse:
    flashes = list(request.session.pop(FLASH_KEY, []) or [])
    flashes += [{"level": "error", "message": message} for message in errors or []]
    values = {
        "user": user,
        "request_path": request.url.path,
        "csrf_token": csrf_token(request),
        "impersonating": request.session.get(IMPERSONATOR_LOGIN_KEY),
        "flashes": flashes,
        **context,
    }
    html = request.app.state.templating.render(name, values, locale_of(request))
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, error: DomainError, user: User | None = None) -> HTMLResponse:
    return render_page(
        request,
        "error.html",
        user=user,
        status=error.status_code,
        status_code=error.status_code,
        message=translate_error(request, error),
    )


def actor_of(request: Request, user: User) -> str:
    """Who runs a command, as the event log records it: an impersonation stays visible."""
    admin_id = request.session.get(IMPERSONATOR_KEY)
    return f"admin:{admin_id} as user:{user.id}" if admin_id else f"user:{user.id}"


FormAction = Callable[[User, dict[str, str]], Awaitable[str]]
FormView = Callable[..., Awaitable[Response]]


async def run_form_action(
    request: Request, user: User, action: FormAction, *, back: str, view: FormView
) -> Response:
    """Run ``action`` for ``user`` with the checked form: success redirects to ``back`` with
    its message; a refusal shows ``view`` again with the reason and the error's status."""
    try:
        form = await checked_form(request)
        message = await action(user, form)
    except DomainError as exc:
        return await view(
            request, user, status=exc.status_code, errors=[translate_error(request, exc)]
        )
    flash(request, "success", message)
    return RedirectResponse(back, status_code=303)
