"""What every page and form of the web layer shares: the reader's locale and gettext, the
CSRF rule, flash messages, translated domain errors, rendering pages and fragments, and
running a form action.

One CSRF rule: every state-changing request from a browser carries the browser session's
token, in the ``csrf_token`` field or the ``X-CSRF-Token`` header (htmx sends the header:
``base.html`` puts it in ``hx-headers``)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from premiere_ecoute.accounts.models import Role, User
from premiere_ecoute.core.errors import N_, DomainError, Forbidden, Msg, Unauthorized, refuse
from premiere_ecoute.web.auth import IMPERSONATOR_KEY, page_user
from premiere_ecoute.web.i18n import LOCALE_COOKIE, SUPPORTED_LOCALES, negotiate_locale

CSRF_KEY = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
FLASH_KEY = "flashes"
IMPERSONATOR_LOGIN_KEY = "impersonator_login"
EXPIRED = N_("This form has expired. Reload the page and try again.")


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


def csrf_ok(request: Request, form: Mapping[str, Any]) -> bool:
    """True when the request carries this browser session's CSRF token."""
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    expected = request.session.get(CSRF_KEY)
    return (
        isinstance(sent, str)
        and bool(sent)
        and isinstance(expected, str)
        and bool(expected)
        and hmac.compare_digest(expected.encode(), sent.encode("utf-8", "replace"))
    )


async def checked_form(request: Request) -> dict[str, str]:
    """The submitted form, refused (403) unless it passes ``csrf_ok``."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if not csrf_ok(request, values):
        raise refuse(Forbidden, EXPIRED)
    return values


def api_locale(request: Request) -> str:
    """The JSON API speaks the language of ``Accept-Language`` (no cookie, no ``?locale=``)."""
    return negotiate_locale(None, None, request.headers.get("accept-language"))


def translate_error(request: Request, error: DomainError, locale: str | None = None) -> str:
    """The refusal in the reader's language (the page's, or ``locale``): its msgid with its
    values, the values that are msgids (``Msg``) translated too. A message without a msgid
    is looked up as it is (provider messages marked with ``N_``), else shown unchanged."""
    templating = request.app.state.templating
    gettext: Callable[[str], str] = templating.gettext(locale or locale_of(request))
    if error.msgid is None:
        return printable(gettext(error.message))
    if not error.params:
        return printable(gettext(error.msgid))
    params = {k: gettext(v) if isinstance(v, Msg) else v for k, v in error.params.items()}
    try:
        return printable(gettext(error.msgid) % params)
    except (KeyError, ValueError, TypeError):  # a broken translation must not hide the refusal
        return printable(error.message)


def printable(text: str) -> str:
    """``text`` encodable as UTF-8: a value quoted from the request may hold a lone surrogate
    (``"\\ud800"`` in JSON), shown escaped instead of failing the answer."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def refusal(exc: DomainError) -> int:
    """Status of a refused command: the domain's own, 4xx or 5xx, never a 500."""
    return exc.status_code if exc.status_code != 500 else 502


def flash(request: Request, level: str, message: str) -> None:
    # Assigned (not appended in place) so the session knows it changed and re-signs it.
    pending = list(request.session.get(FLASH_KEY) or [])
    request.session[FLASH_KEY] = [*pending, {"level": level, "message": message}]


async def signed_in(request: Request) -> User:
    user = await page_user(request)
    if user is None:
        raise refuse(Unauthorized, N_("Log in to see this page."))
    return user


async def admin_user(request: Request) -> User:
    user = await signed_in(request)
    if user.role != Role.ADMIN.value:
        raise refuse(Forbidden, N_("This page is for admins only."))
    return user


def actor_of(request: Request, user: User) -> str:
    """Who runs a command, as the event log records it: an impersonation stays visible."""
    admin_id = request.session.get(IMPERSONATOR_KEY)
    return f"admin:{admin_id} as user:{user.id}" if admin_id else f"user:{user.id}"


def render_page(
    request: Request,
    name: str,
    *,
    user: User | None,
    status: int = 200,
    errors: list[str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A full page: the layout's context (user, CSRF token, impersonation, flash messages
    and ``errors``) plus ``context``. A locale chosen with ``?locale=`` is remembered."""
    flashes = list(request.session.pop(FLASH_KEY, []) or [])
    flashes += [{"level": "error", "message": message} for message in errors or []]
    values = {
        "user": user,
        "request_path": request.url.path,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "csrf_token": csrf_token(request),
        "impersonating": request.session.get(IMPERSONATOR_LOGIN_KEY),
        "flashes": flashes,
        **context,
    }
    html = request.app.state.templating.render(name, values, locale_of(request))
    response = HTMLResponse(html, status_code=status)
    chosen = request.query_params.get("locale")
    if chosen in SUPPORTED_LOCALES:
        response.set_cookie(LOCALE_COOKIE, chosen, max_age=365 * 86400, samesite="lax")
    return response


async def render(request: Request, name: str, **context: Any) -> HTMLResponse:
    """``render_page``, loading the user unless the caller passes ``user``."""
    user = context.pop("user") if "user" in context else await page_user(request)
    return render_page(request, name, user=user, **context)


def render_fragment(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = request.app.state.templating.render(name, context, locale_of(request))
    return HTMLResponse(html, status_code=status)


async def status_page(
    request: Request, status: int, message: str, user: User | None = None
) -> HTMLResponse:
    """The error page with ``status`` and an already translated ``message``."""
    if user is None:
        user = await page_user(request)
    return render_page(
        request, "error.html", user=user, status=status, status_code=status, message=message
    )


async def error_page(
    request: Request, error: DomainError, user: User | None = None
) -> HTMLResponse:
    """The error page of a refused command or request, in the reader's language."""
    return await status_page(request, refusal(error), translate_error(request, error), user)


def see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def login_redirect() -> RedirectResponse:
    return RedirectResponse("/auth/twitch/login", status_code=303)


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
    return see_other(back)
