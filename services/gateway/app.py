"""Wires the gateway: FastAPI routes, the event relay, the read-model projection."""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import FastAPI, Request, Response
from faststream.nats import NatsMessage
from nats.aio.msg import Msg

from services.gateway import routes, store
from services.gateway.auth import bootstrap_admin_key
from services.gateway.deps import Gateway
from services.gateway.errors import install_error_handlers
from services.gateway.events import BusEvent, EventHub
from services.gateway.projection import apply_event
from services.gateway.reconcile import Reconciler
from shared import subjects
from shared.consumers import batch_consumer
from shared.logging import correlation_id, new_correlation_id
from shared.modes import Mode
from shared.service import ServiceRuntime
from shared.settings import Settings, get_settings
from shared.telemetry import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger(__name__)


def parse_event(subject: str, data: bytes) -> BusEvent:
    return BusEvent(
        mode=Mode(subject.split(".")[1]),
        tenant_id=subjects.tenant_of(subject),
        name=subjects.event_name_of(subject),
        data=json.loads(data),
    )


async def project(gateway: Gateway, events: list[BusEvent]) -> None:
    """Apply a batch of one mode's events to the read model, in stream order, in one transaction."""
    async with gateway.db.session(events[0].mode) as session:
        rows: dict[str, store.TenantRow | None] = {}
        changed = False
        for event in events:
            if event.tenant_id not in rows:
                rows[event.tenant_id] = await store.get_tenant(
                    session, event.tenant_id, for_update=True
                )
            row = rows[event.tenant_id]
            changed = (row is not None and apply_event(row, event.name, event.data)) or changed
        if changed:
            await session.commit()


def register_event_handlers(gateway: Gateway) -> None:
    broker = gateway.broker

    # no_reply: events reach this subscriber from JetStream publishes, whose reply subject is
    # the publisher's ack inbox; an answer from here would race the server's ack.
    @broker.subscriber("ecp.*.evt.>", no_reply=True)
    async def relay(msg: NatsMessage) -> None:
        gateway.hub.dispatch(parse_event(msg.raw_message.subject, msg.raw_message.data))

    async def project_batch(batch: list[Msg]) -> None:
        await project(gateway, [parse_event(raw.subject, raw.data) for raw in batch])

    for mode in Mode:
        # One batch at a time, in stream order: a tenant's events must apply in publish order.
        batch_consumer(
            gateway.runtime,
            subject=subjects.all_events(mode),
            stream=subjects.stream_name(mode, "evt"),
            durable=f"gateway-{mode}-read-model",
            handler=project_batch,
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime("gateway", Path(__file__).parent / "migrations", settings)
    gateway = Gateway(runtime=runtime, hub=EventHub())
    register_event_handlers(gateway)
    reconciler = Reconciler(gateway)
    runtime.on_start.append(reconciler.start)
    runtime.on_stop.append(reconciler.stop)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if not settings.auth_enabled:
            log.warning("AUTHENTICATION IS OFF (ECP_AUTH_ENABLED=false): anyone can use every mode")
        elif settings.bootstrap_key_file:
            await bootstrap_admin_key(runtime.db, settings.bootstrap_key_file)
        yield
        await runtime.stop()

    app = FastAPI(
        title="ECP-AI Orchestrator",
        version="1.0.0",
        description="Sizes, renders, deploys, watches and alerts on AI contact-centre tenants. "
        "Every route reads `X-Demo-Mode: true|false`.",
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    install_error_handlers(app)

    @app.middleware("http")
    async def trace(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Any:
        request_id = request.headers.get("x-request-id") or new_correlation_id()
        token = correlation_id.set(request_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            correlation_id.reset(token)
        elapsed = time.perf_counter() - started
        route = getattr(request.scope.get("route"), "path", "unmatched")
        HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        HTTP_LATENCY.labels(request.method, route).observe(elapsed)
        response.headers["X-Request-ID"] = request_id
        if request.headers.get("x-debug", "").lower() == "true":
            response.headers["X-Debug-Info"] = json.dumps(
                {
                    "request_id": request_id,
                    "route": route,
                    "duration_ms": round(elapsed * 1e3, 2),
                    "mode": "demo"
                    if request.headers.get("x-demo-mode", "").lower() == "true"
                    else "prod",
                    "service": "gateway",
                }
            )
        return response

    for module in route_modules():
        app.include_router(module.router)
        if hasattr(module, "register"):
            module.register(gateway)  # route modules that also listen to the bus
    return app


def route_modules() -> list[ModuleType]:
    """Every module of `services.gateway.routes`, in name order: each has a `router`."""
    names = sorted(info.name for info in pkgutil.iter_modules(routes.__path__))
    return [importlib.import_module(f"{routes.__name__}.{name}") for name in names]
