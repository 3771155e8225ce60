"""Helpers of the fault tests: a throwaway PostgreSQL cluster, several ``premiere-ecoute``
processes on one database, signed chat votes with a ledger of what was acknowledged, an SSE
reader, a browser login through the fake Twitch, and polling with deadlines.

Everything talks to the processes from outside (HTTP, the CLI, signals); the database is read
only to observe what a black box shows through its effects (job runs, heartbeats)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.apis.twitch.eventsub.signing import format_twitch_timestamp
from tests.e2e.conftest import EXE, Server, free_port

T = TypeVar("T")
SECRET_KEY = "fault-secret-key-" + "f" * 32
WEBHOOK_SECRET = "fault-webhook-secret-42"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
OPTIONS = [str(n) for n in range(11)]


# --------------------------------------------------------------------------- waiting


def wait_until(
    probe: Callable[[], T | None], timeout: float, step: float = 0.2, what: str = "condition"
) -> T:
    """``probe()`` until it returns something truthy; AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = probe()
        except Exception as exc:  # a process restarting: try again until the deadline
            last = exc
        if last and not isinstance(last, Exception):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout:.0f} s (last: {last!r})")
        time.sleep(step)


# --------------------------------------------------------------------------- PostgreSQL


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


class PgCluster:
    """A PostgreSQL cluster of its own in a temp dir, on a free port, that a test may stop and
    start. As root, the server runs as the ``postgres`` system user (initdb refuses root)."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
            raise FileNotFoundError(f"PostgreSQL server binaries not found in {PG_BIN}")
        self.root = Path(tempfile.mkdtemp(prefix="pe-fault-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise FileNotFoundError("running as root without runuser")
            self._as = [runuser, "-u", "postgres", "--"]
            try:
                shutil.chown(self.root, "postgres", "postgres")
            except LookupError as exc:
                raise FileNotFoundError(f"running as root with no postgres user: {exc}") from exc
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*self._as, *args], capture_output=True, text=True, timeout=120, cwd=self.root
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}")
        return done

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop", check=False
        )
        shutil.rmtree(self.root, ignore_errors=True)


def create_database(server_url: str) -> str:
    import psycopg

    name = f"pe_fault_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(server_url, name)


def drop_database(server_url: str, url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with contextlib.suppress(psycopg.Error), psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def own_cluster() -> Iterator[PgCluster]:
    try:
        cluster = PgCluster()
    except (FileNotFoundError, RuntimeError) as exc:
        pytest.skip(f"cannot make a throwaway PostgreSQL cluster: {exc}")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@contextmanager
def stack_on(server: str, **extra_env: str) -> Iterator[Stack]:
    """A migrated database of its own on ``server``, and the processes started on it."""
    stack = Stack(create_database(server), Path(tempfile.mkdtemp(prefix="pe-fault-")), extra_env)
    try:
        stack.migrate()
        yield stack
    finally:
        stack.close()
        drop_database(server, stack.database_url)
        shutil.rmtree(stack.root, ignore_errors=True)


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
        return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]


def jobs_succeeded_since(url: str, since: datetime) -> list[str]:
    """Names of the jobs procrastinate recorded as succeeded after ``since`` (the effect a
    running job worker leaves; no job runs without it)."""
    rows = query(
        url,
        "SELECT j.task_name FROM procrastinate_events e JOIN procrastinate_jobs j "
        "ON j.id = e.job_id WHERE e.type = 'succeeded' AND e.at > %s",
        since,
    )
    return [r[0] for r in rows]


# --------------------------------------------------------------------------- processes


class Worker(Server):
    """``premiere-ecoute worker`` with the same environment plumbing as ``serve``."""

    def start(self, timeout: float = 60) -> Worker:
        t0 = time.monotonic()
        since = datetime.now(UTC)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(EXE), "worker"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.data,
                start_new_session=True,
            )
        url = self.env["DATABASE_URL"]

        def beating() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"worker exited: {self.log.read_text()[-2000:]}")
            rows = query(url, "SELECT max(beat_at) FROM worker_heartbeats")
            return bool(rows and rows[0][0] and rows[0][0] > since)

        wait_until(beating, timeout, what="worker heartbeat")
        self.started_in = time.monotonic() - t0
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Web(Server):
    """``serve``, whose log is appended to across restarts (a kill -9 keeps its story)."""

    def start(self, timeout: float = 90) -> Web:
        if self.log.exists():
            self.log = self.log.with_name(f"{self.log.stem}.{int(time.time() * 1000)}.log")
        super().start(timeout)
        return self


@dataclass
class Stack:
    """Several processes of one instance on one database: same SECRET_KEY and webhook secret,
    ENVIRONMENT=test (``serve`` then runs no worker, and the fakes are allowed: production
    refuses FAKE_APIS=1)."""

    database_url: str
    root: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[Server] = field(default_factory=list)

    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TWITCH_", "SPOTIFY_", "DATABASE_URL", "REDIS_URL", "METRICS_"))
        }
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "ENVIRONMENT": "test",
                "FAKE_APIS": "1",
                "SECRET_KEY": SECRET_KEY,
                "TWITCH_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "LOG_LEVEL": "INFO",
                "LOG_JSON": "true",
                "WORKER_HEARTBEAT_S": "2",
                "ADMIN_LOGINS": "faultadmin",
                "PREMIERE_DATA_DIR": str(self.root / "embedded-unused"),
            }
        )
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def _dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def web(self, name: str, **env: str) -> Web:
        port = free_port()
        env = {"BASE_URL": f"http://127.0.0.1:{port}", **env}
        server = Web(self.env(**env), self._dir(name), port)
        server.log = server.data / f"{name}.log"
        self.processes.append(server)
        return server

    def worker(
        self, name: str = "worker", base_url: str = "http://127.0.0.1:9", **env: str
    ) -> Worker:
        worker = Worker(self.env(BASE_URL=base_url, **env), self._dir(name), 0)
        worker.log = worker.data / f"{name}.log"
        self.processes.append(worker)
        return worker

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(EXE), *args],
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.root,
        )

    def migrate(self) -> None:
        done = self.cli("migrate")
        assert done.returncode == 0, done.stdout + done.stderr

    def user(self, login: str, role: str = "streamer") -> str:
        """Create a user and return a personal API token of theirs."""
        made = self.cli("users", "create", "--login", login, "--role", role)
        assert made.returncode == 0, made.stderr
        token = self.cli("tokens", "create", "--login", login)
        assert token.returncode == 0, token.stderr
        return token.stdout.strip()

    def logs(self) -> str:
        out = []
        for proc in self.processes:
            for log in sorted(proc.data.glob("*.log")):
                out.append(f"===== {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        return "\n".join(out)

    def close(self) -> None:
        for proc in self.processes:
            if proc.proc is not None:
                proc.stop(signal.SIGKILL)


def start_all(*processes: Server) -> None:
    """Start processes at once (each waits until it answers)."""
    with ThreadPoolExecutor(len(processes)) as pool:
        for future in [pool.submit(p.start) for p in processes]:
            future.result()


# --------------------------------------------------------------------------- the API


def fake_album_id() -> str:
    from premiere_ecoute.apis.spotify.fake.catalogue import Catalogue

    return next(iter(Catalogue.load().albums))


@dataclass
class Api:
    base: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(self.base + path, headers=self.headers, timeout=10, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.post(self.base + path, headers=self.headers, timeout=20, **kw)

    def me(self) -> dict[str, Any]:
        r = self.get("/api/v1/me")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def prepare(self, *, playback: str = "manual") -> int:
        made = self.post("/api/v1/sessions", json={"album": fake_album_id(), "playback": playback})
        assert made.status_code == 201, made.text
        return int(made.json()["id"])

    def start(self, session_id: int) -> None:
        started = self.post(f"/api/v1/sessions/{session_id}/start")
        assert started.status_code == 200, started.text

    def stop(self, session_id: int) -> None:
        stopped = self.post(f"/api/v1/sessions/{session_id}/stop")
        assert stopped.status_code == 200, stopped.text

    def running_session(self) -> int:
        session_id = self.prepare()
        self.start(session_id)
        return session_id

    def distribution(self, session_id: int) -> Counter[str]:
        """Viewer votes per option, summed over the tracks of the session's report."""
        r = self.get(f"/api/v1/sessions/{session_id}/report")
        assert r.status_code == 200, r.text
        total: Counter[str] = Counter()
        for track in r.json()["tracks"]:
            total.update({k: v for k, v in track["distribution"].items() if v})
        return total


