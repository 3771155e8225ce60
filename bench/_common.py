"""Shared plumbing of the benchmarks: a throwaway database, the real processes (``serve``,
``worker``) and the bare baseline app, a seeded streamer with an active session, signed
EventSub deliveries, ``wrk``, CPU accounting and the optional py-spy profile.

Every script runs its subject and its baseline alternately, ``ROUNDS`` times, and reports
medians. Nothing here imports the app's internals beyond the EventSub envelope builders (the
same JSON Twitch sends) and the signing function."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

from premiere_ecoute.apis.twitch.eventsub import envelope
from premiere_ecoute.apis.twitch.eventsub.signing import format_twitch_timestamp, sign

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BIN = Path(sys.executable).parent
EXE = BIN / "premiere-ecoute"
SECRET = "bench-webhook-secret-0123456789"
SECRET_KEY = "bench-secret-key-" + "b" * 32
ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Our chatters' Twitch ids: ten digits from here, apart from the fakes' nine-digit ids (the fake
# Twitch echoes the bot's own chat messages back as deliveries).
CHATTER_BASE = 3_000_000_000
CHATTERS = "3_________"  # LIKE pattern of those ids
OUT = Path(os.environ.get("BENCH_OUT", tempfile.gettempdir())) / "pe-bench"


def _terminated(signum: int, frame: Any) -> None:
    # SIGTERM unwinds like Ctrl-C: the `finally` blocks stop the processes and drop the database.
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _terminated)


def log(*parts: Any) -> None:
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


def median(values: Sequence[float]) -> float:
    clean = [v for v in values if v == v]  # drop NaN
    return statistics.median(clean) if clean else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def raise_fd_limit(want: int = 65536) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# The database ------------------------------------------------------------------------------


def db_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@contextlib.contextmanager
def fresh_database(tag: str) -> Iterator[str]:
    """A new database on DATABASE_URL's server for this run, dropped afterwards."""
    name = f"pe_bench_{tag}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield db_url(name)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_backend_cpu(url: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to ``url``'s database
    (PostgreSQL runs on this machine)."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        pids = [
            r[0]
            for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))
        ]
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
    return total


# Processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    logfile: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu(self) -> float:
        """CPU seconds (user + system) of the process and its children so far."""
        try:
            p = psutil.Process(self.pid)
            t = p.cpu_times()
            total = t.user + t.system
            for child in p.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    c = child.cpu_times()
                    total += c.user + c.system
            return total
        except psutil.Error:
            return float("nan")

    def rss(self) -> int:
        try:
            return int(psutil.Process(self.pid).memory_info().rss)
        except psutil.Error:
            return 0

    def stop(self, timeout: float = 20) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(5)

    def tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        return ""


def spawn(name: str, argv: list[str], env: dict[str, str], cwd: Path) -> Proc:
    OUT.mkdir(parents=True, exist_ok=True)
    logfile = OUT / f"{name}-{uuid.uuid4().hex[:6]}.log"
    with logfile.open("wb") as out:
        popen = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return Proc(name, popen, logfile)


def wait_http(url: str, proc: Proc, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not answer {url} in {timeout} s:\n{proc.tail()}")


def app_env(database_url: str, base: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWITCH_", "SPOTIFY_", "REDIS_URL", "DATABASE_URL"))
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            # "test": the web process runs no job worker of its own (`worker` does) and no demo
            # seed; everything else is as in development, the built-in fakes included.
            "ENVIRONMENT": "test",
            "FAKE_APIS": "1",
            "BASE_URL": base,
            "SECRET_KEY": SECRET_KEY,
            "TWITCH_WEBHOOK_SECRET": SECRET,
            "LOG_LEVEL": "WARNING",
            "PREMIERE_DATA_DIR": str(OUT / "data"),
        }
    )
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    return env


@dataclass
class Stack:
    """One ``serve`` process (and one ``worker`` unless ``worker=False``) on a database."""

    base: str
    env: dict[str, str]
    web: Proc
    worker: Proc | None
    database_url: str

    def procs(self) -> list[Proc]:
        return [self.web] + ([self.worker] if self.worker else [])

    def cpu(self) -> float:
        return sum(p.cpu() for p in self.procs())

    def stop(self) -> None:
        for p in reversed(self.procs()):
            p.stop()


