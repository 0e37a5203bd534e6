"""Tenant metrics: push (the seed's form and a multi-tenant batch), query, and live streaming.

Pushed samples are checked here and published, one message per tenant per request, on the
tenant's metrics subject; the monitor stores them. Every gateway replica also sees every sample
(a core subscription on `ecp.*.metrics.>`) to stream it to WebSocket clients and to expose each
tenant's latest values on `/metrics`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from services.gateway import store
from services.gateway.auth import Role, authenticate, authorize, bearer_token
from services.gateway.deps import Gateway, GatewayDep, ModeDep, Viewer, request_mode
from services.gateway.errors import Problem
from services.gateway.live_metrics import follow_samples, hub_of, wanted_names
from services.gateway.routes.events_ws import POLICY_VIOLATION, TRY_AGAIN_LATER, accept_caller
from services.gateway.rpc import ask
from services.gateway.samples import (
    TENANTS,
    BatchPush,
    SeedPush,
    as_utc,
    publish_samples,
    refuse,
    sample_of,
    shown,
    time_problem,
    value_problem,
)
from shared.contracts.metrics import METRIC_NAME_PATTERN
from shared.contracts.monitoring import MonitoringQuery
from shared.modes import Mode

log = logging.getLogger(__name__)
router = APIRouter(tags=["monitoring"])
GONE = ""  # put in a subscriber's queue when its client disconnects


async def pusher(
    request: Request, x_demo_mode: str | None, authorization: str | None
) -> tuple[Gateway, Mode]:
    """The mode and an operator's rights, checked inline: the deps module's synchronous
    dependencies each cost a worker-thread hop, too dear on the busiest route."""
    gateway: Gateway = request.app.state.gateway
    mode = request_mode(x_demo_mode)
    principal = await authenticate(
        gateway.db, bearer_token(authorization), mode, enabled=gateway.settings.auth_enabled
    )
    authorize(principal, mode, Role.operator)
    return gateway, mode


@router.post("/api/v1/tenants/{tenant_id}/monitoring", status_code=202)
async def push_metrics(
    tenant_id: str,
    body: SeedPush,
    request: Request,
    x_demo_mode: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """The seed's push: one timestamp, a map of metric name to value."""
    gateway, mode = await pusher(request, x_demo_mode, authorization)
    now = datetime.now(UTC)
    moment = as_utc(body.timestamp, now)
    problems = [
        {"sample": f"metrics.{name}", "name": name, "value": shown(value), "reason": reason}
        for name, value in body.metrics.items()
        if (reason := value_problem(name, value))
    ]
    if reason := time_problem(moment, now, gateway.settings):
        problems.insert(0, {"sample": "timestamp", "name": "timestamp", "value": str(moment),
                            "reason": reason})  # fmt: skip
    if problems:
        raise refuse(problems)
    await TENANTS.require(gateway, mode, tenant_id)
    batch_id = f"push:{uuid.uuid4().hex}:{tenant_id}"
    samples = [sample_of(n, v, moment, body.labels) for n, v in body.metrics.items()]
    await publish_samples(gateway, mode, tenant_id, batch_id, samples)
    return JSONResponse(
        status_code=202,
        content={
            "status": "accepted",
            "accepted": len(samples),
            "tenant_id": tenant_id,
            "batch_id": batch_id,
            "timestamp": moment.isoformat(),
        },
    )


