"""The JSON API's player commands (pause, resume, devices, device transfer) and its docs page:
Swagger UI served from our own origin, and the bearer scheme declared so "Try it out" sends
the token."""

from __future__ import annotations

import re
from typing import Any

import httpx

from premiere_ecoute.sessions.events import PlayerControlled
from tests.support.api import Api
from tests.support.sessions import event_types, prepare, prepared_and_started, stop

ALBUM = "4aawyAB9vmqN3uQ7FjRGTy"


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    return str(body["error"]["message"])


# Docs ---------------------------------------------------------------------------------------


async def test_docs_page_loads_swagger_ui_from_our_own_origin(api: Api) -> None:
    page = await api.http.get("/api/v1/docs")

    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert not re.search(r"(src|href)=[\"']https?://", page.text), page.text
    assets = re.findall(r"(?:src|href)=[\"'](/static/vendor/[^\"']+)", page.text)
    assert sorted(assets) == [
        "/static/vendor/swagger-favicon.png",
        "/static/vendor/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui.css",
    ]
    for asset in assets:
        served = await api.http.get(asset)
        assert served.status_code == 200 and len(served.content) > 500, asset
    bundle = (await api.http.get("/static/vendor/swagger-ui-bundle.js")).text
    assert "SwaggerUIBundle" in bundle
    assert "url: '/api/v1/openapi.json'" in page.text
    # Nothing but our own origin may serve it a script or a style.
    csp = dict(d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";"))
    assert csp["script-src"] == csp["style-src"] == "'self' 'unsafe-inline'"


async def test_openapi_declares_the_bearer_scheme_on_every_operation(api: Api) -> None:
    spec = (await api.http.get("/api/v1/openapi.json")).json()

    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    operations = [
        (path, method, op)
        for path, item in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method, op in item.items()
    ]
    assert len(operations) > 15
    for path, method, op in operations:
        assert op.get("security") == [{"bearer": []}], (method, path)
    for path in (
        "/api/v1/sessions/{session_id}/pause",
        "/api/v1/sessions/{session_id}/resume",
        "/api/v1/sessions/{session_id}/device",
    ):
        assert set(spec["paths"][path]["post"]["responses"]) >= {"200", "403", "404", "409"}
    assert "/api/v1/docs" not in spec["paths"]


async def test_a_missing_or_unknown_token_is_still_our_401(api: Api) -> None:
    missing = await api.http.get("/api/v1/me")
    basic = await api.http.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    unknown = await api.http.get("/api/v1/me", headers={"Authorization": "Bearer nope"})

    assert "Bearer" in _error(missing, 401, "unauthorized")
    assert "Bearer" in _error(basic, 401, "unauthorized")
    assert "unknown or revoked" in _error(unknown, 401, "unauthorized")


# Player commands ------------------------------------------------------------------------------


async def test_streamer_pauses_and_resumes_the_player(
    api: Api, container: Any, memory_ports: Any
) -> None:
    streamer = api.streamer.user
    sid = await prepared_and_started(container, streamer, playback="spotify")
    player = memory_ports.playback
    assert streamer.id in player.playing

    paused = await api.http.post(f"/api/v1/sessions/{sid}/pause", headers=api.streamer.headers)
    after_pause = (dict(player.playing), dict(player.paused))
    resumed = await api.http.post(f"/api/v1/sessions/{sid}/resume", headers=api.streamer.headers)

    assert paused.status_code == 200, paused.text
    assert paused.json()["id"] == sid and paused.json()["status"] == "active"
    assert streamer.id not in after_pause[0] and streamer.id in after_pause[1]
    assert resumed.status_code == 200, resumed.text
    assert streamer.id in player.playing and not player.paused
    assert (await event_types(container, sid)).count(PlayerControlled.__name__) == 2


