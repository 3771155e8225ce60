"""`/admin/…` (SPEC §1): counters and circuit breakers, users (role, impersonation, deletion),
sessions, the event log browser and failed jobs. Admins only; anyone else gets 403.

Impersonation keeps the admin's id in the browser session (``impersonator_id``): every page
then shows a banner with a way back (POST /admin/impersonation/stop)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from premiere_ecoute.accounts.commands import ChangeRole, DeleteAccount, StartImpersonation
from premiere_ecoute.accounts.models import Role, User
from premiere_ecoute.admin import queries
from premiere_ecoute.core import jobs as admin_jobs
from premiere_ecoute.core.errors import N_, DomainError, InvalidState, NotFound, refuse
from premiere_ecoute.core.messages import Event
from premiere_ecoute.web.auth import log_out
from premiere_ecoute.web.deps import deps
from premiere_ecoute.web.forms import (
    IMPERSONATOR_KEY,
    IMPERSONATOR_LOGIN_KEY,
    actor_of,
    admin_user,
    checked_form,
    error_page,
    flash,
    gettext_for,
    render_page,
    run_form_action,
)

router = APIRouter(include_in_schema=False)
KNOWN_APIS = ("spotify", "twitch")
ROLES = tuple(r.value for r in Role)

View = Callable[..., Awaitable[Response]]
Action = Callable[[User, dict[str, str]], Awaitable[str]]


async def _guard(request: Request) -> User | Response:
    try:
        return await admin_user(request)
    except DomainError as exc:
        return await error_page(request, exc)


async def dashboard_view(
    request: Request, admin: User, *, status: int = 200, errors: list[str] | None = None
) -> Response:
    c = deps(request)
    async with c.db.session() as s:
        counters = await queries.counters(s)
    states = {b["name"]: b for b in c.breakers.snapshot()}
    breakers = [
        states.get(name, {"name": name, "state": "closed", "failures": 0})
        for name in sorted(set(KNOWN_APIS) | set(states))
    ]
    _ = gettext_for(request)
    return render_page(
        request,
        "admin_dashboard.html",
        user=admin,
        status=status,
        errors=errors,
        title=_("Admin"),
        counters=counters,
        breakers=breakers,
    )


async def users_view(
    request: Request, admin: User, *, status: int = 200, errors: list[str] | None = None
) -> Response:
    query = request.query_params.get("q", "")[:50]
    page = _page_number(request)
    async with deps(request).db.session() as s:
        found = await queries.users(s, query, page)
    _ = gettext_for(request)
    return render_page(
        request,
        "admin_users.html",
        user=admin,
        status=status,
        errors=errors,
        title=_("Users"),
        found=found,
        query=query,
        roles=ROLES,
    )


async def jobs_view(
    request: Request, admin: User, *, status: int = 200, errors: list[str] | None = None
) -> Response:
    failed = await admin_jobs.failed_jobs(deps(request).jobs)
    _ = gettext_for(request)
    return render_page(
        request,
        "admin_jobs.html",
        user=admin,
        status=status,
        errors=errors,
        title=_("Failed jobs"),
        jobs=failed,
    )


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return min(int(raw), 100_000) if raw.isdigit() and int(raw) > 0 else 1


async def _act(request: Request, action: Action, *, back: str, view: View) -> Response:
    admin = await _guard(request)
    if isinstance(admin, Response):
        return admin
    return await run_form_action(request, admin, action, back=back, view=view)


@router.get("/admin")
async def dashboard(request: Request) -> Response:
    admin = await _guard(request)
    return admin if isinstance(admin, Response) else await dashboard_view(request, admin)


@router.get("/admin/users")
async def users(request: Request) -> Response:
    admin = await _guard(request)
    return admin if isinstance(admin, Response) else await users_view(request, admin)


@router.post("/admin/users/{user_id}/role")
async def change_role(request: Request, user_id: int) -> Response:
    async def run(admin: User, form: dict[str, str]) -> str:
        await deps(request).bus.execute(
            ChangeRole(actor_id=admin.id, user_id=user_id, role=form.get("role", "")),
            actor=actor_of(request, admin),
        )
        _ = gettext_for(request)
        return _("The role is changed.")

    return await _act(request, run, back="/admin/users", view=users_view)


@router.post("/admin/users/{user_id}/delete")
async def delete_user(request: Request, user_id: int) -> Response:
    async def run(admin: User, form: dict[str, str]) -> str:
        if user_id == admin.id:
            raise refuse(InvalidState, N_("Delete your own account from your account page."))
        login: str = await deps(request).bus.execute(
            DeleteAccount(
                actor_id=admin.id, user_id=user_id, confirm_login=form.get("confirm_login", "")
            ),
            actor=actor_of(request, admin),
        )
        _ = gettext_for(request)
        return _("The account %(login)s is deleted.") % {"login": login}

    return await _act(request, run, back="/admin/users", view=users_view)


@router.post("/admin/users/{user_id}/impersonate")
async def impersonate(request: Request, user_id: int) -> Response:
    async def run(admin: User, form: dict[str, str]) -> str:
        if request.session.get(IMPERSONATOR_KEY):
            raise refuse(InvalidState, N_("Stop the current impersonation first."))
        target: User = await deps(request).bus.execute(
            StartImpersonation(admin_id=admin.id, user_id=user_id),
            actor=actor_of(request, admin),
        )
        request.session[IMPERSONATOR_KEY] = admin.id
        request.session[IMPERSONATOR_LOGIN_KEY] = admin.login
        request.session["user_id"] = target.id
        _ = gettext_for(request)
        return _("You are now viewing the site as %(login)s.") % {"login": target.login}

    return await _act(request, run, back="/", view=users_view)


@router.post("/admin/impersonation/stop")
async def stop_impersonation(request: Request) -> Response:
    """Open to the impersonated user's session: that is who the admin is right now."""
    try:
        await checked_form(request)
        admin_id = request.session.get(IMPERSONATOR_KEY)
        if not admin_id:
            raise refuse(InvalidState, N_("You are not impersonating anyone."))
    except DomainError as exc:
        return await error_page(request, exc)
    async with deps(request).db.session() as s:
        admin = await s.get(User, int(admin_id))
    request.session.pop(IMPERSONATOR_KEY, None)
    request.session.pop(IMPERSONATOR_LOGIN_KEY, None)
    if admin is None or admin.role != Role.ADMIN.value:
        await log_out(request)
        return RedirectResponse("/", status_code=303)
    request.session["user_id"] = admin.id
    _ = gettext_for(request)
    flash(request, "success", _("You are back on your own account."))
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/sessions")
async def sessions(request: Request, status: str = "") -> Response:
    admin = await _guard(request)
    if isinstance(admin, Response):
        return admin
    async with deps(request).db.session() as s:
        found = await queries.sessions(s, status, _page_number(request))
    _ = gettext_for(request)
    return render_page(
        request,
        "admin_sessions.html",
        user=admin,
        title=_("Sessions"),
        found=found,
        status_filter=status if status in queries.SESSION_STATUSES else "",
        statuses=queries.SESSION_STATUSES,
    )