async def batch_body(request: Request) -> BatchPush:
    """The body read straight from its bytes: twice as fast as parsing to Python first, which
    counts at tens of thousands of samples a request."""
    try:
        return BatchPush.model_validate_json(await request.body())
    except ValidationError as error:
        errors = error.errors(include_url=False, include_input=False)
        if any(e["type"] == "json_invalid" for e in errors):
            raise Problem(400, "INVALID_JSON", "the request body is not valid JSON") from error
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Problem(
            422,
            "VALIDATION_FAILED",
            f"{where}: {first['msg']}",
            errors=[
                {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors[:20]
            ],
        ) from error


@router.post(
    "/api/v1/monitoring/batch",
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BatchPush.model_json_schema()}},
        }
    },
)
async def push_batch(
    request: Request,
    x_demo_mode: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Samples of many pods of many tenants: one message per tenant."""
    gateway, mode = await pusher(request, x_demo_mode, authorization)
    body = await batch_body(request)
    now = datetime.now(UTC)
    by_tenant: dict[str, list[dict[str, Any]]] = defaultdict(list)
    problems: list[dict[str, Any]] = []
    settings = gateway.settings
    for index, pushed in enumerate(body.samples):
        tenant_id = pushed.tenant_id or body.tenant_id
        moment = as_utc(pushed.timestamp, now)
        reason = (
            ("the sample names no tenant_id" if tenant_id is None else None)
            or value_problem(pushed.name, pushed.value)
            or time_problem(moment, now, settings)
        )
        if reason:
            problems.append(
                {"sample": f"samples[{index}]", "name": pushed.name, "value": shown(pushed.value),
                 "tenant_id": tenant_id, "reason": reason}
            )  # fmt: skip
        elif tenant_id is not None:
            by_tenant[tenant_id].append(sample_of(pushed.name, pushed.value, moment, pushed.labels))
    if problems:
        raise refuse(problems)
    for tenant_id in by_tenant:
        await TENANTS.require(gateway, mode, tenant_id)
    request_id = uuid.uuid4().hex
    batches = {tenant_id: f"push:{request_id}:{tenant_id}" for tenant_id in by_tenant}
    await asyncio.gather(
        *(publish_samples(gateway, mode, t, batches[t], s) for t, s in by_tenant.items())
    )
    return JSONResponse(
        status_code=202,
        content={
            "status": "accepted",
            "accepted": len(body.samples),
            "batch_id": request_id,
            "tenants": [
                {"tenant_id": t, "batch_id": batches[t], "accepted": len(s)}
                for t, s in by_tenant.items()
            ],
        },
    )


# ---- querying --------------------------------------------------------------------------------


@router.get("/api/v1/tenants/{tenant_id}/monitoring")
async def query_metrics(
    tenant_id: str,
    gateway: GatewayDep,
    mode: ModeDep,
    _: Viewer,
    metric_type: Annotated[str | None, Query(pattern=METRIC_NAME_PATTERN)] = None,
    hours: Annotated[float, Query(gt=0, le=24 * 366)] = 1.0,
    source: Annotated[str | None, Query(pattern="^(push|pull|demo)$")] = None,
) -> JSONResponse:
    """Stored metrics: raw points up to an hour, time buckets (avg, min, max, p95) beyond."""
    async with gateway.db.session(mode) as session:
        if await store.live_tenant(session, tenant_id) is None:
            raise Problem(
                404, "TENANT_NOT_FOUND", f"tenant {tenant_id!r} does not exist in this mode"
            )
    query = MonitoringQuery(
        tenant_id=tenant_id, metric_type=metric_type, hours=hours, source=source
    )
    reply: dict[str, Any] = await ask(gateway, mode, "monitor", "query", query)
    if not reply.pop("ok", False):
        raise Problem(502, reply.get("code", "QUERY_FAILED"), "the monitor could not answer")
    return JSONResponse(reply)  # already plain JSON: skip the response-model encoder


# ---- live samples: WebSocket and Prometheus --------------------------------------------------


@router.websocket("/ws/monitoring/{tenant_id}")
async def live_monitoring(websocket: WebSocket, tenant_id: str) -> None:
    mode = await accept_caller(websocket)
    if mode is None:
        return
    gateway: Gateway = websocket.app.state.gateway
    try:
        await TENANTS.require(gateway, mode, tenant_id)
    except Problem as problem:
        await websocket.close(code=POLICY_VIOLATION, reason=problem.detail[:120])
        return
    hub = hub_of(gateway)
    subscriber = hub.subscribe(mode, tenant_id)

    async def read_requests() -> None:
        try:
            while True:
                names = wanted_names(await websocket.receive_text())
                if names is not None:
                    subscriber.names = names
        finally:
            # Wake the sender; with a full queue it finds out on its next send instead.
            with contextlib.suppress(asyncio.QueueFull):
                subscriber.queue.put_nowait(GONE)

    reader = asyncio.create_task(read_requests())
    try:
        while (text := await subscriber.queue.get()) != GONE:
            await websocket.send_text(text)
            if subscriber.overflowed:
                await websocket.close(
                    code=TRY_AGAIN_LATER, reason="too slow: samples were not read"
                )
                break
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away mid-send
    finally:
        hub.unsubscribe(mode, tenant_id, subscriber)
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader


def register(gateway: Gateway) -> None:
    follow_samples(gateway)
