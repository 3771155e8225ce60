"""Webhook → inbox → ingest → report, measured on a real `premiere-ecoute serve` process.

Starts the app (embedded PostgreSQL, or DATABASE_URL's server when set), creates a streamer,
starts a session, then sends signed `channel.chat.message` notifications from N concurrent
connections for a fixed count. Reports: webhook requests/s, latency percentiles, and how long
after the last acknowledgement the report counts every vote (ingest lag). Checks that the
report's first track has exactly the votes sent.

    .venv/bin/python bench/webhook_ingest.py [--messages 5000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.apis.twitch.eventsub.signing import format_twitch_timestamp

SECRET = "bench-webhook-secret-77"
EXE = Path(sys.executable).with_name("premiere-ecoute")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    return subprocess.run(
        [str(EXE), *args], env=env, cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def value_of(viewer_index: int) -> str:
    """Each viewer always sends the same rating, so the expected report does not depend on
    how many of their messages a timed run got through."""
    return str((viewer_index * 7919) % 11)


def run_wrk(
    base: str, sub: dict, bid: str, args: argparse.Namespace
) -> tuple[float, float, float, float]:
    """Pre-sign enough deliveries for the run, replay each once with wrk."""
    count = max(args.messages, 20_000 * args.seconds)
    path = Path(tempfile.mkstemp(prefix="pe-wrk-", suffix=".tsv")[1])
    now = format_twitch_timestamp(dt.datetime.now(dt.UTC))
    with path.open("w") as out:
        for i in range(count):
            viewer = i % args.viewers
            vid = str(100_000_000 + viewer)
            event = envelope.chat_message_event(
                bid, "benchstreamer", vid, f"viewer{vid}", value_of(viewer), str(uuid.uuid4())
            )
            body = envelope.notification_body(sub, event)
            mid = str(uuid.uuid4())
            headers = envelope.webhook_headers(
                SECRET, mid, now, "notification", "channel.chat.message", "1", body
            )
            sig = headers["Twitch-Eventsub-Message-Signature"]
            out.write(f"{mid}\t{now}\t{sig}\t{body.decode()}\n")
    script = Path(__file__).with_name("webhook.lua")
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{args.concurrency}",
            f"-d{args.seconds}s",
            "--latency",
            "-s",
            str(script),
            base,
            "--",
            str(path),
            "2",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    t_acked = time.perf_counter()
    path.unlink()
    text = result.stdout
    rate = float(text.split("Requests/sec:")[1].split()[0])

    def pct(label: str) -> float:
        raw = text.split(label)[1].split()[0]
        unit = 1e-6 if raw.endswith("us") else 1e-3 if raw.endswith("ms") else 1.0
        return float(raw.rstrip("mus")) * unit

    non2xx = "Non-2xx" in text
    if non2xx:
        print("warning: some responses were not 2xx:", text.split("Non-2xx")[1].split("\n")[0])
    return rate, pct("50%"), pct("99%"), t_acked


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--viewers", type=int, default=2000)
    ap.add_argument(
        "--driver",
        choices=("wrk", "httpx"),
        default="wrk" if shutil.which("wrk") else "httpx",
        help="wrk (Debian package) measures the server; httpx is the fallback",
    )
    ap.add_argument("--seconds", type=int, default=10, help="wrk run length")
    args = ap.parse_args()

    data = Path(tempfile.mkdtemp(prefix="pe-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWITCH_", "SPOTIFY_"))}
    env.update(
        {
            "PREMIERE_DATA_DIR": str(data / "data"),
            "FAKE_APIS": "1",
            "BASE_URL": base,
            "SECRET_KEY": "bench-secret-key-" + "b" * 32,
            "TWITCH_WEBHOOK_SECRET": SECRET,
            "LOG_LEVEL": "WARNING",
        }
    )
    bench_db = ""
    if os.environ.get("DATABASE_URL"):
        import psycopg

        name = bench_db = f"pe_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
        [str(EXE), "serve", "--port", str(port), "--no-demo"],
        env=env,
        cwd=data,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        async with httpx.AsyncClient(
            base_url=base, timeout=30, limits=httpx.Limits(max_connections=args.concurrency)
        ) as h:
            for _ in range(300):
                try:
                    if (await h.get("/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            cli(env, data, "users", "create", "--login", "benchstreamer", "--role", "streamer")
            token = cli(env, data, "tokens", "create", "--login", "benchstreamer")
            auth = {"Authorization": f"Bearer {token}"}
            me = (await h.get("/api/v1/me", headers=auth)).json()
            album = (await h.get("/api/v1/albums/search?q=a", headers=auth)).json()["albums"][0]
            sid = (
                await h.post(
                    "/api/v1/sessions",
                    headers=auth,
                    json={"album": album["spotify_id"], "playback": "manual"},
                )
            ).json()["id"]
            await h.post(f"/api/v1/sessions/{sid}/start", headers=auth)
            bid = me["twitch_user_id"]
            sub = envelope.subscription_dict(
                str(uuid.uuid4()),
                "channel.chat.message",
                "1",
                {"broadcaster_user_id": bid, "user_id": bid},
                envelope.webhook_transport(base + "/webhooks/twitch"),
                "enabled",
                format_twitch_timestamp(dt.datetime.now(dt.UTC)),
            )
            latest: dict[str, str] = {}
            latencies: list[float] = []
            queue: asyncio.Queue[int] = asyncio.Queue()
            for i in range(args.messages):
                queue.put_nowait(i)

            async def sender() -> None:
                while True:
                    try:
                        i = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    viewer = str(100_000_000 + i % args.viewers)
                    value = value_of(i % args.viewers)
                    event = envelope.chat_message_event(
                        bid, "benchstreamer", viewer, f"viewer{viewer}", value, str(uuid.uuid4())
                    )
                    body = envelope.notification_body(sub, event)
                    mid = str(uuid.uuid4())
                    headers = envelope.webhook_headers(
                        SECRET,
                        mid,
                        format_twitch_timestamp(dt.datetime.now(dt.UTC)),
                        "notification",
                        "channel.chat.message",
                        "1",
                        body,
                    )
                    t0 = time.perf_counter()
                    r = await h.post("/webhooks/twitch", content=body, headers=headers)
                    latencies.append(time.perf_counter() - t0)
                    if r.status_code < 300:
                        latest[viewer] = value

            if args.driver == "wrk":
                rate, p50, p99, t_acked = await asyncio.to_thread(run_wrk, base, sub, bid, args)
                want = {str(o): 0 for o in range(11)}
                for viewer in range(args.viewers):
                    want[value_of(viewer)] += 1
            else:
                t_start = time.perf_counter()
                await asyncio.gather(*(sender() for _ in range(args.concurrency)))
                t_acked = time.perf_counter()
                want = {str(o): 0 for o in range(11)}
                for v in latest.values():
                    want[v] += 1
                q = statistics.quantiles(latencies, n=100)
                rate, p50, p99 = args.messages / (t_acked - t_start), q[49], q[98]
            rep: dict = {}
            while time.perf_counter() - t_acked < 60:
                rep = (await h.get(f"/api/v1/sessions/{sid}/report", headers=auth)).json()
                if rep["tracks"][0]["distribution"] == want:
                    break
                await asyncio.sleep(0.05)
            t_counted = time.perf_counter()
            ok = rep["tracks"][0]["distribution"] == want
            db = "external" if os.environ.get("DATABASE_URL") else "embedded"
            print(
                f"driver {args.driver}, concurrency {args.concurrency}, "
                f"viewers {args.viewers}, database {db}"
            )
            print(f"webhook: {rate:.0f} req/s, p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
            print(
                f"ingest lag after last ack: {(t_counted - t_acked) * 1000:.0f} ms; "
                f"report exact: {ok}"
            )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        shutil.rmtree(data, ignore_errors=True)
        if bench_db:
            import psycopg

            with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
