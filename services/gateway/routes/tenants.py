"""`/api/v1/tenants`: create, list, read, change and delete tenants; size without creating."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from services.gateway import store
from services.gateway.commands import require_broker, send_tenant_command
from services.gateway.deps import GatewayDep, ModeDep, Operator, Viewer, tenant_not_found
from services.gateway.errors import Problem
from services.gateway.events import BusEvent
from services.gateway.models import (
    TenantAcceptedReply,
    TenantCreate,
    TenantDetail,
    TenantList,
    TenantPublic,
    TenantUpdate,
)
from services.gateway.projection import apply_event
from services.gateway.rpc import ask
from shared.contracts.sizing import EstimateReply, EstimateRequest, SizingRequest, SizingResult
from shared.contracts.tenants import (
    CreateTenant,
    DeleteTenant,
    TenantSpec,
    TenantStatus,
    UpdateTenant,
)
from shared.modes import Mode

router = APIRouter(prefix="/api/v1/tenants", tags=["tenants"])


@router.get("/", response_model=TenantList)
async def list_tenants(
    gateway: GatewayDep,
    mode: ModeDep,
    _: Viewer,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    status: TenantStatus | None = None,
    preset: str | None = None,
) -> TenantList:
    async with gateway.db.session(mode) as session:
        rows, total, running = await store.list_tenants(
            session, skip=skip, limit=limit, status=status, preset=preset
        )
    is_demo = mode is Mode.demo
    return TenantList(
        tenants=[TenantPublic.of(row, is_demo) for row in rows],
        total_count=total,
        demo_count=total if is_demo else 0,
        active_count=running,
    )


async def settle(
    gateway: GatewayDep, mode: Mode, tenant_id: str, event: BusEvent
) -> store.TenantRow:
    """Apply the settling event now, so the answer and the read model agree at once. The read
    model has usually applied it already: the row read outside a transaction shows that. Else
    the row is written if nobody wrote it since it was read (twice: what was written meanwhile
    is usually the read model applying the same event), and only failing that locked."""
    for _ in range(2):
        async with gateway.db.connection(mode) as conn:
            (tenant,) = (await store.tenant_rows(conn, [tenant_id])).values()
            if not apply_event(tenant.row, event.name, event.data):
                return tenant.row
            if await store.write_tenant(conn, tenant, checked=True):
                return tenant.row
    async with gateway.db.transaction(mode) as conn:
        (tenant,) = (await store.tenant_rows(conn, [tenant_id], for_update=True)).values()
        if apply_event(tenant.row, event.name, event.data):
            await store.write_tenant(conn, tenant, checked=False)
        return tenant.row


def rejected(event: BusEvent) -> Problem:
    return Problem(422, event.data["code"], event.data["reason"])


@router.post(
    "/",
    status_code=201,
    response_model=TenantDetail,
    responses={202: {"model": TenantAcceptedReply}, 409: {}, 422: {}},
)
async def create_tenant(body: TenantCreate, gateway: GatewayDep, mode: ModeDep, _: Operator) -> Any:
    spec = TenantSpec.model_validate(body.model_dump())
    require_broker(gateway)  # before anything is stored
    revision, previous = await record_creation(gateway, mode, spec, datetime.now(UTC))
    command = CreateTenant(tenant_id=spec.tenant_id, revision=revision, spec=spec)
    try:
        event = await send_tenant_command(
            gateway, mode, spec.tenant_id, revision, "create", command
        )
    except Problem:
        await undo_create(gateway, mode, spec.tenant_id, previous)
        raise
    if event is None:
        return JSONResponse(
            status_code=202,
            content=TenantAcceptedReply(
                tenant_id=spec.tenant_id,
                status="pending",
                revision=revision,
                detail="accepted; sizing is still running, follow /ws/events or GET the tenant",
            ).model_dump(),
        )
    row = await settle(gateway, mode, spec.tenant_id, event)
    if event.name == "tenant.rejected":
        raise rejected(event)
    return TenantDetail.of(row, mode is Mode.demo)


async def record_creation(
    gateway: GatewayDep, mode: Mode, spec: TenantSpec, now: datetime
) -> tuple[int, store.TenantRow | None]:
    """Record the tenant as pending at its next revision: (that revision, the row as it was
    before, or None for a new tenant). A live tenant of that id is a 409."""
    values = creation_values(spec, now)
    # Most tenants are new: one INSERT, outside a transaction, nothing read.
    async with gateway.db.connection(mode) as conn:
        if await store.add_tenant(conn, spec.tenant_id, 1, values):
            return 1, None
    async with gateway.db.session(mode) as session:
        row = await store.get_tenant(session, spec.tenant_id, for_update=True)
        if row is None:  # removed meanwhile by the undo of a failed create
            session.add(store.TenantRow(tenant_id=spec.tenant_id, revision=1, **values))
            await session.commit()
            return 1, None
        if row.is_live:
            raise Problem(409, "TENANT_EXISTS", f"tenant {spec.tenant_id!r} already exists")
        previous = row.model_copy()
        # Revisions continue across a delete, so an old revision's messages never match a new
        # tenant.
        row.revision = row.revision + 1
        for key, value in values.items():
            setattr(row, key, value)
        await session.commit()
        return row.revision, previous


def creation_values(spec: TenantSpec, now: datetime) -> dict[str, Any]:
    """The columns a creation sets, on a new row or on a deleted tenant's."""
    spec_json = spec.model_dump(mode="json")
    return {
        "name": spec.name,
        "status": "pending",
        "deleted_at": None,
        "last_error": None,
        "sized_revision": 0,
        "status_revision": 0,
        "preset": spec.preset,
        "resources": None,
        "cpu_limit": None,
        "memory_limit": None,
        "storage_limit": None,
        "gpu_type": None,
        "gpu_limit": None,
        "spec": spec_json,
        "requested_spec": spec_json,
        "service_requirements": spec.service_requirements.model_dump(),
        "sla_target": spec.sla_target.model_dump(mode="json", exclude_none=True),
        "created_at": now,
        "updated_at": now,
    }


