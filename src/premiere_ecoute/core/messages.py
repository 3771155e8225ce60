"""Commands (imperative) and events (past tense): frozen, typed messages."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, ClassVar, TypeVar

from premiere_ecoute.core.errors import ValidationFailed


@dataclasses.dataclass(frozen=True, kw_only=True)
class Command:
    """A request to change state. ``validate`` runs before the handler, outside any transaction."""

    def validate(self) -> None:
        return None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """Something that happened. ``stream`` names the aggregate the event belongs to."""

    registry: ClassVar[dict[str, type[Event]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Event.registry[cls.__name__] = cls

    @property
    def stream(self) -> str:
        raise NotImplementedError

    @property
    def type(self) -> str:
        return type(self).__name__

    def payload(self) -> dict[str, Any]:
        return {k: _to_json(v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_payload(cls, type_name: str, payload: dict[str, Any]) -> Event:
        klass = Event.registry.get(type_name)
        if klass is None:
            raise ValidationFailed(f"unknown event type {type_name!r}")
        hints = {f.name: f.type for f in dataclasses.fields(klass)}
        kwargs: dict[str, Any] = {}
        for k, v in payload.items():
            if k not in hints:
                continue
            if isinstance(v, str) and "datetime" in str(hints[k]):
                kwargs[k] = dt.datetime.fromisoformat(v)
            elif isinstance(v, list) and "tuple" in str(hints[k]):
                kwargs[k] = tuple(tuple(x) if isinstance(x, list) else x for x in v)
            else:
                kwargs[k] = v
        return klass(**kwargs)


def _to_json(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, tuple | list):
        return [_to_json(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _to_json(x) for k, x in v.items()}
    return v


E = TypeVar("E", bound=Event)
