"""Typed domain errors. Each maps to one HTTP status and one machine-readable code.

A message is written for the person who reads it (streamer, viewer, operator). Raised with
``refuse``, it keeps its gettext msgid and values apart, so pages and the API can show it in
the reader's language.
"""

from __future__ import annotations

from typing import Any


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


def refuse(kind: type[DomainError], msgid: str, **params: Any) -> DomainError:
    """A ``kind`` error whose message is ``msgid`` with ``params``, translatable later."""
    error = kind(msgid % params if params else msgid)
    error.msgid = msgid
    error.params = params
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
