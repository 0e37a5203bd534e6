"""Tenant metrics: push (the seed's form and a multi-tenant batch), query, and live streaming.

Pushed samples are checked here and published, one message per tenant per request, on the
tenant's metrics subject; the monitor stores them. Every gateway replica also sees every sample
(a core subscription on `ecp.*.metrics.>`) to stream it to WebSocket clients and to expose each
tenant's latest values on `/metrics`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response

from services.gateway.deps import Gateway, GatewayDep, ModeDep, Viewer, require_live_tenant
from services.gateway.errors import Problem
from services.gateway.live_metrics import follow_samples, hub_of, wanted_names
from services.gateway.pushes import accept_batch, accept_seed, parsed, pusher
from services.gateway.routes.events_ws import POLICY_VIOLATION, TRY_AGAIN_LATER, accept_caller
from services.gateway.rpc import ask_raw
from services.gateway.samples import BATCH_PUSH, TENANTS, SeedPush
from shared.contracts.metrics import METRIC_NAME_PATTERN
from shared.contracts.monitoring import MonitoringQuery

log = logging.getLogger(__name__)
ANSWERED = b'{"ok":true,'  # how the monitor's answers begin (services/monitor/handlers.py)
router = APIRouter(tags=["monitoring"])
GONE = ""  # put in a subscriber's queue when its client disconnects


def self_contained(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its `$defs` written in place: inside the OpenAPI document a `$ref` to the
    schema's own `$defs` would resolve against the document's root, where there are none."""
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    result: dict[str, Any] = inline(schema)
    return result


# The two push routes below declare the contract (and answer what is not JSON); a JSON POST to
# either is answered by `PushFastPath` before routing, with the same functions.


@router.post("/api/v1/tenants/{tenant_id}/monitoring", status_code=202)
async def push_metrics(
    tenant_id: str,
    body: SeedPush,
    request: Request,
    x_demo_mode: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """The seed's push: one timestamp, a map of metric name to value."""
    gateway: Gateway = request.app.state.gateway
    mode = await pusher(gateway, x_demo_mode, authorization)
    return await accept_seed(gateway, mode, tenant_id, body)


@router.post(
    "/api/v1/monitoring/batch",
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": self_contained(BATCH_PUSH.json_schema())}},
        }
    },
)
async def push_batch(
    request: Request,
    x_demo_mode: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """Samples of many pods of many tenants: one message per tenant."""
    gateway: Gateway = request.app.state.gateway
    mode = await pusher(gateway, x_demo_mode, authorization)
    return await accept_batch(gateway, mode, parsed(BATCH_PUSH, await request.body()))


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
) -> Response:
    """Stored metrics: raw points up to an hour, time buckets (avg, min, max, p95) beyond."""
    await require_live_tenant(gateway, mode, tenant_id)
    query = MonitoringQuery(
        tenant_id=tenant_id, metric_type=metric_type, hours=hours, source=source
    )
    answer = await ask_raw(gateway, mode, "monitor", "query", query)
    if answer.startswith(ANSWERED):
        # Passed on as the monitor wrote it, less its `ok`: a day of buckets is a large
        # document, and reading and writing it again cost more than the query itself.
        return Response(b"{" + answer[len(ANSWERED) :], media_type="application/json")
    reply: dict[str, Any] = json.loads(answer)
    if not reply.pop("ok", False):
        raise Problem(502, reply.get("code", "QUERY_FAILED"), "the monitor could not answer")
    return JSONResponse(reply)


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
