"""One Helix call with everything around it: tokens, rate limit, breaker, retries, metrics.

Kept apart from ``client.py`` so that each endpoint method there is a few lines of request and
parsing, and so this policy is tested once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import stamina
import structlog

from premiere_ecoute.accounts.models import UserToken
from premiere_ecoute.apis.twitch import parser
from premiere_ecoute.apis.twitch.models import TokenSet
from premiere_ecoute.apis.twitch.oauth import TokenRefused, TwitchOAuth
from premiere_ecoute.core.errors import N_, ExternalServiceError, Msg, refuse
from premiere_ecoute.core.resilience.breaker import CircuitBreaker
from premiere_ecoute.core.resilience.metrics import ApiCallMetrics

log = structlog.get_logger(__name__)

# A user token is either refreshable (UserToken) or a bare access token; None means the app token.
Credential = UserToken | str | None
QueryParams = Mapping[str, str | int | Sequence[str]] | None

IDEMPOTENT = frozenset({"GET", "DELETE"})
APP_TOKEN_MARGIN_S = 300.0
MAX_RATELIMIT_WAIT_S = 60.0


class TwitchTokenStore(Protocol):
    """Where refreshed user tokens go (the accounts repository implements it)."""

    async def save(self, user_id: str, tokens: TokenSet) -> None: ...

    async def needs_reconnect(
        self, user_id: str, reason: str, refresh_token: str | None = None
    ) -> None:
        """The refresh token was refused: mark the connection and tell the user."""
        ...


class _Transient(ExternalServiceError):
    """A failure worth retrying for an idempotent call (5xx, timeout, connection error)."""


MAX_BUCKETS = 1000


@dataclass
class _Bucket:
    remaining: int | None = None
    reset_at: float = 0.0


class HelixTransport:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_url: str,
        oauth: TwitchOAuth,
        breaker: CircuitBreaker,
        metrics: ApiCallMetrics | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        token_store: TwitchTokenStore | None = None,
        retry_attempts: int = 3,
    ) -> None:
        self._http = http
        self._api_url = api_url.rstrip("/")
        self._oauth = oauth
        self._breaker = breaker
        self._metrics = metrics
        self._clock = clock
        self._sleep = sleep
        self._token_store = token_store
        self._retry_attempts = retry_attempts
        self._app_token: TokenSet | None = None
        self._app_lock = asyncio.Lock()
        # Helix announces its bucket in every response; Ratelimit-Reset is epoch seconds.
        # Twitch counts points per token (the app's, and each user's): one bucket per bearer.
        self._limits: dict[str, _Bucket] = {}

    async def request(
        self,
        method: str,
        path: str,
        *,
        credential: Credential,
        params: QueryParams = None,
        json: Mapping[str, Any] | None = None,
        refusal: str = "Twitch refused the request",
        accept: Collection[int] = (),
    ) -> httpx.Response:
        """Send one Helix call; return a 2xx (or an ``accept``-ed) response, raise otherwise."""
        refreshed = app_renewed = waited = False
        while True:
            bearer = await self._bearer(credential)
            response = await self._send(method, path, bearer, params, json)
            status = response.status_code
            if status == 401 and credential is None and not app_renewed:
                self._app_token, app_renewed = None, True
                continue
            if (
                status == 401
                and isinstance(credential, UserToken)
                and credential.refresh_token
                and not refreshed
            ):
                credential, refreshed = await self._refresh_user(credential), True
                continue
            if status == 429 and not waited:
                # The request was not processed, so trying again after the reset is safe.
                waited = True
                continue
            if response.is_success or status in accept:
                return response
            raise self._error(response, refusal, bearer)

    async def _bearer(self, credential: Credential) -> str:
        if credential is None:
            return (await self.app_token()).access_token
        if isinstance(credential, UserToken):
            return credential.access_token
        return credential

    async def app_token(self) -> TokenSet:
        """The client-credentials token, cached until shortly before it expires."""
        async with self._app_lock:
            now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
            token = self._app_token
            if token is None or token.expires_within(APP_TOKEN_MARGIN_S, now):
                token = await self._oauth.client_credentials()
                self._app_token = token
            return token

    async def _refresh_user(self, token: UserToken) -> UserToken:
        assert token.refresh_token is not None
        try:
            tokens = await self._oauth.refresh(token.refresh_token)
        except TokenRefused as exc:
            log.warning("twitch.token.refresh_refused", user_id=token.user_id)
            if self._token_store is not None:
                await self._token_store.needs_reconnect(
                    token.user_id, exc.message, token.refresh_token
                )
            raise ExternalServiceError(
                N_("Twitch authorization expired: reconnect your Twitch account"),
                service="twitch",
            ) from exc
        if self._token_store is not None:
            await self._token_store.save(token.user_id, tokens)
        log.info("twitch.token.refreshed", user_id=token.user_id)
        return UserToken(
            user_id=token.user_id,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token or token.refresh_token,
            expires_at=tokens.expires_at,
        )

    async def _send(
        self,
        method: str,
        path: str,
        bearer: str,
        params: QueryParams,
        json: Mapping[str, Any] | None,
    ) -> httpx.Response:
        if method not in IDEMPOTENT:
            return await self._send_once(method, path, bearer, params, json)
        async for attempt in stamina.retry_context(
            on=_Transient, attempts=self._retry_attempts, timeout=30.0, wait_max=4.0
        ):
            with attempt:
                return await self._send_once(method, path, bearer, params, json)
        raise AssertionError("unreachable: stamina re-raises the last failure")

    async def _send_once(
        self,
        method: str,
        path: str,
        bearer: str,
        params: QueryParams,
        json: Mapping[str, Any] | None,
    ) -> httpx.Response:
        await self._respect_ratelimit(bearer)
        endpoint = f"{method} {path}"
        try:
            self._breaker.before_call()
        except ExternalServiceError:
            self._observe(endpoint, "open", 0.0)
            raise
        headers = {"Authorization": f"Bearer {bearer}", "Client-Id": self._oauth.client_id}
        started = time.perf_counter()
        try:
            response = await self._http.request(
                method, self._api_url + path, params=params, json=json, headers=headers
            )
        except httpx.TimeoutException as exc:
            self._fail(endpoint, "timeout", started)
            raise _Transient(N_("Twitch did not answer in time"), service="twitch") from exc
        except httpx.TransportError as exc:
            self._fail(endpoint, "error", started)
            raise _Transient(N_("Twitch could not be reached"), service="twitch") from exc
        self._observe(endpoint, response.status_code, time.perf_counter() - started)
        self._note_ratelimit(bearer, response)
        if response.status_code >= 500:
            self._breaker.record_failure()
            message = parser.error_message(parser.json_body(response), "server error")
            raise refuse(
                _Transient,
                N_("Twitch failed (%(status)s): %(detail)s"),
                extra={"service": "twitch"},
                status=response.status_code,
                detail=message,
            )
        # Any answer below 500 (even a refusal) shows Twitch is up; it also ends a half-open probe.
        self._breaker.record_success()
        return response

    def _fail(self, endpoint: str, status: str, started: float) -> None:
        self._breaker.record_failure()
        self._observe(endpoint, status, time.perf_counter() - started)

    def _observe(self, endpoint: str, status: int | str, seconds: float) -> None:
        if self._metrics is not None:
            self._metrics.observe("twitch", endpoint, status, seconds)

    async def _respect_ratelimit(self, bearer: str) -> None:
        bucket = self._limits.get(bearer)
        if bucket is None or bucket.remaining is None:
            return
        if bucket.remaining <= 0:
            wait = bucket.reset_at - self._clock()
            if wait > 0:
                log.info("twitch.ratelimit.wait", seconds=round(wait, 3))
                await self._sleep(min(wait, MAX_RATELIMIT_WAIT_S))
            bucket.remaining = None
        else:
            # Count calls in flight so concurrent callers do not all spend the last point.
            bucket.remaining -= 1

    def _note_ratelimit(self, bearer: str, response: httpx.Response) -> None:
        remaining = response.headers.get("Ratelimit-Remaining")
        reset = response.headers.get("Ratelimit-Reset")
        if len(self._limits) > MAX_BUCKETS:  # forget buckets whose window is over
            now = self._clock()
            self._limits = {k: b for k, b in self._limits.items() if b.reset_at > now}
        bucket = self._limits.setdefault(bearer, _Bucket())
        try:
            if remaining is not None:
                bucket.remaining = int(remaining)
            if reset is not None:
                bucket.reset_at = float(reset)
        except ValueError:
            return
        if response.status_code == 429:
            bucket.remaining = 0

    def _error(self, response: httpx.Response, refusal: str, bearer: str) -> ExternalServiceError:
        status = response.status_code
        message = parser.error_message(parser.json_body(response), f"HTTP {status}")
        retry_after = None
        if status == 429:
            bucket = self._limits.get(bearer)
            retry_after = max(0.0, (bucket.reset_at if bucket else 0.0) - self._clock())
            return refuse(
                ExternalServiceError,
                N_("Twitch rate limit reached: %(detail)s"),
                extra={"service": "twitch", "retry_after_s": retry_after},
                detail=message,
            )
        if status == 401:
            return refuse(
                ExternalServiceError,
                N_("Twitch authorization failed: %(detail)s"),
                extra={"service": "twitch"},
                detail=message,
            )
        return refuse(
            ExternalServiceError,
            N_("%(refusal)s: %(detail)s"),
            extra={"service": "twitch"},
            refusal=Msg(refusal),
            detail=message,
        )
