"""The session after the stream: the video it was recorded in."""

from __future__ import annotations

from premiere_ecoute.core.unit_of_work import UnitOfWork
from premiere_ecoute.sessions import events
from premiere_ecoute.sessions import repository as repo
from premiere_ecoute.sessions.commands import SetVod
from premiere_ecoute.sessions.models import ListeningSession
from premiere_ecoute.sessions.scores.vod import parse_offset, parse_vod_url


async def set_vod(cmd: SetVod, uow: UnitOfWork) -> ListeningSession:
    """Any state: a streamer may paste the link before, during or after the stream."""
    row = await repo.get_session(uow.session, cmd.session_id, lock=True)
    await repo.authorize(uow.session, row, cmd.actor_id)
    url = parse_vod_url(cmd.url).url if cmd.url.strip() else None
    offset_s = parse_offset(cmd.offset)
    row.vod_url, row.vod_offset_s = url, offset_s
    uow.record(events.VodSet(session_id=row.id, url=url, offset_s=offset_s))
    return row
