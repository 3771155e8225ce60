"""`/admin/…`: admins only; counters, breakers, users (role, impersonation, deletion),
sessions, event log browser, failed jobs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, text

from premiere_ecoute.accounts.models import User
from premiere_ecoute.core.event_store import StoredEventRow
from premiere_ecoute.demo import create_user
from premiere_ecoute.sessions import commands as cmd
from tests.support.pages import browser, form, page_app
from tests.support.sessions import prepare, prepared_and_started, stop

pytestmark = pytest.mark.asyncio


def counter(html: str, name: str) -> int:
    match = re.search(rf'data-counter="{name}">(?:<a [^>]*>)?([\d,\s\u202f\xa0]+)<', html)
    assert match, f"counter {name} not shown"
    return int(re.sub(r"\D", "", match.group(1)))


async def _role(c: Any, user_id: int) -> str | None:
    async with c.db.session() as s:
        user = await s.get(User, user_id)
        return user.role if user else None


async def _failed_job(c: Any, task: str = "sync_follows") -> int:
    async with c.db.session() as s, s.begin():
        job_id = await s.scalar(
            text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts) "
                "VALUES ('default', :task, '{\"user_id\": 3}', 'failed', 3) RETURNING id"
            ),
            {"task": task},
        )
    return int(job_id)


async def _job_status(c: Any, job_id: int) -> str | None:
    async with c.db.session() as s:
        return await s.scalar(
            text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
        )


@pytest.mark.parametrize(
    "path",
    ["/admin", "/admin/users", "/admin/sessions", "/admin/albums", "/admin/events", "/admin/jobs"],
)
async def test_admin_pages_are_refused_to_non_admins(container: Any, path: str) -> None:
    streamer = await create_user(container, "streamerone", "streamer")
    app = page_app(container)
    async with browser(container, app, streamer.id) as client:
        forbidden = await client.get(path)
    async with browser(container, app) as client:
        anonymous = await client.get(path)

    assert (forbidden.status_code, anonymous.status_code) == (403, 401)
    assert "This page is for admins only." in forbidden.text


async def test_admin_actions_are_refused_to_non_admins(container: Any) -> None:
    streamer = await create_user(container, "streamerone", "streamer")
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), streamer.id) as client:
        role = await client.post(f"/admin/users/{viewer.id}/role", data=form(role="admin"))
        impersonate = await client.post(f"/admin/users/{viewer.id}/impersonate", data=form())

    assert (role.status_code, impersonate.status_code) == (403, 403)
    assert await _role(container, viewer.id) == "viewer"


async def test_admin_forms_without_the_csrf_token_are_refused(container: Any) -> None:
    admin = await create_user(container, "adminone", "admin")
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), admin.id) as client:
        response = await client.post(
            f"/admin/users/{viewer.id}/role", data={"role": "streamer", "csrf_token": "nope"}
        )

    assert response.status_code == 403
    assert await _role(container, viewer.id) == "viewer"


async def test_dashboard_counts_users_sessions_votes_events_and_failed_jobs(
    container: Any,
) -> None:
    admin = await create_user(container, "adminone", "admin")
    streamer = await create_user(container, "streamerone", "streamer")
    viewer = await create_user(container, "viewerone", "viewer")
    session_id = await prepared_and_started(container, streamer)
    await prepare(container, admin)
    for voter, value in ((viewer, "7"), (admin, "4")):
        await container.bus.execute(
            cmd.CastVote(session_id=session_id, actor_id=voter.id, value=value)
        )
    await _failed_job(container)
    async with container.db.session() as s:
        events = len(list(await s.scalars(select(StoredEventRow.position))))
    async with browser(container, page_app(container), admin.id) as client:
        response = await client.get("/admin")

    html = response.text
    assert response.status_code == 200
    assert (counter(html, "users"), counter(html, "sessions"), counter(html, "votes")) == (3, 2, 2)
    assert counter(html, "events") == events
    assert (counter(html, "pending_inbox"), counter(html, "failed_jobs")) == (0, 1)


async def test_dashboard_shows_each_external_apis_circuit(container: Any) -> None:
    admin = await create_user(container, "adminone", "admin")
    container.breakers.get("spotify").open_for(30)
    async with browser(container, page_app(container), admin.id) as client:
        html = (await client.get("/admin")).text

    spotify = html.split('data-breaker="spotify"')[1].split("</tr>")[0]
    twitch = html.split('data-breaker="twitch"')[1].split("</tr>")[0]
    assert "Open: calls are refused" in spotify
    assert "Closed: calls go through" in twitch


async def test_admin_changes_a_role_but_not_their_own(container: Any) -> None:
    admin = await create_user(container, "adminone", "admin")
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), admin.id) as client:
        changed = await client.post(f"/admin/users/{viewer.id}/role", data=form(role="streamer"))
        unknown = await client.post(f"/admin/users/{viewer.id}/role", data=form(role="king"))
        own = await client.post(f"/admin/users/{admin.id}/role", data=form(role="viewer"))

    assert (changed.status_code, unknown.status_code, own.status_code) == (303, 422, 403)
    assert await _role(container, viewer.id) == "streamer"
    assert await _role(container, admin.id) == "admin"


async def test_impersonation_shows_a_banner_and_the_way_back(container: Any) -> None:
    admin = await create_user(container, "adminone", "admin")
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), admin.id) as client:
        started = await client.post(f"/admin/users/{viewer.id}/impersonate", data=form())
        as_viewer = await client.get("/account")
        admin_while = await client.get("/admin")
        stopped = await client.post("/admin/impersonation/stop", data=form())
        admin_after = await client.get("/admin/users")
        account_after = await client.get("/account")

    assert started.status_code == 303
    assert "Signed in as viewerone" in as_viewer.text
    assert "impersonated by adminone" in as_viewer.text
    assert admin_while.status_code == 403
    assert stopped.status_code == 303 and admin_after.status_code == 200
    assert "impersonated by" not in account_after.text
    async with container.db.session() as s:
        row = await s.scalar(
            select(StoredEventRow).where(StoredEventRow.type == "ImpersonationStarted")
        )
    assert row is not None and row.stream == f"user-{viewer.id}"
    assert row.payload["admin_id"] == admin.id


async def test_stopping_an_impersonation_needs_one(container: Any) -> None:
    admin = await create_user(container, "adminone", "admin")
    async with browser(container, page_app(container), admin.id) as client:
        response = await client.post("/admin/impersonation/stop", data=form())

    assert response.status_code == 409


async def test_admin_deletes_a_user_after_typing_the_login(container: Any) -> None:
    admin = await create_user(container, "adminone", "admin")
    viewer = await create_user(container, "viewerone", "viewer")
    async with browser(container, page_app(container), admin.id) as client:
        unconfirmed = await client.post(f"/admin/users/{viewer.id}/delete", data=form())
        wrong = await client.post(
            f"/admin/users/{viewer.id}/delete", data=form(confirm_login="viewertwo")
        )
        confirmed = await client.post(
            f"/admin/users/{viewer.id}/delete", data=form(confirm_login="viewerone")
        )
        self_delete = await client.post(
            f"/admin/users/{admin.id}/delete", data=form(confirm_login="adminone")
        )

    assert (unconfirmed.status_code, wrong.status_code) == (422, 422)
    assert confirmed.status_code == 303
    assert self_delete.status_code == 409
    assert await _role(container, viewer.id) is None
    assert await _role(container, admin.id) == "admin"


async def test_users_list_searches_by_login(container: Any) -> None:
    admin = await create_user(container, "adminone", "admin")
    await create_user(container, "viewerone", "viewer")
    await create_user(container, "streamerone", "streamer")
    async with browser(container, page_app(container), admin.id) as client:
        html = (await client.get("/admin/users?q=view")).text

    assert 'data-user="viewerone"' in html
    assert 'data-user="streamerone"' not in html


async def test_sessions_list_filters_by_status(container: Any) -> None:
    admin = await create_user(container, "adminone", "admin")
    streamer = await create_user(container, "streamerone", "streamer")
    finished = await prepared_and_started(container, streamer)
    await stop(container, streamer, finished)
    preparing = await prepare(container, streamer)
    async with browser(container, page_app(container), admin.id) as client:
        everything = (await client.get("/admin/sessions")).text
        stopped = (await client.get("/admin/sessions?status=stopped")).text
        bad_page = await client.get("/admin/sessions?page=abc")

    assert f'data-session="{finished}"' in everything
    assert f'data-session="{preparing}"' in everything
    assert f'data-session="{finished}"' in stopped
    assert f'data-session="{preparing}"' not in stopped
    assert bad_page.status_code == 200


async def test_event_log_filters_by_stream_and_type_and_pages_by_position(
    container: Any,
) -> None:
    admin = await create_user(container, "adminone", "admin")
    for n in range(55):
        await create_user(container, f"viewer{n:03d}", "viewer")
    async with container.db.session() as s:
        registered = list(
            await s.scalars(
                select(StoredEventRow.position)
                .where(StoredEventRow.type == "UserRegistered")
                .order_by(StoredEventRow.position.desc())
            )
        )
    async with browser(container, page_app(container), admin.id) as client:
        first = (await client.get("/admin/events?type=UserRegistered")).text
        shown = [int(p) for p in re.findall(r'data-position="(\d+)"', first)]
        older_link = re.search(r"before=(\d+)", first)
        assert older_link is not None
        second = (
            await client.get(f"/admin/events?type=UserRegistered&before={older_link.group(1)}")
        ).text
        by_stream = (await client.get(f"/admin/events?stream=user-{admin.id}")).text
        invalid = await client.get("/admin/events?before=-3")

    rest = [int(p) for p in re.findall(r'data-position="(\d+)"', second)]
    assert shown == registered[:50]
    assert rest == registered[50:]
    assert "<td>ConnectionLinked</td>" in by_stream
    assert "<td>ConnectionLinked</td>" not in first
    streams = set(re.findall(r"<td><a href=\"/admin/events\?stream=([^\"]+)\"", by_stream))
    assert f"user-{admin.id}" in streams
    assert all(stream.startswith(f"user-{admin.id}") for stream in streams)
    assert invalid.status_code == 422


async def test_failed_jobs_are_listed_retried_and_discarded(container: Any) -> None:
    admin = await create_user(container, "adminone", "admin")
    retried, discarded = await _failed_job(container), await _failed_job(container, "refresh")
    async with browser(container, page_app(container), admin.id) as client:
        listing = (await client.get("/admin/jobs")).text
        retry = await client.post(f"/admin/jobs/{retried}/retry", data=form())
        discard = await client.post(f"/admin/jobs/{discarded}/discard", data=form())
        retry_again = await client.post(f"/admin/jobs/{retried}/retry", data=form())
        missing = await client.post("/admin/jobs/999999/discard", data=form())

    assert f'data-job="{retried}"' in listing and f'data-job="{discarded}"' in listing
    assert (retry.status_code, discard.status_code) == (303, 303)
    assert await _job_status(container, retried) == "todo"
    assert await _job_status(container, discarded) is None
    assert (retry_again.status_code, missing.status_code) == (404, 404)
    assert "No failed job has this id." in missing.text


async def test_albums_list_shows_how_often_each_album_was_played(container: Any) -> None:
    from premiere_ecoute.demo import seed

    made = await seed(container, viewers=6)
    admin = await create_user(container, "adminone", "admin")
    async with browser(container, page_app(container), admin.id) as client:
        page = (await client.get("/admin/albums")).text
        searched = (await client.get("/admin/albums?q=zzz-no-such-album")).text
        sessions = (await client.get("/admin/sessions")).text
    row = re.search(r'<tr data-album="[^"]+">(.*?)</tr>', page, re.S)
    assert row is not None and made["album"] in row.group(1)
    assert re.findall(r"<td>(\d+)</td>", row.group(1))[-1] == "1"  # played in one session
    assert "data-album=" not in searched
    # The demo session's votes are counted in the sessions list (not a stale zero).
    votes = re.search(rf'data-session="{made["session_id"]}">.*?</tr>', sessions, re.S)
    assert votes is not None and re.findall(r"<td>([\d,]+)</td>", votes.group(0))[-1] != "0"
