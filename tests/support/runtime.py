"""Running one piece of a process's background work on demand, for tests."""

from __future__ import annotations

from typing import Any

from premiere_ecoute.sessions import ingest
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.monitor import MonitorSupervisor


async def ingest_once(c: Any, limit: int = 500) -> ingest.IngestResult:
    """One ingest batch of ``c``'s inbox, as the ingest loop runs it: then the renewal of
    the subscriptions it found revoked (which the loop starts in the background)."""
    res = await ingest.ingest_once(c.kernel, c.ingestor, limit)
    for revocation in res.revoked:
        await c.subscriptions.renew_revoked(revocation)
    return res


async def start_monitors(c: Any, *, rescan_s: float = 2.0) -> MonitorSupervisor:
    """Follow playback in ``c`` with a quick rescan (the web process does it at start)."""
    supervisor = MonitorSupervisor(c.kernel, c.ports.playback, rescan_s)
    c.monitors = supervisor
    supervisor.start()
    return supervisor


async def player_reading(c: Any, session_id: int) -> dict[str, Any]:
    """The player monitor's last stored reading of the session ({} when none)."""
    async with c.db.session() as s:
        row = await s.get(ListeningSession, session_id)
        return dict(row.player or {}) if row is not None else {}
