"""The command line of SPEC §11, run as a user would, against one real server."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import httpx
import psycopg
import pytest

pytestmark = pytest.mark.e2e


def test_demo_seed_then_replay_matches_and_a_tampered_report_is_caught(server_factory: Any) -> None:
    server = server_factory().start()  # the first start seeds the demo data
    replay = server.cli("events", "replay")
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "identical" in replay.stdout and "0 with differences" in replay.stdout
    one = server.cli("events", "replay", "--session", "1", "--figures")
    assert one.returncode == 0 and "session 1: identical" in one.stdout
    assert "ranked by Bayesian average (C = 10, m = " in one.stdout
    assert "streamer vs chat agreement" in one.stdout
    missing = server.cli("events", "replay", "--session", "999")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    # Change the stored counters behind the event log's back.
    url = _database_url(server)
    with psycopg.connect(url, autocommit=True) as conn:
        report = conn.execute("SELECT report FROM listening_sessions WHERE id = 1").fetchone()[0]
        first = next(iter(report["tracks"]))
        report["tracks"][first]["v"][0] += 5
        conn.execute(
            "UPDATE listening_sessions SET report = %s WHERE id = 1", (json.dumps(report),)
        )
    tampered = server.cli("events", "replay")
    assert tampered.returncode == 1 and "1 with differences" in tampered.stdout
    assert "distribution" in tampered.stdout


def _database_url(server: Any) -> str:
    from pathlib import Path

    from premiere_ecoute.core.db import embedded_database_url

    return embedded_database_url(Path(server.env["PREMIERE_DATA_DIR"]))


def test_spotify_and_twitch_commands_work_against_the_fakes(server_factory: Any) -> None:
    server = server_factory()
    found = server.cli("spotify", "search", "a")
    assert found.returncode == 0, found.stderr
    lines = [line for line in found.stdout.splitlines() if "\t" in line]
    assert lines, found.stdout
    album_id = lines[0].split("\t")[0]
    album = server.cli(
        "spotify", "album", f"https://open.spotify.com/intl-fr/album/{album_id}?si=x"
    )
    assert album.returncode == 0 and " - " in album.stdout.splitlines()[0]
    assert len(album.stdout.splitlines()) >= 4  # header + tracks
    bad = server.cli("spotify", "album", "https://example.com/nope")
    assert bad.returncode == 1 and "Not a Spotify album" in bad.stderr
    for provider, path in (
        ("spotify", "/_fake/spotify/authorize"),
        ("twitch", "/_fake/twitch/oauth2/authorize"),
    ):
        out = server.cli(provider, "auth-url")
        assert out.returncode == 0, out.stderr
        parsed = urllib.parse.urlsplit(out.stdout.strip())
        query = urllib.parse.parse_qs(parsed.query)
        assert (
            parsed.path == path
            and query["state"][0]
            and query["redirect_uri"][0].endswith(f"/auth/{provider}/callback")
        )
    assert "code_challenge" in server.cli("spotify", "auth-url").stdout
    jobs = server.cli("jobs", "failed")
    assert jobs.returncode == 0 and "0 failed job(s)" in jobs.stdout


def test_simulate_chat_drives_a_live_session_whose_report_matches(server_factory: Any) -> None:
    server = server_factory().start()
    assert (
        server.cli("users", "create", "--login", "crowdhost", "--role", "streamer").returncode == 0
    )
    token = server.cli("tokens", "create", "--login", "crowdhost").stdout.strip()
    h = {"Authorization": f"Bearer {token}"}
    me = httpx.get(server.base + "/api/v1/me", headers=h).json()
    album = httpx.get(server.base + "/api/v1/albums/search?q=a", headers=h).json()["albums"][0]
    sid = httpx.post(
        server.base + "/api/v1/sessions",
        headers=h,
        json={"album": album["spotify_id"], "scale": "1-5"},
    ).json()["id"]
    assert httpx.post(server.base + f"/api/v1/sessions/{sid}/start", headers=h).status_code == 200
    out = server.cli(
        "simulate",
        "chat",
        "--url",
        server.base + "/webhooks/twitch",
        "--secret",
        server.env["TWITCH_WEBHOOK_SECRET"],
        "--broadcaster-id",
        me["twitch_user_id"],
        "--broadcaster-login",
        "crowdhost",
        "--viewers",
        "40",
        "--rate",
        "80",
        "--duration",
        "2",
        "--options",
        "1-5",
        "--distribution",
        "weights:1=1,3=2,5=4",
        "--seed",
        "3",
    )
    assert out.returncode == 0, out.stderr
    assert "rejected 0, errors 0" in out.stdout
    dist_line = next(line for line in out.stdout.splitlines() if line.startswith("latest votes"))
    expected = dict(pair.split("=") for pair in dist_line.split(": ", 1)[1].split(", "))
    want = {k: int(v) for k, v in expected.items()}
    got: dict[str, int] = {}
    for _ in range(100):
        report = httpx.get(server.base + f"/api/v1/sessions/{sid}/report", headers=h).json()
        got = report["tracks"][0]["distribution"]
        if got == want:
            break
        import time

        time.sleep(0.1)
    assert got == want and sum(want.values()) > 0
    bad = server.cli(
        "simulate",
        "chat",
        "--url",
        server.base + "/webhooks/twitch",
        "--secret",
        "x" * 20,
        "--broadcaster-id",
        "1",
        "--distribution",
        "zigzag",
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
