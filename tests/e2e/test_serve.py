"""``premiere-ecoute serve`` on an empty data directory: the newcomer's first minute."""

from __future__ import annotations

import subprocess
import threading
import time
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_serve_on_an_empty_data_dir_is_healthy_ready_and_shows_the_home_page(
    server_factory: Any,
) -> None:
    server = server_factory().start()
    assert server.started_in is not None and server.started_in < 60
    assert httpx.get(server.base + "/health").json() == {"status": "ok"}
    ready = httpx.get(server.base + "/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "worker": "ok",
        "worker_loop": "ok",
    }
    home = httpx.get(server.base + "/", headers={"Accept": "text/html"})
    assert home.status_code == 200 and "Premiere Ecoute" in home.text
    fr = httpx.get(server.base + "/?locale=fr", headers={"Accept": "text/html"})
    assert 'lang="fr"' in fr.text
    metrics = httpx.get(server.base + "/metrics")
    assert metrics.status_code == 200 and "http_requests_total" in metrics.text
    missing = httpx.get(server.base + "/api/v1/sessions/1")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    # The demo seed gave the overlay of the demo streamer something to follow.
    overlay = httpx.get(server.base + "/overlay/demostreamer?mode=score")
    assert overlay.status_code == 200


def test_serve_with_two_processes_on_the_embedded_database(server_factory: Any) -> None:
    server = server_factory().start(90, "--workers", "2")
    assert server.proc is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready = httpx.get(server.base + "/ready")
        if ready.status_code == 200:
            break
        time.sleep(0.5)
    assert ready.status_code == 200, ready.text
    group = subprocess.run(
        ["ps", "-ww", "-o", "pid=,args=", "-g", str(server.proc.pid)],
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    # uvicorn's children are Python processes started by multiprocessing's spawn.
    children = [line for line in group if "multiprocessing.spawn" in line]
    assert len(children) == 2, group
    # Every process answers pages on the same database (the demo seed ran once).
    for _ in range(6):
        overlay = httpx.get(server.base + "/overlay/demostreamer?mode=score")
        assert overlay.status_code == 200
    took = server.stop()
    assert took < 15
    assert server.proc.returncode is not None


def test_shutdown_closes_open_sse_streams_promptly(server_factory: Any) -> None:
    server = server_factory().start()
    opened = threading.Event()
    lines: list[str] = []

    def listen() -> None:
        try:
            with httpx.stream("GET", server.base + "/overlay/demostreamer/stream", timeout=30) as r:
                for line in r.iter_lines():
                    lines.append(line)
                    opened.set()
        except httpx.HTTPError:
            pass

    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    assert opened.wait(15), "no SSE snapshot"
    assert any(line.startswith("event: snapshot") for line in lines)
    took = server.stop()
    reader.join(5)
    assert took < 8, f"shutdown took {took:.1f} s with an SSE stream open"
    assert not reader.is_alive()


def test_second_start_on_the_same_data_dir_is_harmless(server_factory: Any) -> None:
    server = server_factory()
    server.start()
    server.stop()
    time.sleep(0.5)
    server.start()
    assert httpx.get(server.base + "/ready").status_code == 200
    users = server.cli("users", "create", "--login", "secondrun", "--role", "streamer")
    assert users.returncode == 0, users.stderr
    token = server.cli("tokens", "create", "--login", "secondrun")
    assert token.returncode == 0 and token.stdout.strip().startswith("pe_")
    assert len(token.stdout.strip().splitlines()) == 1
    me = httpx.get(
        server.base + "/api/v1/me", headers={"Authorization": f"Bearer {token.stdout.strip()}"}
    ).json()
    assert me["login"] == "secondrun" and me["role"] == "streamer" and me["twitch_user_id"]


def test_cli_errors_are_readable(server_factory: Any) -> None:
    server = server_factory()
    bad = server.cli("users", "create", "--login", "X!", "--role", "streamer")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "login" in bad.stderr
    bad_env = server_factory(DATABASE_URL="mysql://nope").cli("migrate")
    assert bad_env.returncode == 2 and "DATABASE_URL" in bad_env.stderr
    assert "Traceback" not in bad_env.stderr
