"""Cost of applying one accepted vote (SPEC §5: O(1) per vote, whatever the session's size).

Runs the real hot-path code (row lock, ``apply_votes``, ``VoteAccepted`` events appended,
commit) against a session that already holds 10 and then 100,000 votes, in batches of 1 and
of 100, and prints milliseconds and database statements per vote.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/vote_cost.py

A throwaway database is created on that server and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import event, text

BULK_SQL = """
INSERT INTO votes (session_id, track_id, viewer_id, is_streamer, value, source, sent_at, changes)
SELECT :sid, ((:tracks)::bigint[])[1 + g % :ntracks], 'bulk' || g, false, (g % 11)::text,
       'chat', :t0 + g * interval '1 millisecond', 0
FROM generate_series(1, :n) AS g
"""
BULK_VOTERS_SQL = """
INSERT INTO session_voters (session_id, viewer_id)
SELECT :sid, 'bulk' || g FROM generate_series(1, :n) AS g
"""


@dataclass
class Result:
    stored: int
    batch: int
    votes: int
    ms_per_vote: float
    p50_batch_ms: float
    statements_per_vote: float


class StatementCounter:
    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._hit)

    def _hit(self, *args: Any) -> None:
        self.count += 1


def _database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def _session_with_votes(c: Any, login: str, stored: int) -> int:
    from premiere_ecoute.accounts.service import create_user
    from premiere_ecoute.sessions import commands as cmd

    user = await create_user(c, login, "streamer")
    row = await c.bus.execute(
        cmd.PrepareSession(user_id=user.id, album="4aawyAB9vmqN3uQ7FjRGTy", playback="manual")
    )
    await c.bus.execute(cmd.StartSession(session_id=row.id, actor_id=user.id))
    params = {
        "sid": row.id,
        "tracks": list(row.track_ids),
        "ntracks": len(row.track_ids),
        "t0": c.clock.now(),
        "n": stored,
    }
    async with c.db.session() as s:
        await s.execute(text(BULK_SQL), params)
        await s.execute(text(BULK_VOTERS_SQL), {"sid": row.id, "n": stored})
        await s.commit()
    async with c.db.engine.connect() as conn:
        await conn.execute(text("ANALYZE votes"))
        await conn.execute(text("ANALYZE session_voters"))
        await conn.commit()
    return int(row.id)


async def _apply_batch(c: Any, session_id: int, votes: list[Any]) -> None:
    from premiere_ecoute.sessions.repository import get_session
    from premiere_ecoute.sessions.voting import apply_votes

    async with c.bus.unit_of_work(actor="bench") as uow:
        row = await get_session(uow.session, session_id, lock=True)
        outcome = await apply_votes(uow.session, row, votes)
        assert len(outcome.accepted) == len(votes), outcome.rejected[:3]
        for ev in outcome.accepted:
            uow.record(ev)
        await uow.commit()


async def _measure(
    c: Any, counter: StatementCounter, session_id: int, stored: int, batch: int, rounds: int
) -> Result:
    from premiere_ecoute.sessions.voting import IncomingVote

    base = c.clock.now()
    serial = 0

    def make(n: int) -> list[IncomingVote]:
        nonlocal serial
        out = []
        for _ in range(n):
            serial += 1
            # one in five is a viewer changing their rating (the upsert's other branch)
            viewer = f"b{batch}-{serial - 1 if serial % 5 == 0 else serial}"
            out.append(
                IncomingVote(
                    viewer_id=viewer,
                    option=str(serial % 11),
                    is_streamer=False,
                    source="chat",
                    sent_at=base + dt.timedelta(milliseconds=serial),
                )
            )
        return out

    for _ in range(3):  # warm the pool and the statement caches
        await _apply_batch(c, session_id, make(batch))
    timings = []
    statements = 0
    for _ in range(rounds):
        votes = make(batch)
        before = counter.count
        started = time.perf_counter()
        await _apply_batch(c, session_id, votes)
        timings.append((time.perf_counter() - started) * 1000)
        statements += counter.count - before
    total_votes = rounds * batch
    return Result(
        stored=stored,
        batch=batch,
        votes=total_votes,
        ms_per_vote=sum(timings) / total_votes,
        p50_batch_ms=statistics.median(timings),
        statements_per_vote=statements / total_votes,
    )


async def run(database_url: str, rounds_of_1: int, rounds_of_100: int) -> list[Result]:
    from premiere_ecoute.bootstrap import build
    from premiere_ecoute.config import Settings
    from premiere_ecoute.core.broker import InMemoryBroker
    from premiere_ecoute.core.clock import FakeClock
    from premiere_ecoute.sessions.memory_ports import MemoryPorts

    clock = FakeClock()
    settings = Settings(
        environment="test",
        secret_key="bench-secret-" + "x" * 32,
        fake_apis=True,
        database_url=database_url,
        log_level="WARNING",
        _env_file=None,
    )
    c = build(
        settings,
        database_url=database_url,
        broker=InMemoryBroker(),
        ports=MemoryPorts(clock=clock),
        clock=clock,
        pool_size=2,
    )
    await c.start()
    try:
        counter = StatementCounter(c.db.engine)
        results = []
        for login, stored in (("benchsmall", 10), ("benchlarge", 100_000)):
            session_id = await _session_with_votes(c, login, stored)
            results.append(await _measure(c, counter, session_id, stored, 1, rounds_of_1))
            results.append(await _measure(c, counter, session_id, stored, 100, rounds_of_100))
        return results
    finally:
        await c.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds-of-1", type=int, default=300)
    parser.add_argument("--rounds-of-100", type=int, default=30)
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL")
    if not server:
        print("Set DATABASE_URL to a PostgreSQL server (a throwaway database is created on it).")
        return 2
    import logging

    import psycopg
    import structlog

    from premiere_ecoute.core import migrations

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    name = f"pe_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = _database(server, name)
        migrations.upgrade(url)
        results = asyncio.run(run(url, args.rounds_of_1, args.rounds_of_100))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        f"{'stored votes':>12} {'batch':>5} {'votes':>6} {'ms/vote':>8} "
        f"{'p50 ms/batch':>12} {'statements/vote':>15}"
    )
    for r in results:
        print(
            f"{r.stored:>12,} {r.batch:>5} {r.votes:>6} {r.ms_per_vote:>8.3f} "
            f"{r.p50_batch_ms:>12.2f} {r.statements_per_vote:>15.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
