"""One call to the Spotify Web API: breaker, retries, metrics and error mapping.

Every per-resource module goes through ``SpotifyApi.call`` so the rules of SPEC §7 hold for
every endpoint: GETs are retried on 5xx/timeouts with backoff, other methods never are; a 429
opens the circuit for ``Retry-After`` seconds; Spotify's error reasons become messages a
streamer understands.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx
import stamina
import structlog

from premiere_ecoute.apis.spotify import parser
from premiere_ecoute.core.errors import N_, ExternalServiceError, refuse
from premiere_ecoute.core.resilience.breaker import CircuitBreaker
from premiere_ecoute.core.resilience.metrics import ApiCallMetrics

PROVIDER = "spotify"
NO_DEVICE_MESSAGE = N_("Open Spotify on a device first")
PREMIUM_MESSAGE = N_("Spotify Premium is required for playback control")
RECONNECT_MESSAGE = N_("Spotify refused our access; please reconnect Spotify on your account page")
DEFAULT_RETRY_AFTER_S = 5.0
GET_ATTEMPTS = 3

log = structlog.get_logger(__name__)


class _Retryable(Exception):
    """A GET failed in a way worth retrying (5xx, timeout, connection error)."""

    def __init__(self, status: int | str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SpotifyApi:
    def __init__(
        self,
        http: httpx.AsyncClient,
        api_url: str,
        breaker: CircuitBreaker,
        metrics: ApiCallMetrics | None = None,
    ) -> None:
        self._http = http
        self._api_url = api_url.rstrip("/")
        self.breaker = breaker
        self._metrics = metrics

    async def call(
        self,
        method: str,
        endpoint: str,
        *,
        auth: httpx.Auth,
        path: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one request; return a 2xx response or raise ``ExternalServiceError``.

        ``endpoint`` is a template such as ``/albums/{id}``: it labels the metrics, and
        ``path`` fills it in (URL-quoted).
        """
        self.breaker.before_call()
        url = self._api_url + endpoint.format(
            **{k: quote(v, safe="") for k, v in (path or {}).items()}
        )
        label = f"{method} {endpoint}"
        if method != "GET":
            try:
                return await self._attempt(method, url, label, auth, params, json)
            except _Retryable as exc:
                self.breaker.record_failure()
                raise ExternalServiceError(exc.message, service=PROVIDER) from exc
        try:
            async for attempt in stamina.retry_context(
                on=_Retryable, attempts=GET_ATTEMPTS, wait_initial=0.2, wait_max=2.0
            ):
                with attempt:
                    return await self._attempt(method, url, label, auth, params, json)
        except _Retryable as exc:
            self.breaker.record_failure()
            raise ExternalServiceError(exc.message, service=PROVIDER) from exc
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    async def _attempt(
        self,
        method: str,
        url: str,
        label: str,
        auth: httpx.Auth,
        params: dict[str, Any] | None,
        json: dict[str, Any] | None,
    ) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = await self._http.request(method, url, params=params, json=json, auth=auth)
        except httpx.TimeoutException as exc:
            self._observe(label, "timeout", started)
            raise _Retryable(
                "timeout", N_("Spotify did not answer in time; please try again")
            ) from exc
        except httpx.TransportError as exc:
            self._observe(label, "network_error", started)
            raise _Retryable("network_error", N_("Spotify could not be reached")) from exc
        self._observe(label, response.status_code, started)
        status = response.status_code
        if status < 400:
            self.breaker.record_success()
            return response
        if status >= 500:
            log.warning("spotify.call.server_error", endpoint=label, status=status)
            raise _Retryable(
                status, N_("Spotify is having trouble right now; please try again soon")
            )
        raise self._client_error(response, label)

    def _client_error(self, response: httpx.Response, label: str) -> ExternalServiceError:
        status = response.status_code
        message, reason = parser.parse_error(response)
        log.info("spotify.call.refused", endpoint=label, status=status, reason=reason)
        if status == 429:
            retry_after = _retry_after(response)
            self.breaker.open_for(retry_after)
            extra = {"service": PROVIDER, "retry_after_s": retry_after}
            if reason == "QUOTA_EXCEEDED":
                return refuse(
                    ExternalServiceError,
                    N_("Spotify's quota for this app is exceeded; please wait before trying again"),
                    extra=extra,
                )
            return refuse(
                ExternalServiceError,
                N_("Spotify is rate limiting us; please wait %(seconds)s s"),
                extra=extra,
                seconds=f"{retry_after:.0f}",
            )
        # A refusal proves Spotify is up: it must not count against the circuit.
        self.breaker.record_success()
        if reason == "NO_ACTIVE_DEVICE":
            return ExternalServiceError(NO_DEVICE_MESSAGE, service=PROVIDER)
        if reason == "PREMIUM_REQUIRED":
            return ExternalServiceError(PREMIUM_MESSAGE, service=PROVIDER)
        if status == 401:
            return ExternalServiceError(RECONNECT_MESSAGE, service=PROVIDER)
        if status == 404:
            return ExternalServiceError(N_("Spotify could not find that item"), service=PROVIDER)
        if status == 403:
            return refuse(
                ExternalServiceError,
                N_("Spotify does not allow this: %(detail)s"),
                extra={"service": PROVIDER},
                detail=message or "forbidden",
            )
        return refuse(
            ExternalServiceError,
            N_("Spotify refused the request: %(detail)s"),
            extra={"service": PROVIDER},
            detail=message or status,
        )

    def _observe(self, label: str, status: int | str, started: float) -> None:
        if self._metrics is not None:
            self._metrics.observe(PROVIDER, label, status, time.perf_counter() - started)


def _retry_after(response: httpx.Response) -> float:
    raw = response.headers.get("Retry-After", "")
    try:
        return max(1.0, float(raw))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
