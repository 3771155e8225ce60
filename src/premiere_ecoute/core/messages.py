"""Commands (imperative) and events (past tense): frozen, typed messages."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, ClassVar, TypeVar


@dataclasses.dataclass(frozen=True, kw_only=True)
class Command:
    """A request to change state. ``validate`` runs before the handler, outside any transaction."""

    def validate(self) -> None:
        return None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """Something that happened. ``stream`` names the aggregate the event belongs to.

    ``logged`` events are appended to the event log with the change they describe; the
    others only tell subscribers after the commit (e.g. that a live view must refresh)."""

    logged: ClassVar[bool] = True
    registry: ClassVar[dict[str, type[Event]]] = {}  # the admin's event browser lists them

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.logged:
            Event.registry[cls.__name__] = cls

    @property
    def stream(self) -> str:
        raise NotImplementedError

    @property
    def type(self) -> str:
        return type(self).__name__

    def payload(self) -> dict[str, Any]:
        # Field by field rather than dataclasses.asdict (a deep copy): this runs for every
        # accepted vote.
        return {name: _to_json(getattr(self, name)) for name in _field_names(type(self))}


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(klass: type) -> tuple[str, ...]:
    names = _FIELDS.get(klass)
    if names is None:
        names = _FIELDS[klass] = tuple(f.name for f in dataclasses.fields(klass))
    return names


def _to_json(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, tuple | list):
        return [_to_json(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _to_json(x) for k, x in v.items()}
    return v


E = TypeVar("E", bound=Event)
