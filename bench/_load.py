"""asyncio load generators: an open-loop webhook sender at a fixed offered rate and a
minimal SSE client, both on raw HTTP/1.1 streams (an HTTP library would cost more CPU than the
server under test).

The sender is open-loop: request ``i`` is due at ``t0 + i / rate`` whether or not earlier ones
were answered, and its latency is counted from that due time, so a server that falls behind
shows its queueing delay instead of slowing the generator down (no coordinated omission)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Clock = Callable[[], float]
now: Clock = time.monotonic  # CLOCK_MONOTONIC: one clock for every process of the machine


async def read_response(reader: asyncio.StreamReader) -> int:
    """Reads one response with a Content-Length body; returns its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


@dataclass
class Sent:
    due: float
    written: float
    done: float
    status: int


@dataclass
class OpenLoop:
    """Sends ``make(i)`` requests at ``rate`` per second for ``seconds`` over at most
    ``connections`` keep-alive connections."""

    host: str
    port: int
    make: Callable[[int], bytes]
    rate: float
    seconds: float
    connections: int = 256
    grace: float = 60.0  # after the last due time, requests still unanswered count as failed
    results: list[Sent] = field(default_factory=list)
    failures: int = 0
    unanswered: int = 0

    async def _conn(self, queue: asyncio.Queue[tuple[int, float] | None]) -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                i, due = item
                try:
                    if writer is None or reader is None:
                        reader, writer = await asyncio.open_connection(self.host, self.port)
                    written = now()
                    writer.write(self.make(i))
                    status = await read_response(reader)
                    self.results.append(Sent(due, written, now(), status))
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                    self.failures += 1
                    if writer is not None:
                        writer.close()
                    reader = writer = None
        finally:
            if writer is not None:
                writer.close()

    async def run(self) -> float:
        """Returns the start time."""
        queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
        workers = [asyncio.create_task(self._conn(queue)) for _ in range(self.connections)]
        total = int(self.rate * self.seconds)
        t0 = now()
        sent = 0
        while sent < total:
            due_count = min(total, int((now() - t0) * self.rate) + 1)
            while sent < due_count:
                queue.put_nowait((sent, t0 + sent / self.rate))
                sent += 1
            await asyncio.sleep(0.002)
        for _ in workers:
            queue.put_nowait(None)
        _, late = await asyncio.wait(workers, timeout=self.grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        # What was still queued or in flight when the grace period ended.
        self.unanswered = total - len(self.results) - self.failures
        return t0


class SSEClient:
    """One SSE stream; follows ``session.votes`` in snapshot and update frames, and when it
    first reaches each count (``seen``). ``frames``/``bytes`` count what it received."""

    def __init__(self, host: str, port: int, path: str, headers: dict[str, str] | None = None):
        self.host, self.port, self.path = host, port, path
        self.headers = headers or {}
        self.votes = -1
        self.seen: list[tuple[float, int]] = []  # (time, votes) at each increase
        self.frames = 0
        self.snapshots = 0
        self.bytes = 0
        self.connected_at: float | None = None
        self.on_votes: Callable[[SSEClient], None] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.task: asyncio.Task[None] | None = None
        self.error: str | None = None

    async def connect(self) -> None:
        """Opens the stream and returns once the first frame (the snapshot) arrived; the rest
        is read by a background task."""
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=2**20)
        self._writer = writer
        extra = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        writer.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nAccept: text/event-stream\r\n"
            f"{extra}\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if head[9:12] != b"200":
            raise RuntimeError(f"stream refused: {head[:12]!r}")
        chunked = b"transfer-encoding: chunked" in head.lower()
        first = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self._read(reader, chunked, first))
        await first

    async def _read(
        self, reader: asyncio.StreamReader, chunked: bool, first: asyncio.Future[None]
    ) -> None:
        buf = b""
        try:
            while True:
                if chunked:
                    size_line = await reader.readuntil(b"\r\n")
                    size = int(size_line.split(b";")[0], 16)
                    data = await reader.readexactly(size + 2)
                    if size == 0:
                        break
                    data = data[:-2]
                else:
                    data = await reader.read(65536)
                    if not data:
                        break
                self.bytes += len(data)
                buf += data
                while True:
                    # sse-starlette ends events with \r\n\r\n, others with \n\n
                    cut = buf.find(b"\r\n\r\n")
                    sep = 4
                    if cut < 0:
                        cut, sep = buf.find(b"\n\n"), 2
                    if cut < 0:
                        break
                    event, buf = buf[:cut], buf[cut + sep :]
                    self._event(event)
                    if not first.done() and self.frames:
                        self.connected_at = now()
                        first.set_result(None)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.error = repr(exc)
        except asyncio.CancelledError:
            pass
        finally:
            if not first.done():
                first.set_exception(RuntimeError(self.error or "stream ended"))

    def _event(self, raw: bytes) -> None:
        kind, data = "", b""
        for line in raw.replace(b"\r\n", b"\n").split(b"\n"):
            if line.startswith(b"event:"):
                kind = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                data += line[5:].strip()
        if not data:
            return  # a ping comment
        self.frames += 1
        if kind == "snapshot":
            self.snapshots += 1
        with contextlib.suppress(ValueError):
            view: Any = json.loads(data)
            session = view.get("session") if isinstance(view, dict) else None
            votes = session.get("votes") if isinstance(session, dict) else None
            if isinstance(votes, int) and votes > self.votes:
                self.votes = votes
                self.seen.append((now(), votes))
                if self.on_votes is not None:
                    self.on_votes(self)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self.task is not None:
            self.task.cancel()


def first_reach(seen: list[tuple[float, int]], target: int) -> float | None:
    """When the stream first showed at least ``target`` votes."""
    for t, votes in seen:
        if votes >= target:
            return t
    return None


async def until_all(clients: list[SSEClient], target: int, timeout: float) -> None:
    """Returns once every client showed ``target`` votes, or after ``timeout``."""
    waiting = {id(c) for c in clients if c.votes < target}
    done = asyncio.Event()

    def reached(c: SSEClient) -> None:
        if c.votes >= target:
            waiting.discard(id(c))
            if not waiting:
                done.set()

    for c in clients:
        c.on_votes = reached
    if waiting:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout)
    for c in clients:
        c.on_votes = None