async def undo_create(
    gateway: GatewayDep, mode: Mode, tenant_id: str, previous: store.TenantRow | None
) -> None:
    async with gateway.db.session(mode) as session:
        row = await store.get_tenant(session, tenant_id, for_update=True)
        if row is None:
            return
        if previous is None:
            await session.delete(row)
        else:
            for key, value in previous.model_dump().items():
                setattr(row, key, value)
        await session.commit()


@router.post("/calculate-resources", response_model=SizingResult)
async def calculate_resources(
    body: TenantCreate, gateway: GatewayDep, mode: ModeDep, _: Viewer
) -> Any:
    """Size a requirement without creating or storing anything."""
    request = SizingRequest(
        service_requirements=body.service_requirements,
        preset=body.preset,
        gpu_type=body.gpu_type,
        cloud=body.cloud,
        sla_target=body.sla_target,
    )
    reply = EstimateReply.model_validate(
        await ask(gateway, mode, "calculator", "estimate", EstimateRequest(request=request))
    )
    if not reply.ok or reply.sizing is None:
        raise Problem(
            422, reply.code or "SIZING_FAILED", reply.reason or "the requirement cannot be sized"
        )
    return reply.sizing


@router.get("/{tenant_id}", response_model=TenantDetail)
async def get_tenant(tenant_id: str, gateway: GatewayDep, mode: ModeDep, _: Viewer) -> TenantDetail:
    async with gateway.db.session(mode) as session:
        row = await store.live_tenant(session, tenant_id)
    if row is None:
        raise tenant_not_found(tenant_id)
    return TenantDetail.of(row, mode is Mode.demo)


@router.patch(
    "/{tenant_id}", response_model=TenantDetail, responses={202: {"model": TenantAcceptedReply}}
)
async def update_tenant(
    tenant_id: str, body: TenantUpdate, gateway: GatewayDep, mode: ModeDep, _: Operator
) -> Any:
    require_broker(gateway)  # before the new revision is stored
    async with gateway.db.session(mode) as session:
        row = await store.get_tenant(session, tenant_id, for_update=True)
        if row is None or not row.is_live:
            raise tenant_not_found(tenant_id)
        if row.status == "deleting":
            raise Problem(409, "TENANT_DELETING", f"tenant {tenant_id!r} is being deleted")
        changes = body.model_dump(exclude_unset=True, mode="json")
        spec = TenantSpec.model_validate({**(row.requested_spec or row.spec), **changes})
        row.revision += 1
        row.requested_spec = spec.model_dump(mode="json")
        row.updated_at = datetime.now(UTC)
        revision = row.revision
        await session.commit()
    command = UpdateTenant(tenant_id=tenant_id, revision=revision, spec=spec)
    event = await send_tenant_command(gateway, mode, tenant_id, revision, "update", command)
    if event is None:
        return JSONResponse(
            status_code=202,
            content=TenantAcceptedReply(
                tenant_id=tenant_id,
                status="pending",
                revision=revision,
                detail="accepted; sizing is still running",
            ).model_dump(),
        )
    if event.name == "tenant.rejected":
        await settle(gateway, mode, tenant_id, event)
        raise rejected(event)
    row = await settle(gateway, mode, tenant_id, event)
    return TenantDetail.of(row, mode is Mode.demo)


@router.delete("/{tenant_id}", status_code=202, response_model=TenantAcceptedReply)
async def delete_tenant(
    tenant_id: str, gateway: GatewayDep, mode: ModeDep, _: Operator, response: Response
) -> Any:
    require_broker(gateway)  # before the deletion is stored
    async with gateway.db.session(mode) as session:
        row = await store.get_tenant(session, tenant_id, for_update=True)
        if row is None or not row.is_live:
            raise tenant_not_found(tenant_id)
        row.revision += 1
        row.status, row.updated_at = "deleting", datetime.now(UTC)
        revision = row.revision
        await session.commit()
    command = DeleteTenant(tenant_id=tenant_id, revision=revision)
    event = await send_tenant_command(
        gateway, mode, tenant_id, revision, "delete", command, wait_for={"tenant.deleted"}
    )
    if event is not None:
        await settle(gateway, mode, tenant_id, event)
        response.status_code = 200
        return TenantAcceptedReply(
            tenant_id=tenant_id, status="deleted", revision=revision, detail="deleted"
        )
    return TenantAcceptedReply(
        tenant_id=tenant_id, status="deleting", revision=revision, detail="deletion is under way"
    )
