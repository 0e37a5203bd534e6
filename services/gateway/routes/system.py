"""Liveness, readiness (broker, both databases, every service, for real) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.gateway.deps import GatewayDep
from shared import subjects
from shared.modes import Mode

router = APIRouter(tags=["system"])
SERVICES = ("calculator", "manifest", "deployer", "monitor", "alerts")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _service_ready(gateway: GatewayDep, service: str) -> str:
    try:
        reply = await gateway.broker.request(b"", subjects.health(service), timeout=2.0)
        body = json.loads(reply.body)
    except Exception as error:  # noqa: BLE001 - readiness reports every failure as "down"
        return f"down: {type(error).__name__}"
    return "ok" if body.get("ready") else f"not ready: {body.get('checks')}"


@router.get("/readyz")
async def readyz(gateway: GatewayDep) -> JSONResponse:
    own = await gateway.runtime.health()
    checks: dict[str, Any] = dict(own["checks"])
    results = await asyncio.gather(*(_service_ready(gateway, s) for s in SERVICES))
    checks.update(
        {f"service_{name}": result for name, result in zip(SERVICES, results, strict=True)}
    )
    ready = own["ready"] and all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


__all__ = ["Mode", "router"]
