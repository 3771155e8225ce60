"""Operational endpoints: /health (alive), /ready (dependencies), /metrics (Prometheus)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from premiere_ecoute.core.errors import N_, Unauthorized, refuse
from premiere_ecoute.core.health import readiness, refresh_gauges
from premiere_ecoute.web.deps import deps

router = APIRouter(include_in_schema=False)


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> Response:
    c = deps(request)
    report = await readiness(c.db, c.settings.worker_heartbeat_s)
    return JSONResponse(report, status_code=200 if report["ready"] else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    c = deps(request)
    token = c.settings.metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8", "replace"), token.encode()
        ):
            raise refuse(Unauthorized, N_("A valid metrics bearer token is required."))
    refresh_gauges(c.metrics, c.breakers)
    return Response(generate_latest(c.metrics.registry), media_type=CONTENT_TYPE_LATEST)