# --------------------------------------------------------------------------- chat votes


@dataclass
class Vote:
    message_id: str
    viewer_id: str
    value: str
    body: bytes


@dataclass
class Chat:
    """Signed ``channel.chat.message`` deliveries to a streamer's channel, one viewer each."""

    broadcaster_id: str
    broadcaster_login: str
    secret: str = WEBHOOK_SECRET
    viewer_base: int = 300_000_000

    def __post_init__(self) -> None:
        self.subscription = envelope.subscription_dict(
            str(uuid.uuid4()),
            "channel.chat.message",
            "1",
            {"broadcaster_user_id": self.broadcaster_id, "user_id": self.broadcaster_id},
            envelope.webhook_transport("http://127.0.0.1/webhooks/twitch"),
            "enabled",
            format_twitch_timestamp(datetime.now(UTC)),
        )

    def vote(self, n: int, value: str | None = None, message_id: str | None = None) -> Vote:
        viewer = str(self.viewer_base + n)
        value = OPTIONS[n % len(OPTIONS)] if value is None else value
        event = envelope.chat_message_event(
            self.broadcaster_id,
            self.broadcaster_login,
            viewer,
            f"viewer{viewer}",
            value,
            str(uuid.uuid4()),
        )
        body = envelope.notification_body(self.subscription, event)
        return Vote(message_id or str(uuid.uuid4()), viewer, value, body)

    def votes(self, count: int, start: int = 0) -> list[Vote]:
        return [self.vote(n) for n in range(start, start + count)]

    def conflicting(self, vote: Vote, n: int) -> Vote:
        """The same message id with another rating: Twitch never does this; a redelivery
        counted again would show up in the distribution."""
        other = OPTIONS[(OPTIONS.index(vote.value) + 5) % len(OPTIONS)]
        copy = self.vote(n, other, message_id=vote.message_id)
        return Vote(vote.message_id, copy.viewer_id, other, copy.body)

    def headers(self, vote: Vote) -> dict[str, str]:
        return envelope.webhook_headers(
            self.secret,
            vote.message_id,
            format_twitch_timestamp(datetime.now(UTC)),
            "notification",
            "channel.chat.message",
            "1",
            vote.body,
        )


