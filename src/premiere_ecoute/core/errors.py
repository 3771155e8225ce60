"""Typed domain errors. Each maps to one HTTP status and one machine-readable code.

A message is written for the person who reads it (streamer, viewer, operator). Raised with
``refuse``, it keeps its gettext msgid and values apart, so pages and the API can show it in
the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar


class DomainError(Exception):
    status_code: int = 400
    code: str = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.msgid: str | None = None
        self.params: dict[str, Any] = {}


def N_(msgid: str) -> str:
    """Marks a msgid for extraction; the reader's language is applied when it is shown."""
    return msgid


class Msg(str):
    """A msgid given as a value of another message (``refuse(..., what=Msg(N_("...")))``):
    translated with it. Other values are shown as they are."""

    __slots__ = ()


E = TypeVar("E", bound="DomainError")


def refuse(
    kind: type[E], msgid: str, /, *, extra: Mapping[str, Any] | None = None, **params: Any
) -> E:
    """A ``kind`` error whose message is ``msgid`` with ``params``, translatable later;
    ``extra`` goes to the error's constructor (``service=`` of an external error)."""
    error = kind(msgid % params if params else msgid, **(extra or {}))
    error.msgid = msgid
    error.params = params
    return error


def refuse_as(kind: type[E], cause: DomainError, /, **extra: Any) -> E:
    """A ``kind`` error that says what ``cause`` said, in the reader's language too."""
    error = kind(cause.message, **extra)
    error.msgid = cause.msgid
    error.params = dict(cause.params)
    return error


class ValidationFailed(DomainError):
    status_code = 422
    code = "validation_failed"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class InvalidState(DomainError):
    status_code = 409
    code = "invalid_state"


class AccountNotConnected(InvalidState):
    """The user's account at a provider is not linked, or must be linked again: retrying
    will not help until they reconnect it."""

    code = "not_connected"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class ExternalServiceError(DomainError):
    """An external API (Spotify, Twitch) refused or failed. ``service`` names it."""

    status_code = 502
    code = "external_service_error"

    def __init__(self, message: str, *, service: str = "", retry_after_s: float | None = None):
        super().__init__(message)
        self.service = service
        self.retry_after_s = retry_after_s


class ServiceUnavailable(ExternalServiceError):
    """The circuit for an external API is open: we do not call it right now."""

    status_code = 503
    code = "service_unavailable"