def start_stack(database_url: str, *, worker: bool = True) -> Stack:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = app_env(database_url, base)
    web = spawn("serve", [str(EXE), "serve", "--port", str(port), "--no-demo"], env, ROOT)
    try:
        wait_http(base + "/health", web)
        wk = spawn("worker", [str(EXE), "worker"], env, ROOT) if worker else None
    except BaseException:
        web.stop()
        raise
    return Stack(base, env, web, wk, database_url)


def start_bare(*, broadcast: bool = False) -> tuple[str, Proc]:
    """The baseline: ``bench/bare_app.py`` (HMAC check only; with ``broadcast`` it also counts
    the votes and pushes them to its SSE clients) under uvicorn with the same options."""
    port = free_port()
    env = dict(os.environ)
    env.update({"BARE_SECRET": SECRET, "BARE_BROADCAST": "1" if broadcast else "0"})
    proc = spawn(
        "bare", [sys.executable, str(BENCH / "bare_app.py"), "--port", str(port)], env, ROOT
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/health", proc)
    return base, proc


# A streamer with an active session ---------------------------------------------------------


@dataclass
class Seeded:
    login: str
    user_id: int
    broadcaster_id: str
    session_id: int
    token: str
    subscription: dict[str, Any] = field(default_factory=dict)


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(EXE), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"premiere-ecoute {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def seed_session(stack: Stack, login: str) -> Seeded:
    """A streamer (fake Twitch and Spotify accounts) with a started session, manual playback,
    the first track's vote window open."""
    cli(stack.env, "users", "create", "--login", login, "--role", "streamer")
    token = cli(stack.env, "tokens", "create", "--login", login)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=stack.base, headers=auth, timeout=60) as h:
        me = h.get("/api/v1/me").raise_for_status().json()
        albums = h.get("/api/v1/albums/search", params={"q": "a"}).raise_for_status().json()
        album = albums["albums"][0]["spotify_id"]
        created = h.post("/api/v1/sessions", json={"album": album, "playback": "manual"})
        sid = int(created.raise_for_status().json()["id"])
        h.post(f"/api/v1/sessions/{sid}/start").raise_for_status()
    bid = str(me["twitch_user_id"])
    sub = envelope.subscription_dict(
        str(uuid.uuid4()),
        "channel.chat.message",
        "1",
        {"broadcaster_user_id": bid, "user_id": bid},
        envelope.webhook_transport(stack.base + "/webhooks/twitch"),
        "enabled",
        twitch_now(),
    )
    return Seeded(login, int(me["id"]), bid, sid, token, sub)


def bare_seed(base: str) -> Seeded:
    """The baseline has no database: any broadcaster will do."""
    bid = "900000001"
    sub = envelope.subscription_dict(
        str(uuid.uuid4()),
        "channel.chat.message",
        "1",
        {"broadcaster_user_id": bid, "user_id": bid},
        envelope.webhook_transport(base + "/webhooks/twitch"),
        "enabled",
        twitch_now(),
    )
    return Seeded("bare", 1, bid, 1, "", sub)


# Signed deliveries -------------------------------------------------------------------------


def twitch_now() -> str:
    return format_twitch_timestamp(dt.datetime.now(dt.UTC))


def vote_value(chatter: int) -> str:
    """Every chatter always sends the same rating, so the expected report is known."""
    return str((chatter * 7919) % 11)