async def test_admin_may_pause_but_other_streamers_and_viewers_may_not(
    api: Api, container: Any, memory_ports: Any
) -> None:
    sid = await prepared_and_started(container, api.streamer.user, playback="spotify")
    owner = api.streamer.user.id

    rival = await api.http.post(f"/api/v1/sessions/{sid}/pause", headers=api.rival.headers)
    viewer = await api.http.post(f"/api/v1/sessions/{sid}/resume", headers=api.viewer.headers)
    rival_devices = await api.http.get(f"/api/v1/sessions/{sid}/devices", headers=api.rival.headers)
    rival_move = await api.http.post(
        f"/api/v1/sessions/{sid}/device", headers=api.rival.headers, json={"device_id": "device-1"}
    )
    assert ("pause", (owner,)) not in memory_ports.playback.calls
    admin = await api.http.post(f"/api/v1/sessions/{sid}/pause", headers=api.admin.headers)

    _error(rival, 403, "forbidden")
    _error(viewer, 403, "forbidden")
    _error(rival_devices, 403, "forbidden")
    _error(rival_move, 403, "forbidden")
    assert not any(name == "list_devices" for name, _ in memory_ports.playback.calls)
    assert admin.status_code == 200, admin.text
    assert ("pause", (owner,)) in memory_ports.playback.calls


async def test_player_commands_refuse_wrong_states_with_4xx(
    api: Api, container: Any, memory_ports: Any
) -> None:
    h = api.streamer.headers
    manual = await prepared_and_started(container, api.streamer.user, playback="manual")
    await stop(container, api.streamer.user, manual)
    preparing = await prepare(container, api.streamer.user, album=ALBUM, playback="spotify")

    by_hand = await api.http.post(f"/api/v1/sessions/{manual}/pause", headers=h)
    early = await api.http.post(f"/api/v1/sessions/{preparing}/pause", headers=h)
    unknown = await api.http.post("/api/v1/sessions/987654/resume", headers=h)
    nonsense = await api.http.post("/api/v1/sessions/abc/resume", headers=h)

    assert "by hand" in _error(by_hand, 409, "invalid_state")
    assert "Start the session first" in _error(early, 409, "invalid_state")
    _error(unknown, 404, "not_found")
    _error(nonsense, 422, "validation_failed")
    assert memory_ports.playback.paused == {}


async def test_devices_are_listed_and_playback_moves_to_a_listed_one(
    api: Api, container: Any, memory_ports: Any
) -> None:
    h = api.streamer.headers
    memory_ports.playback.devices = ["desk", "phone"]
    sid = await prepared_and_started(container, api.streamer.user, playback="spotify")

    listed = await api.http.get(f"/api/v1/sessions/{sid}/devices", headers=h)
    moved = await api.http.post(
        f"/api/v1/sessions/{sid}/device", headers=h, json={"device_id": " phone "}
    )
    listed_again = await api.http.get(f"/api/v1/sessions/{sid}/devices", headers=h)

    assert listed.status_code == 200, listed.text
    assert [(d["id"], d["is_active"]) for d in listed.json()["devices"]] == [
        ("desk", True),
        ("phone", False),
    ]
    assert moved.status_code == 200 and moved.json()["id"] == sid
    assert memory_ports.playback.active_device == "phone"
    assert [(d["id"], d["is_active"]) for d in listed_again.json()["devices"]] == [
        ("desk", False),
        ("phone", True),
    ]


async def test_device_transfer_refuses_bad_input(
    api: Api, container: Any, memory_ports: Any
) -> None:
    h = api.streamer.headers
    sid = await prepared_and_started(container, api.streamer.user, playback="spotify")
    url = f"/api/v1/sessions/{sid}/device"

    no_body = await api.http.post(url, headers=h)
    empty = await api.http.post(url, headers=h, json={"device_id": ""})
    blank = await api.http.post(url, headers=h, json={"device_id": "   "})
    number = await api.http.post(url, headers=h, json={"device_id": 5})
    control = await api.http.post(url, headers=h, json={"device_id": "a\u0000b"})
    unknown = await api.http.post(url, headers=h, json={"device_id": "toaster"})

    _error(no_body, 422, "validation_failed")
    _error(empty, 422, "validation_failed")
    _error(blank, 422, "validation_failed")
    _error(number, 422, "validation_failed")
    _error(control, 422, "validation_failed")
    assert "no device" in _error(unknown, 404, "not_found")
    assert not any(name == "transfer" for name, _ in memory_ports.playback.calls)
    await stop(container, api.streamer.user, sid)
    over = await api.http.post(url, headers=h, json={"device_id": "device-1"})
    assert "over" in _error(over, 409, "invalid_state")
