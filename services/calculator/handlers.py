"""Tenant commands in, tenant events out: size the spec, keep every revision, never go back."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from faststream.nats import NatsBroker

from services.calculator import store
from services.calculator.catalogue import Catalogue
from services.calculator.sizing import SizingError, size
from shared import subjects
from shared.bus import acked, publish_event, publish_event_unacked
from shared.consumers import ReceivedMessage, durable_subscriber
from shared.contracts.sizing import (
    EstimateReply,
    EstimateRequest,
    SizingRequest,
    SizingResult,
    TenantSized,
)
from shared.contracts.tenants import (
    CreateTenant,
    DeleteTenant,
    TenantAccepted,
    TenantDeleted,
    TenantRejected,
    TenantSpec,
    UpdateTenant,
)
from shared.db import Databases
from shared.modes import Mode
from shared.service import ServiceRuntime

log = logging.getLogger(__name__)
# Different tenants' messages are handled side by side; one tenant's stay in order.
TENANTS_AT_ONCE = 8


def sizing_request_of(spec: TenantSpec) -> SizingRequest:
    return SizingRequest(
        service_requirements=spec.service_requirements,
        preset=spec.preset,
        gpu_type=spec.gpu_type,
        cloud=spec.cloud,
        sla_target=spec.sla_target,
    )


class TenantCommands:
    """Handles one mode's tenant commands, in order, on one durable consumer."""

    def __init__(self, broker: NatsBroker, db: Databases, catalogue: Catalogue, mode: Mode) -> None:
        self.broker, self.db, self.catalogue, self.mode = broker, db, catalogue, mode

    async def handle(self, body: dict[str, Any], msg: ReceivedMessage) -> None:
        verb = msg.subject.rsplit(".", 1)[-1]
        if verb in ("create", "update"):
            command = (CreateTenant if verb == "create" else UpdateTenant).model_validate(body)
            await self.size_and_store(command, must_exist=verb == "update")
        elif verb == "delete":
            await self.delete(DeleteTenant.model_validate(body))
        else:
            log.warning("unknown tenant command ignored", extra={"verb": verb})

    async def size_and_store(self, command: CreateTenant | UpdateTenant, must_exist: bool) -> None:
        tenant_id, revision = command.tenant_id, command.revision
        # No transaction: one read, then one INSERT that a concurrent delivery of the same
        # revision makes fail (and its retry then finds the revision stored).
        async with self.db.connection(self.mode) as conn:
            newest, deleted = await store.revisions(conn, tenant_id)
            if newest >= revision:
                # A redelivery or a replay: publish the same outcome again (deduplicated).
                stored = await store.get_revision(conn, tenant_id, revision)
                if stored is not None and stored.sizing is not None:
                    sizing = SizingResult.model_validate(stored.sizing)
                    await self.announce(command.spec, revision, sizing)
                return
            if revision <= deleted:
                return
            if must_exist and not newest:
                await self.reject(
                    tenant_id, revision, "TENANT_NOT_FOUND", "the tenant does not exist"
                )
                return
            try:
                sizing = size(sizing_request_of(command.spec), self.catalogue)
            except SizingError as error:
                await self.reject(tenant_id, revision, error.code, error.reason)
                return
            await store.add_revision(
                conn,
                tenant_id,
                revision,
                command.spec.model_dump(mode="json"),
                sizing.model_dump(mode="json"),
                datetime.now(UTC),
            )
        await self.announce(command.spec, revision, sizing)

    async def announce(self, spec: TenantSpec, revision: int, sizing: SizingResult) -> None:
        """`tenant.accepted`, then `tenant.sized`: the first is not waited for before the second
        goes out (they keep their order); both acks are before this returns."""
        tenant_id = spec.tenant_id
        accepted = await publish_event_unacked(
            self.broker,
            self.mode,
            tenant_id,
            "tenant.accepted",
            TenantAccepted(tenant_id=tenant_id, revision=revision, spec=spec),
            msg_id=f"tenant.accepted:{tenant_id}:{revision}",
        )
        await publish_event(
            self.broker,
            self.mode,
            tenant_id,
            "tenant.sized",
            TenantSized(
                tenant_id=tenant_id,
                revision=revision,
                sizing=sizing,
                name=spec.name,
                auto_deploy=spec.auto_deploy,
            ),
            msg_id=f"tenant.sized:{tenant_id}:{revision}",
        )
        await acked([accepted])

    async def reject(self, tenant_id: str, revision: int, code: str, reason: str) -> None:
        log.info("tenant rejected", extra={"tenant_id": tenant_id, "code": code, "reason": reason})
        await publish_event(
            self.broker,
            self.mode,
            tenant_id,
            "tenant.rejected",
            TenantRejected(tenant_id=tenant_id, revision=revision, code=code, reason=reason),
            msg_id=f"tenant.rejected:{tenant_id}:{revision}",
        )

    async def delete(self, command: DeleteTenant) -> None:
        async with self.db.transaction(self.mode) as conn:
            if command.revision > await store.deleted_revision(conn, command.tenant_id):
                await store.delete_tenant(
                    conn, command.tenant_id, command.revision, datetime.now(UTC)
                )
        await publish_event(
            self.broker,
            self.mode,
            command.tenant_id,
            "tenant.deleted",
            TenantDeleted(tenant_id=command.tenant_id, revision=command.revision),
            msg_id=f"tenant.deleted:{command.tenant_id}:{command.revision}",
        )


def register(runtime: ServiceRuntime, catalogue: Catalogue) -> None:
    broker = runtime.broker
    for mode in Mode:
        commands = TenantCommands(broker, runtime.db, catalogue, mode)
        durable_subscriber(
            runtime,
            subject=subjects.command(mode, subjects.ANY, "tenant", "*"),
            stream=subjects.stream_name(mode, "cmd"),
            durable=f"calculator-{mode}-tenant",
            concurrency=TENANTS_AT_ONCE,
        )(commands.handle)

        async def estimate(body: EstimateRequest) -> dict[str, Any]:
            try:
                sizing = size(body.request, catalogue)
            except SizingError as error:
                return EstimateReply(ok=False, code=error.code, reason=error.reason).model_dump(
                    mode="json"
                )
            return EstimateReply(ok=True, sizing=sizing).model_dump(mode="json")

        broker.subscriber(subjects.rpc(mode, "calculator", "estimate"), queue="calculator")(
            estimate
        )