class Signer:
    """Signed ``channel.chat.message`` deliveries of one seeded session, cheap to make: the
    body is a template of the real envelope with the varying fields substituted."""

    def __init__(self, seeded: Seeded, secret: str = SECRET) -> None:
        event = envelope.chat_message_event(
            seeded.broadcaster_id,
            seeded.login,
            "@@CHATTER@@",
            "v@@CHATTER@@",
            "@@TEXT@@",
            "@@MID@@",
        )
        event["message"]["fragments"] = [
            {"type": "text", "text": "@@TEXT@@", "cheermote": None, "emote": None, "mention": None}
        ]
        self._template = envelope.notification_body(seeded.subscription, event).decode()
        self._secret = secret

    def delivery(self, chatter: int, text: str | None = None) -> tuple[str, str, str, bytes]:
        """(message id, timestamp, signature, body) of one vote by ``chatter``."""
        value = vote_value(chatter) if text is None else text
        body = (
            self._template.replace("@@CHATTER@@", str(CHATTER_BASE + chatter))
            .replace("@@TEXT@@", value)
            .replace("@@MID@@", uuid.uuid4().hex)
            .encode()
        )
        mid = str(uuid.uuid4())
        ts = twitch_now()
        return mid, ts, sign(self._secret, mid, ts, body), body

    def request(self, chatter: int, host: str) -> bytes:
        """The raw HTTP/1.1 request of one delivery."""
        mid, ts, sig, body = self.delivery(chatter)
        head = (
            f"POST /webhooks/twitch HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/json\r\n"
            f"Twitch-Eventsub-Message-Id: {mid}\r\n"
            "Twitch-Eventsub-Message-Retry: 0\r\n"
            "Twitch-Eventsub-Message-Type: notification\r\n"
            f"Twitch-Eventsub-Message-Timestamp: {ts}\r\n"
            f"Twitch-Eventsub-Message-Signature: {sig}\r\n"
            "Twitch-Eventsub-Subscription-Type: channel.chat.message\r\n"
            "Twitch-Eventsub-Subscription-Version: 1\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    def write_pool(self, path: Path, count: int, first_chatter: int = 0) -> Path:
        """``count`` deliveries, one per new chatter, for ``bench/webhooks.lua``."""
        with path.open("w") as out:
            for i in range(count):
                mid, ts, sig, body = self.delivery(first_chatter + i)
                out.write(f"{mid}\t{ts}\t{sig}\t{body.decode()}\n")
        return path


# wrk ---------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int  # responses received
    non2xx: int
    errors: int  # connect/read/write errors and timeouts
    seconds: float
    p50_ms: float
    p99_ms: float
    issued: int  # requests sent, unique deliveries among them
    wrapped: int  # sent again after the pool ran out (redeliveries)
    cpu_s: float  # CPU time of wrk itself

    @property
    def acked(self) -> int:
        return self.requests - self.non2xx

    @property
    def rate(self) -> float:
        return self.acked / self.seconds if self.seconds else 0.0


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        sys.exit("wrk is missing: `apt-get install wrk` (or run bench/setup)")
    return path


def run_wrk(
    base: str, pool: Path, seconds: float, connections: int = 64, threads: int = 1
) -> WrkResult:
    """Replays the pool's signed deliveries with wrk, each once, for ``seconds``."""
    argv = [
        require_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "webhooks.lua"),
        base,
        "--",
        str(pool),
        str(threads),
    ]
    with tempfile.TemporaryFile() as err:
        popen = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err)
        assert popen.stdout is not None
        out = popen.stdout.read()
        # Reaped here, not by Popen, to read wrk's own CPU time.
        _, status, usage = os.wait4(popen.pid, 0)
        popen.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        err.seek(0)
        err_text = err.read().decode(errors="replace")
    text = out.decode()
    found = re.search(r"^BENCH (\{.*\})$", text, re.M)
    if popen.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed ({popen.returncode}): {text}\n{err_text}")
    data = json.loads(found.group(1))
    return WrkResult(
        requests=int(data["requests"]),
        non2xx=int(data["status"]),
        errors=int(data["connect"] + data["read"] + data["write"] + data["timeout"]),
        seconds=float(data["duration_us"]) / 1e6,
        p50_ms=float(data["p50_us"]) / 1000,
        p99_ms=float(data["p99_us"]) / 1000,
        issued=int(data["issued"]),
        wrapped=int(data["wrapped"]),
        cpu_s=cpu,
    )


# Checks against the database ---------------------------------------------------------------


def wait_drained(url: str, timeout: float = 180) -> float:
    """Seconds until the inbox has nothing left to process."""
    t0 = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() - t0 < timeout:
            row = conn.execute("SELECT count(*) FROM inbox WHERE processed_at IS NULL").fetchone()
            if row is not None and row[0] == 0:
                return time.monotonic() - t0
            time.sleep(0.05)
    raise RuntimeError(f"the inbox was not drained in {timeout} s")


