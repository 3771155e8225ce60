"""FastAPI dependencies: the container, the caller."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

if TYPE_CHECKING:
    from premiere_ecoute.bootstrap import Container


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container
