"""The JSON API v1 (SPEC §11): the whole lifecycle, and clear 4xx errors for bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import Api

ALBUM_LINK = "https://open.spotify.com/intl-de/album/4aawyAB9vmqN3uQ7FjRGTy?si=share"


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return str(body["error"]["message"])


async def _prepare(api: Api, **body: Any) -> dict[str, Any]:
    response = await api.http.post(
        "/api/v1/sessions", headers=api.streamer.headers, json={"album": ALBUM_LINK, **body}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_full_lifecycle_from_prepare_to_report(api: Api, fake_clock: Any) -> None:
    h, http = api.streamer.headers, api.http
    session = await _prepare(api, stream_delay_s=0, scale="0-10")
    sid = session["id"]
    assert (session["status"], session["current_track"], session["votes_open"]) == (
        "preparing",
        None,
        False,
    )
    assert session["scale"] == {"kind": "numeric", "options": [str(n) for n in range(11)]}
    started = (await http.post(f"/api/v1/sessions/{sid}/start", headers=h)).json()
    assert started["status"] == "active" and started["votes_open"] is True
    assert started["current_track"]["track_number"] == 1
    assert started["current_track"]["name"] == "Morning Static"
    viewer_vote = await http.post(
        f"/api/v1/sessions/{sid}/votes", headers=api.viewer.headers, json={"value": "7"}
    )
    assert viewer_vote.status_code == 201
    assert viewer_vote.json()["as"] == "viewer"
    mine = await http.post(f"/api/v1/sessions/{sid}/votes", headers=h, json={"value": 9})
    assert mine.json() == {
        "session_id": sid,
        "track_id": started["current_track"]["track_id"],
        "value": "9",
        "as": "streamer",
    }
    fake_clock.advance(60)
    moved = (await http.post(f"/api/v1/sessions/{sid}/next", headers=h)).json()
    assert moved["current_track"]["track_number"] == 2
    await http.post(
        f"/api/v1/sessions/{sid}/votes", headers=api.viewer.headers, json={"value": "4"}
    )
    closed = (await http.post(f"/api/v1/sessions/{sid}/votes/close", headers=h)).json()
    assert closed["votes_open"] is False
    refused = await http.post(
        f"/api/v1/sessions/{sid}/votes", headers=api.viewer.headers, json={"value": "10"}
    )
    assert "closed" in _error(refused, 409, "invalid_state")
    opened = (await http.post(f"/api/v1/sessions/{sid}/votes/open", headers=h)).json()
    assert opened["votes_open"] is True
    fake_clock.advance(60)
    stopped = (await http.post(f"/api/v1/sessions/{sid}/stop", headers=h)).json()
    assert stopped["status"] == "stopped" and stopped["current_track"] is None
    report = (await http.get(f"/api/v1/sessions/{sid}/report", headers=h)).json()
    assert report["status"] == "stopped"
    assert [t["viewer_score"] for t in report["tracks"]] == [7.0, 4.0, None, None]
    assert report["tracks"][0]["streamer_score"] == 9.0
    assert (report["viewer_score"], report["streamer_score"]) == (5.5, 9.0)
    assert (report["votes"], report["voters"], report["tracks_rated"]) == (2, 1, 2)
    listed = (await http.get("/api/v1/sessions", headers=h)).json()
    assert [x["id"] for x in listed["completed"]] == [sid]
    series = (await http.get(f"/api/v1/sessions/{sid}/series", headers=h)).json()
    assert [p["average"] for p in series["series"]] == [7.0, 5.5]


async def test_play_previous_and_settings_through_the_api(api: Api) -> None:
    h, http = api.streamer.headers, api.http
    sid = (await _prepare(api))["id"]
    patched = await http.patch(
        f"/api/v1/sessions/{sid}",
        headers=h,
        json={"scale": ["good", "bad", "meh"], "stream_delay_s": 15, "vote_mode": "both"},
    )
    assert patched.status_code == 200
    assert patched.json()["scale"] == {"kind": "categorical", "options": ["good", "bad", "meh"]}
    assert (patched.json()["stream_delay_s"], patched.json()["vote_mode"]) == (15, "both")
    await http.post(f"/api/v1/sessions/{sid}/start", headers=h, json={"device_id": "device-1"})
    played = await http.post(f"/api/v1/sessions/{sid}/play", headers=h, json={"position": 3})
    assert played.json()["current_track"]["position"] == 3
    back = await http.post(f"/api/v1/sessions/{sid}/previous", headers=h)
    assert back.json()["current_track"]["position"] == 2
    late = await http.patch(f"/api/v1/sessions/{sid}", headers=h, json={"stream_delay_s": 1})
    assert "preparing" in _error(late, 409, "invalid_state")


async def test_delete_removes_the_session_and_only_the_owner_or_an_admin_may(
    api: Api,
) -> None:
    http = api.http
    first = (await _prepare(api))["id"]
    second = (await _prepare(api))["id"]
    _error(
        await http.delete(f"/api/v1/sessions/{first}", headers=api.rival.headers), 403, "forbidden"
    )
    response = await http.delete(f"/api/v1/sessions/{first}", headers=api.streamer.headers)
    assert response.status_code == 204 and response.content == b""
    _error(
        await http.get(f"/api/v1/sessions/{first}", headers=api.streamer.headers), 404, "not_found"
    )
    admin = await http.delete(f"/api/v1/sessions/{second}", headers=api.admin.headers)
    assert admin.status_code == 204
    await http.post(
        f"/api/v1/sessions/{(await _prepare(api))['id']}/start", headers=api.streamer.headers
    )
    active = (await http.get("/api/v1/sessions", headers=api.streamer.headers)).json()
    busy = await http.delete(
        f"/api/v1/sessions/{active['active'][0]['id']}", headers=api.streamer.headers
    )
    assert "stop the session" in _error(busy, 409, "invalid_state")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
    ],
)
async def test_requests_without_a_valid_token_are_unauthorized(
    api: Api, headers: dict[str, str]
) -> None:
    for method, path in (
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/sessions"),
        ("POST", "/api/v1/sessions"),
        ("GET", "/api/v1/sessions/1/report"),
    ):
        response = await api.http.request(method, path, headers=headers, json={})
        _error(response, 401, "unauthorized")


async def test_me_describes_the_caller(api: Api) -> None:
    me = (await api.http.get("/api/v1/me", headers=api.streamer.headers)).json()
    assert (me["login"], me["role"]) == ("apistreamer", "streamer")
    assert me["twitch_user_id"] == api.streamer.user.twitch_user_id


async def test_unknown_sessions_are_not_found(api: Api) -> None:
    h = api.streamer.headers
    for method, path in (
        ("GET", "/api/v1/sessions/999"),
        ("GET", "/api/v1/sessions/999/report"),
        ("POST", "/api/v1/sessions/999/start"),
        ("POST", "/api/v1/sessions/999/votes"),
        ("DELETE", "/api/v1/sessions/999"),
        ("GET", "/api/v1/sessions/99999999999999999999999"),
    ):
        body = {"value": "5"} if path.endswith("votes") else None
        response = await api.http.request(method, path, headers=h, json=body)
        _error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"album": "https://example.com/album/x"}, "Not a Spotify album"),
        ({"album": 12345}, "album"),
        ({}, "exactly one"),
        ({"album": "4aawyAB9vmqN3uQ7FjRGTy", "playlist": "37i9dQZF1DXcBWIGoYBM5M"}, "exactly one"),
        ({"album": "4aawyAB9vmqN3uQ7FjRGTy", "scale": "0-100"}, "Unknown scale"),
        ({"album": "4aawyAB9vmqN3uQ7FjRGTy", "scale": ["x"]}, "2 to 10"),
        ({"album": "4aawyAB9vmqN3uQ7FjRGTy", "stream_delay_s": "soon"}, "stream_delay_s"),
        ({"album": "4aawyAB9vmqN3uQ7FjRGTy", "stream_delay_s": 10**30}, "stream_delay_s"),
        ({"album": "4aawyAB9vmqN3uQ7FjRGTy", "vote_mode": "poll"}, "choices"),
    ],
)
async def test_bad_prepare_bodies_are_unprocessable(
    api: Api, body: dict[str, Any], fragment: str
) -> None:
    response = await api.http.post("/api/v1/sessions", headers=api.streamer.headers, json=body)
    assert fragment in _error(response, 422, "validation_failed")


async def test_bad_votes_and_positions_are_unprocessable(api: Api) -> None:
    h, http = api.streamer.headers, api.http
    sid = (await _prepare(api, scale="1-5"))["id"]
    await http.post(f"/api/v1/sessions/{sid}/start", headers=h)
    for body in (
        {"value": "0"},
        {"value": "6"},
        {"value": ""},
        {"value": "   "},
        {},
        {"value": None},
        {"value": 7.5},
        {"value": "x" * 100},
        {"value": ["1"]},
    ):
        response = await http.post(
            f"/api/v1/sessions/{sid}/votes", headers=api.viewer.headers, json=body
        )
        _error(response, 422, "validation_failed")
    for body in ({"position": 0}, {"position": 5}, {"position": 10**30}, {"position": "two"}, {}):
        response = await http.post(f"/api/v1/sessions/{sid}/play", headers=h, json=body)
        _error(response, 422, "validation_failed")
    garbled = await http.post(
        f"/api/v1/sessions/{sid}/votes",
        headers=api.viewer.headers,
        content=b"{not json",
    )
    _error(garbled, 422, "validation_failed")
    _error(await http.get("/api/v1/sessions/abc", headers=h), 422, "validation_failed")
    _error(
        await http.get(f"/api/v1/sessions/{sid}/series?per=hour", headers=h),
        422,
        "validation_failed",
    )
    _error(await http.get("/api/v1/sessions?page=0", headers=h), 422, "validation_failed")


async def test_commands_in_the_wrong_state_conflict(api: Api) -> None:
    h, http = api.streamer.headers, api.http
    sid = (await _prepare(api))["id"]
    for path in ("next", "previous", "stop", "votes/close", "votes/open"):
        _error(await http.post(f"/api/v1/sessions/{sid}/{path}", headers=h), 409, "invalid_state")
    vote = await http.post(f"/api/v1/sessions/{sid}/votes", headers=h, json={"value": "5"})
    _error(vote, 409, "invalid_state")
    await http.post(f"/api/v1/sessions/{sid}/start", headers=h)
    _error(await http.post(f"/api/v1/sessions/{sid}/start", headers=h), 409, "invalid_state")
    _error(await http.post(f"/api/v1/sessions/{sid}/previous", headers=h), 409, "invalid_state")
    _error(await http.post(f"/api/v1/sessions/{sid}/votes/open", headers=h), 409, "invalid_state")
    other = (await _prepare(api))["id"]
    message = _error(await http.post(f"/api/v1/sessions/{other}/start", headers=h), 409, "conflict")
    assert "already active" in message
    forbidden = await http.post(f"/api/v1/sessions/{sid}/next", headers=api.rival.headers)
    _error(forbidden, 403, "forbidden")


async def test_openapi_describes_the_session_endpoints(api: Api) -> None:
    spec = (await api.http.get("/api/v1/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/api/v1/me",
        "/api/v1/sessions",
        "/api/v1/sessions/{session_id}",
        "/api/v1/sessions/{session_id}/votes",
        "/api/v1/sessions/{session_id}/report",
    ):
        assert path in paths
    assert set(paths["/api/v1/sessions/{session_id}"]) == {"get", "patch", "delete"}


async def test_a_session_in_preparation_is_visible_to_its_streamer_and_admins_only(
    api: Api,
) -> None:
    http = api.http
    session_id = (await _prepare(api))["id"]
    for path in ("", "/report", "/series"):
        url = f"/api/v1/sessions/{session_id}{path}"
        assert (await http.get(url, headers=api.streamer.headers)).status_code == 200
        assert (await http.get(url, headers=api.admin.headers)).status_code == 200
        _error(await http.get(url, headers=api.rival.headers), 404, "not_found")
    await http.post(f"/api/v1/sessions/{session_id}/start", headers=api.streamer.headers)
    # Once started it is public, as its live page is.
    started = await http.get(f"/api/v1/sessions/{session_id}", headers=api.rival.headers)
    assert started.status_code == 200 and started.json()["status"] == "active"


async def test_results_of_a_running_session_are_its_streamers_until_it_stops(api: Api) -> None:
    """One read rule with the pages (issue 10 finding 7): the report, series and stream of a
    running session are the streamer's and the admins'; public once the session stops."""
    http = api.http
    session_id = (await _prepare(api))["id"]
    await http.post(f"/api/v1/sessions/{session_id}/start", headers=api.streamer.headers)
    for path in ("/report", "/series", "/stream"):
        url = f"/api/v1/sessions/{session_id}{path}"
        _error(await http.get(url, headers=api.rival.headers), 403, "forbidden")
    for path in ("/report", "/series"):
        url = f"/api/v1/sessions/{session_id}{path}"
        assert (await http.get(url, headers=api.streamer.headers)).status_code == 200
        assert (await http.get(url, headers=api.admin.headers)).status_code == 200
    await http.post(f"/api/v1/sessions/{session_id}/stop", headers=api.streamer.headers)
    for path in ("/report", "/series"):
        url = f"/api/v1/sessions/{session_id}{path}"
        assert (await http.get(url, headers=api.rival.headers)).status_code == 200