@dataclass
class Ledger:
    """Every answer each message id got."""

    answers: dict[str, list[int | str]] = field(default_factory=dict)
    votes: dict[str, Vote] = field(default_factory=dict)

    def record(self, vote: Vote, answer: int | str) -> None:
        self.votes.setdefault(vote.message_id, vote)
        self.answers.setdefault(vote.message_id, []).append(answer)

    @property
    def acked(self) -> set[str]:
        return {mid for mid, answers in self.answers.items() if 204 in answers}

    def unacked(self) -> list[Vote]:
        acked = self.acked
        return [self.votes[mid] for mid in self.answers if mid not in acked]

    def answer_counts(self) -> Counter[str]:
        return Counter(str(a) for answers in self.answers.values() for a in answers)

    def expected_distribution(self) -> Counter[str]:
        """What the report must show: the first body of every acknowledged message."""
        return Counter(self.votes[mid].value for mid in self.acked)


async def deliver(client: httpx.AsyncClient, url: str, chat: Chat, vote: Vote) -> int | str:
    try:
        r = await client.post(url, content=vote.body, headers=chat.headers(vote))
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return r.status_code


async def burst(
    targets: Callable[[int], str],
    chat: Chat,
    votes: Iterable[Vote],
    ledger: Ledger,
    *,
    concurrency: int = 16,
    rate: float | None = None,
    on_sent: Callable[[int], Awaitable[None]] | None = None,
) -> None:
    """Send ``votes`` (the i-th to ``targets(i)``), at most ``rate`` per second, recording
    each answer. ``on_sent(i)`` runs after the i-th answer (to inject a fault mid-burst)."""
    gate = asyncio.Semaphore(concurrency)
    loop = asyncio.get_running_loop()
    started = loop.time()

    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0)) as client:

        async def one(i: int, vote: Vote) -> None:
            async with gate:
                ledger.record(vote, await deliver(client, targets(i), chat, vote))
            if on_sent is not None:
                await on_sent(i)

        tasks = []
        for i, vote in enumerate(votes):
            if rate is not None:
                await asyncio.sleep(max(0.0, started + i / rate - loop.time()))
            tasks.append(asyncio.create_task(one(i, vote)))
        await asyncio.gather(*tasks)


