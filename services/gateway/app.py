"""Wires the gateway: FastAPI routes, the event relay, the read-model projection."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType

import asyncpg
from fastapi import FastAPI
from nats.aio.msg import Msg
from starlette.types import ASGIApp

from services.gateway import routes, store
from services.gateway.auth import bootstrap_admin_key
from services.gateway.deps import Gateway
from services.gateway.errors import install_error_handlers
from services.gateway.events import BusEvent, EventHub, parse_event
from services.gateway.projection import DEPLOYMENT_STATUS, PROJECTED_EVENTS, apply_event
from services.gateway.push_groups import PushGroups
from services.gateway.pushes import PushFastPath
from services.gateway.reconcile import Reconciler
from services.gateway.tracing import RequestTracing
from shared import subjects
from shared.consumers import batch_consumer
from shared.modes import Mode
from shared.service import ServiceRuntime
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)


async def project(gateway: Gateway, events: list[BusEvent], tries: int = 2) -> None:
    """Apply a batch of one mode's events to the read model, in stream order.

    The rows of the batch's tenants are read outside a transaction and the events applied to
    them; a row that changed is written back only if nobody wrote it since it was read, else
    that tenant's events are applied again to its row read anew (what was written meanwhile is
    usually the same change: the request that created the tenant applies its `tenant.sized`
    too), and on the last try to its row locked. So a new tenant's
    `tenant.accepted` and `tenant.sized`, which the request that created it records itself,
    cost a SELECT and nothing more, and a change costs two statements and no transaction.
    Deployment statuses of tenants not read are one UPDATE each. The rows are read without
    their sizing, which the projection only ever replaces."""
    mode = events[0].mode
    tenant_ids = {e.tenant_id for e in events if e.name not in DEPLOYMENT_STATUS}
    rows: dict[str, store.ReadTenant] = {}
    if tenant_ids:
        async with gateway.db.connection(mode) as conn:
            rows = await store.tenant_rows(conn, tenant_ids, columns=store.PROJECTED_COLUMNS)
    changed: set[str] = set()
    statuses: list[BusEvent] = []
    for event in events:
        if event.tenant_id in rows:
            if apply_event(rows[event.tenant_id].row, event.name, event.data):
                changed.add(event.tenant_id)
        elif event.name in DEPLOYMENT_STATUS:
            statuses.append(event)
    if not changed and not statuses:
        return
    contended: set[str] = set()
    async with gateway.db.connection(mode) as conn:
        for event in statuses:
            await set_status(conn, event)
        for tenant_id in sorted(changed):
            if not await store.write_tenant(conn, rows[tenant_id], checked=True):
                contended.add(tenant_id)
    if contended:
        again = [e for e in events if e.tenant_id in contended]
        if tries > 1:
            await project(gateway, again, tries - 1)
        else:
            await project_locked(gateway, again)


async def project_locked(gateway: Gateway, events: list[BusEvent]) -> None:
    """Apply events to their tenants' rows locked, in one transaction."""
    async with gateway.db.transaction(events[0].mode) as conn:
        rows: dict[str, store.ReadTenant | None] = {}
        changed: dict[str, store.ReadTenant] = {}
        for event in events:
            if event.tenant_id not in rows:
                found = await store.tenant_rows(
                    conn, [event.tenant_id], for_update=True, columns=store.PROJECTED_COLUMNS
                )
                rows[event.tenant_id] = found.get(event.tenant_id)
            tenant = rows[event.tenant_id]
            if tenant is not None and apply_event(tenant.row, event.name, event.data):
                changed[event.tenant_id] = tenant
        for tenant in changed.values():
            await store.write_tenant(conn, tenant, checked=False)


async def set_status(conn: asyncpg.Connection, event: BusEvent) -> None:
    failed = event.name == "deployment.failed"
    await store.set_deployment_status(
        conn,
        event.tenant_id,
        DEPLOYMENT_STATUS[event.name],
        int(event.data.get("revision", 0)),
        str(event.data.get("reason", "")) if failed else None,
    )


def register_event_handlers(gateway: Gateway) -> None:
    broker = gateway.broker

    async def follow_events() -> None:
        await gateway.hub.start(broker.connection)

    gateway.runtime.on_start.append(follow_events)

    async def project_batch(batch: list[Msg]) -> None:
        await project(gateway, [parse_event(raw.subject, raw.data) for raw in batch])

    for mode in Mode:
        # One batch at a time, in stream order: a tenant's events must apply in publish order.
        batch_consumer(
            gateway.runtime,
            subject=[
                subjects.event(mode, subjects.ANY, *name.split(".", 1)) for name in PROJECTED_EVENTS
            ],
            stream=subjects.stream_name(mode, "evt"),
            durable=f"gateway-{mode}-read-model",
            handler=project_batch,
        )


def create_process_app() -> FastAPI:
    """The app of the gateway's own process (`python -m services.gateway`)."""
    app = create_app()
    app.state.gateway.runtime.own_process = True
    return app


class GatewayApi(FastAPI):
    """FastAPI, with request tracing and the push fast path in front of FastAPI's own layers
    (server errors, telemetry, body limit: some 4 µs of every push). The push path answers its
    own errors, unexpected ones included, as the app's handlers do; tracing, now outermost,
    also stamps its request id on the 500s those layers send."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestTracing(PushFastPath(super().build_middleware_stack(), self.state.gateway))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    runtime = ServiceRuntime("gateway", Path(__file__).parent / "migrations", settings)
    gateway = Gateway(
        runtime=runtime, hub=EventHub(), pushes=PushGroups(settings.push_linger_ms / 1000)
    )
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

    app = GatewayApi(
        title="ECP-AI Orchestrator",
        version="1.0.0",
        description="Sizes, renders, deploys, watches and alerts on AI contact-centre tenants. "
        "Every route reads `X-Demo-Mode: true|false`.",
        lifespan=lifespan,
        # Metrics are Prometheus's (`/metrics`); FastAPI's OpenTelemetry hooks would only look
        # up, on every request, a tracer that is never configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.gateway = gateway
    install_error_handlers(app)

    for module in route_modules():
        app.include_router(module.router)
        if hasattr(module, "register"):
            module.register(gateway)  # route modules that also listen to the bus
    return app


def route_modules() -> list[ModuleType]:
    """Every module of `services.gateway.routes`, in name order: each has a `router`."""
    names = sorted(info.name for info in pkgutil.iter_modules(routes.__path__))
    return [importlib.import_module(f"{routes.__name__}.{name}") for name in names]
