"""Shared CLI plumbing: settings with readable errors, a container for one command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import typer

from premiere_ecoute.bootstrap import build
from premiere_ecoute.config import Settings, load_settings
from premiere_ecoute.core import migrations
from premiere_ecoute.core.errors import DomainError
from premiere_ecoute.telemetry.logging import configure_logging

T = TypeVar("T")


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings(**overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except DomainError as exc:
        fail(exc.message, 2)
        raise  # unreachable


def quiet_logs() -> None:
    configure_logging("WARNING", json=True)


@asynccontextmanager
async def container(
    s: Settings, *, migrate: bool = True, fakes_at: str | None = None
) -> AsyncIterator[Any]:
    c = build(s, fakes_at=fakes_at)
    if migrate:
        await asyncio.to_thread(migrations.upgrade, c.database_url)
    try:
        yield c
    finally:
        await c.stop()


def run(fn: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; domain errors become one readable line and exit code 1."""
    try:
        return asyncio.run(fn())  # type: ignore[arg-type]
    except DomainError as exc:
        fail(exc.message)
    except KeyboardInterrupt:
        sys.exit(130)
    raise AssertionError("unreachable")