async def redeliver_unacked(
    urls: list[str], chat: Chat, ledger: Ledger, timeout: float = 60
) -> None:
    """What Twitch does: deliver again, same id and body, every message not answered 204."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0)) as client:
        n = 0
        while ledger.unacked():
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(ledger.unacked())} messages never acknowledged")
            for vote in ledger.unacked():
                ledger.record(vote, await deliver(client, urls[n % len(urls)], chat, vote))
                n += 1
            if ledger.unacked():
                await asyncio.sleep(0.5)


async def redeliver_conflicting(
    urls: list[str], chat: Chat, ledger: Ledger, sample: int = 200
) -> Counter[str]:
    """Send again, with the same message id but another rating, some acknowledged messages;
    each must be answered 204 and change nothing. Returns the answers."""
    answers: Counter[str] = Counter()
    acked = sorted(ledger.acked)[:sample]
    async with httpx.AsyncClient(timeout=10) as client:
        for n, mid in enumerate(acked):
            vote = ledger.votes[mid]
            other = chat.conflicting(vote, int(vote.viewer_id) - chat.viewer_base)
            answers[str(await deliver(client, urls[n % len(urls)], chat, other))] += 1
    return answers


def wait_counted(
    api: Api, session_id: int, expected: Counter[str], timeout: float = 60
) -> Counter[str]:
    """The report's distribution once it holds as many votes as ``expected`` and has stayed
    the same for 2 s (a late duplicate would change it); the last one seen after ``timeout``."""
    want = sum(expected.values())
    seen: list[tuple[float, Counter[str]]] = []

    def settled() -> Counter[str] | None:
        now = api.distribution(session_id)
        seen.append((time.monotonic(), now))
        if sum(now.values()) < want:
            return None
        changed_at = max((t for t, d in seen if d != now), default=seen[0][0])
        return now if time.monotonic() - changed_at >= 2.0 else None

    try:
        return wait_until(settled, timeout, step=0.5, what=f"{want} votes counted")
    except AssertionError:
        return seen[-1][1] if seen else Counter()


# --------------------------------------------------------------------------- SSE


@dataclass
class SseEvent:
    event: str
    data: str
    retry: int | None = None

    def json(self) -> Any:
        return json.loads(self.data)


class SseReader:
    """Reads one SSE stream in a thread; events and how the stream ended are kept."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.headers = headers or {}
        self.events: list[SseEvent] = []
        self.lines: list[str] = []
        self.status: int | None = None
        self.error: BaseException | None = None
        self.ended = threading.Event()
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(60.0, connect=5.0)) as client,
                client.stream("GET", self.url, headers=self.headers) as r,
            ):
                self._response = r
                self.status = r.status_code
                event, data, retry = "message", [], None
                for line in r.iter_lines():
                    self.lines.append(line)
                    if not line:
                        if data or retry is not None:
                            self.events.append(SseEvent(event, "\n".join(data), retry))
                        event, data, retry = "message", [], None
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].lstrip(" "))
                    elif line.startswith("retry:"):
                        retry = int(line[6:].strip() or 0)
        except BaseException as exc:
            self.error = exc
        finally:
            self.ended.set()

    def wait(self, predicate: Callable[[SseEvent], bool], timeout: float) -> SseEvent:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            while seen < len(self.events):
                event = self.events[seen]
                seen += 1
                if predicate(event):
                    return event
            if self.ended.is_set() and seen >= len(self.events):
                break
            time.sleep(0.05)
        raise AssertionError(
            f"no matching SSE event on {self.url} in {timeout:.0f} s "
            f"(status {self.status}, {len(self.events)} events, error {self.error!r})"
        )

    def close(self) -> None:
        if self._response is not None:
            with contextlib.suppress(Exception):  # closed from another thread: best effort
                self._response.close()
        self._thread.join(2)