@router.get("/admin/albums")
async def albums(request: Request, q: str = "") -> Response:
    admin = await _guard(request)
    if isinstance(admin, Response):
        return admin
    query = q.strip()[:100]
    async with deps(request).db.session() as s:
        found = await queries.albums(s, query, _page_number(request))
    _ = gettext_for(request)
    return render_page(
        request, "admin_albums.html", user=admin, title=_("Albums"), found=found, query=query
    )


@router.get("/admin/events")
async def events(
    request: Request,
    stream: str = Query("", max_length=200),
    type: str = Query("", max_length=100),
    before: int | None = Query(None, ge=1),
) -> Response:
    admin = await _guard(request)
    if isinstance(admin, Response):
        return admin
    async with deps(request).db.session() as s:
        rows, older = await queries.events(
            s, stream=stream.strip(), type_=type.strip(), before=before
        )
    _ = gettext_for(request)
    return render_page(
        request,
        "admin_events.html",
        user=admin,
        title=_("Event log"),
        rows=rows,
        older=older,
        stream=stream.strip(),
        type_filter=type.strip(),
        before=before,
        known_types=sorted(Event.registry),
    )


@router.get("/admin/jobs")
async def jobs(request: Request) -> Response:
    admin = await _guard(request)
    return admin if isinstance(admin, Response) else await jobs_view(request, admin)


@router.post("/admin/jobs/{job_id}/retry")
async def retry_job(request: Request, job_id: int) -> Response:
    async def run(admin: User, form: dict[str, str]) -> str:
        c = deps(request)
        async with c.db.session() as s:
            done = await admin_jobs.retry_failed_job(c.jobs, s, job_id, c.clock.now())
        if not done:
            raise refuse(NotFound, N_("No failed job has this id."))
        _ = gettext_for(request)
        return _("The job is queued again.")

    return await _act(request, run, back="/admin/jobs", view=jobs_view)


@router.post("/admin/jobs/{job_id}/discard")
async def discard_job(request: Request, job_id: int) -> Response:
    async def run(admin: User, form: dict[str, str]) -> str:
        async with deps(request).db.session() as s, s.begin():
            done = await admin_jobs.discard_failed_job(s, job_id)
        if not done:
            raise refuse(NotFound, N_("No failed job has this id."))
        _ = gettext_for(request)
        return _("The job is discarded.")

    return await _act(request, run, back="/admin/jobs", view=jobs_view)