@dataclass
class Count:
    votes: int  # vote rows of the session
    distinct_viewers: int
    inbox: int  # chat messages stored for the session's broadcaster
    errors: int  # inbox rows the ingest marked as failed
    distribution_ok: bool  # every counted vote has its chatter's value

    def check(self, acked: int, issued: int) -> str:
        """'exact' when every acknowledged delivery was counted once and nothing more than
        what was sent; else what is wrong."""
        problems = []
        if self.votes != self.distinct_viewers:
            problems.append(f"{self.votes} votes for {self.distinct_viewers} viewers")
        if self.votes != self.inbox:
            problems.append(f"{self.inbox} stored but {self.votes} counted")
        if self.votes < acked:
            problems.append(f"{acked} acknowledged but {self.votes} counted")
        if self.votes > issued:
            problems.append(f"{self.votes} counted but only {issued} sent")
        if self.errors:
            problems.append(f"{self.errors} inbox errors")
        if not self.distribution_ok:
            problems.append("values differ from those sent")
        return "exact" if not problems else "; ".join(problems)


def count_votes(url: str, seeded: Seeded) -> Count:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT viewer_id, value FROM votes "
            "WHERE session_id = %s AND NOT is_streamer AND viewer_id LIKE %s",
            (seeded.session_id, CHATTERS),
        ).fetchall()
        inbox = conn.execute(
            "SELECT count(*), count(error) FROM inbox "
            "WHERE kind = 'chat' AND payload ->> 'broadcaster_id' = %s "
            "AND payload ->> 'chatter_id' LIKE %s",
            (seeded.broadcaster_id, CHATTERS),
        ).fetchone()
    assert inbox is not None
    viewers = Counter(r[0] for r in rows)
    ok = all(vote_value(int(v) - CHATTER_BASE) == value for v, value in rows)
    return Count(len(rows), len(viewers), int(inbox[0]), int(inbox[1]), ok)


# py-spy ------------------------------------------------------------------------------------


def require_pyspy() -> str:
    path = BIN / "py-spy"
    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True, cwd=ROOT
        )
    return str(path)


class Profiler:
    """``py-spy record`` of one process while a measurement runs; ``summary()`` gives the
    functions with the most own time (samples where they are the innermost frame)."""

    def __init__(self, pid: int, label: str, seconds: float) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        self.label = label
        self.raw = OUT / f"profile-{label}-{uuid.uuid4().hex[:6]}.txt"
        self.popen = subprocess.Popen(
            [
                require_pyspy(),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(max(1, round(seconds))),
                "--rate",
                "100",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(self.raw),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """Ends the recording now (py-spy writes its output on SIGINT)."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)

    def summary(self, top: int = 15) -> str:
        try:
            self.popen.wait(60)
        except subprocess.TimeoutExpired:
            self.popen.terminate()
            self.popen.wait(5)
        return summarise_profile(self.raw, self.label, top)


def summarise_profile(raw: Path, label: str, top: int = 15) -> str:
    """Top own time (innermost frame) over the busy samples, then the app's own functions by
    inclusive time (the sample's stack passes through them)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    with contextlib.suppress(OSError):
        for line in raw.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = stack.split(";")
            own[_short(frames[-1])] += n
            for name in {_short(f) for f in frames if "premiere_ecoute/" in f and "/cli/" not in f}:
                inclusive[name] += n
    if not total:
        return f"profile {label}: no samples"
    lines = [f"py-spy profile of {label}: {total} samples (busy only), top own time:"]
    for name, n in own.most_common(top):
        lines.append(f"  {100 * n / total:5.1f} %  {name}")
    lines.append("  the app's functions by inclusive time:")
    for name, n in inclusive.most_common(10):
        lines.append(f"  {100 * n / total:5.1f} %  {name}")
    return "\n".join(lines)


def _short(frame: str) -> str:
    # "function (path/to/module.py:123)" -> "function (module.py)"
    m = re.match(r"^(.*) \((.*?):?\d*\)$", frame)
    if not m:
        return frame
    fn, path = m.groups()
    parts = Path(path.rstrip(":0123456789")).parts
    where = "/".join(parts[-2:]) if parts else path
    return f"{fn} ({where})"


# Reports -----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram_gb": f"{psutil.virtual_memory().total / 2**30:.1f}",
        "postgresql": str(row[0]) if row else "?",
        "python": platform.python_version(),
        "load_avg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def emit(script: str, result: dict[str, Any]) -> None:
    """Print the result and write it as JSON for ``run_all.py``."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{script}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"RESULT {script} -> {path}")
    print(json.dumps(result, indent=2, default=str))