def session_votes(event: SseEvent) -> int | None:
    """Votes of the session in a snapshot/update event (None for other events)."""
    if event.event not in ("snapshot", "update"):
        return None
    data = event.json()
    session = data.get("session") or {}
    report = data.get("report") or {}
    votes = session.get("votes", report.get("votes"))
    return int(votes) if votes is not None else None


# --------------------------------------------------------------------------- browsers


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN_RE = re.compile(r'class="token-value">([^<]+)<')


@dataclass
class Browser:
    """A logged-in (or anonymous) browser: cookies and this session's CSRF token."""

    client: httpx.Client
    csrf: str | None = None
    login: str | None = None

    def close(self) -> None:
        self.client.close()


def browser_login(base: str, login: str | None) -> Browser:
    """Log in as ``login`` through the fake Twitch, as a person would (None: anonymous)."""
    client = httpx.Client(base_url=base, timeout=20, headers={"Accept": "text/html"})
    if login is not None:
        start = client.get("/auth/twitch/login")
        assert start.status_code in (302, 303, 307), start.text[:200]
        authorize = start.headers["location"]
        consent = client.post(authorize, data={"login": login})
        assert consent.status_code in (302, 303, 307), consent.text[:200]
        callback = client.get(consent.headers["location"])
        assert callback.status_code in (302, 303), callback.text[:300]
    page = client.get("/account" if login else "/")
    found = CSRF_RE.search(page.text)
    return Browser(client, found.group(1) if found else None, login)


# --------------------------------------------------------------------------- the route table


PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # the template, as the app declares it

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)

    def url(self, **values: object) -> str:
        return PARAM.sub(lambda m: str(values[m.group(1)]), self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def route_table() -> list[Route]:
    """Every (method, path) the app serves, read from the app's own route table (mounted
    sub-apps such as /static and the fakes excepted), so a new route is covered at once."""
    from fastapi import routing

    from premiere_ecoute.bootstrap import build, web_app
    from tests.conftest import make_settings

    c = build(make_settings(database_url="postgresql://nobody@127.0.0.1:9/unused"))
    app = web_app(c, run_background=False)
    walk = getattr(routing, "iter_route_contexts", None)  # FastAPI's lazily included routers
    entries = list(walk(app.router.routes)) if walk else list(app.routes)
    routes = set()
    for entry in entries:
        path, methods = getattr(entry, "path", None), getattr(entry, "methods", None)
        if path and methods:
            routes.update(Route(m, path) for m in methods if m != "HEAD")
    return sorted(routes, key=lambda r: (r.path, r.method))


# --------------------------------------------------------------------------- raw HTTP


def raw_request(
    port: int,
    method: str,
    target: str,
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes = b"",
    timeout: float = 15,
) -> tuple[int | str, bytes]:
    """One HTTP/1.1 request written byte for byte (a client library would refuse or re-encode
    hostile header bytes); returns the status (or what happened instead) and the head of the
    answer. Only the head is read: an SSE stream never ends."""
    import socket

    lines = [f"{method} {target} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
    lines += [name + b": " + value for name, value in headers]
    lines += [b"Content-Length: " + str(len(body)).encode(), b"Connection: close"]
    request = b"\r\n".join(lines) + b"\r\n\r\n" + body
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(request)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                head += chunk
    except TimeoutError:
        return "timeout", b""
    except OSError as exc:
        return type(exc).__name__, b""
    match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return (int(match.group(1)) if match else "no answer"), head


def web_user(base: str, login: str, token_name: str = "faults") -> str:
    """A user made the way people are made, by logging in through the fake Twitch (``viewer*``
    logins are viewers, ADMIN_LOGINS admins, the others affiliates, so streamers), and an API
    token made on their account page. Quicker than the CLI; no Spotify link, though."""
    browser = browser_login(base, login)
    try:
        made = browser.client.post(
            "/account/tokens",
            data={"csrf_token": browser.csrf or "", "name": token_name},
            follow_redirects=True,  # post/redirect/get: the account page shows it once
        )
        found = TOKEN_RE.search(made.text)
        assert made.status_code == 200 and found, made.text[:300]
        return found.group(1)
    finally:
        browser.close()
