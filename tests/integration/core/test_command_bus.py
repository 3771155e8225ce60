"""The command bus: validate -> handle in a unit of work -> commit -> dispatch after commit."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import func, select, text

from premiere_ecoute.core.errors import Conflict, ValidationFailed
from premiere_ecoute.core.event_store import StoredEventRow
from premiere_ecoute.core.messages import Command, Event
from premiere_ecoute.core.unit_of_work import UnitOfWork


@dataclasses.dataclass(frozen=True, kw_only=True)
class WriteNote(Command):
    key: str
    fail_after_write: bool = False

    def validate(self) -> None:
        if not self.key:
            raise ValidationFailed("key is required")


@dataclasses.dataclass(frozen=True, kw_only=True)
class NoteWritten(Event):
    key: str

    @property
    def stream(self) -> str:
        return f"note-{self.key}"


async def _ensure_table(c: Any) -> None:
    async with c.db.session() as s:
        await s.execute(text("CREATE TABLE IF NOT EXISTS bus_notes (key text primary key)"))
        await s.execute(text("TRUNCATE bus_notes"))
        await s.commit()


async def write_note(cmd: WriteNote, uow: UnitOfWork) -> str:
    await uow.session.execute(text("INSERT INTO bus_notes VALUES (:k)"), {"k": cmd.key})
    uow.record(NoteWritten(key=cmd.key))
    if cmd.fail_after_write:
        raise Conflict("refused after writing")
    return cmd.key


async def _count(c: Any) -> tuple[int, int]:
    async with c.db.session() as s:
        notes = await s.scalar(text("SELECT count(*) FROM bus_notes"))
        events = await s.scalar(
            select(func.count())
            .select_from(StoredEventRow)
            .where(StoredEventRow.type == "NoteWritten")
        )
    return int(notes or 0), int(events or 0)


@pytest.fixture
async def bus(container: Any) -> Any:
    await _ensure_table(container)
    container.bus.register(WriteNote, write_note)
    return container.bus


async def test_successful_command_commits_state_and_event_and_returns_result(
    bus: Any, container: Any
) -> None:
    seen: list[str] = []

    async def on_note(event: Event) -> None:
        # Dispatched after commit: the row is visible from another connection.
        seen.append(f"{event.type}:{(await _count(container))[0]}")

    container.dispatcher.subscribe(NoteWritten, on_note)
    assert await bus.execute(WriteNote(key="a"), actor="alice") == "a"
    assert await _count(container) == (1, 1)
    assert seen == ["NoteWritten:1"]
    async with container.db.session() as s:
        row = await s.scalar(select(StoredEventRow).where(StoredEventRow.type == "NoteWritten"))
    assert row is not None and row.meta["actor"] == "alice" and row.stream == "note-a"


async def test_validation_failure_reaches_caller_before_any_write(bus: Any, container: Any) -> None:
    with pytest.raises(ValidationFailed, match="key is required"):
        await bus.execute(WriteNote(key=""))
    assert await _count(container) == (0, 0)


async def test_failed_command_rolls_back_and_dispatches_nothing(bus: Any, container: Any) -> None:
    seen: list[Event] = []

    async def on_any(event: Event) -> None:
        seen.append(event)

    container.dispatcher.subscribe(None, on_any)
    with pytest.raises(Conflict, match="refused after writing"):
        await bus.execute(WriteNote(key="b", fail_after_write=True))
    assert await _count(container) == (0, 0)
    assert seen == []


async def test_failing_subscriber_does_not_undo_a_committed_command(
    bus: Any, container: Any
) -> None:
    async def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    container.dispatcher.subscribe(NoteWritten, broken)
    assert await bus.execute(WriteNote(key="c")) == "c"
    assert await _count(container) == (1, 1)
    assert container.dispatcher.failures == 1


async def test_unknown_command_is_refused(container: Any) -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Orphan(Command):
        pass

    with pytest.raises(LookupError):
        await container.bus.execute(Orphan())
