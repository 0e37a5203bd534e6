"""Manifests, deployment commands and deletions in; deployments run and reported as events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from faststream.nats import NatsBroker

from services.deployer import store
from services.deployer.demo_target import DemoTarget
from services.deployer.job import JobKind
from services.deployer.kube_target import KubeTarget
from services.deployer.policy import auto_deployment_id, auto_deploys, rollback_target
from services.deployer.progress import Reporter, keep_alive
from services.deployer.queries import DeploymentQueries
from services.deployer.runs import DeploymentRuns
from shared import subjects
from shared.consumers import ReceivedMessage, durable_subscriber
from shared.contracts.base import utc_now
from shared.contracts.deployments import DeployTenant, RollbackTenant
from shared.contracts.manifests import ManifestRendered
from shared.contracts.tenants import TenantDeleted
from shared.db import Databases
from shared.modes import Mode
from shared.service import ServiceRuntime
from shared.settings import Settings

log = logging.getLogger(__name__)
# Deployments of different tenants run side by side; one tenant's wait for its lock.
CONCURRENT_DEPLOYMENTS = 16


class Deployer:
    """One mode's deployments. Work for one tenant is serialised by a lock per tenant."""

    def __init__(
        self,
        broker: NatsBroker,
        db: Databases,
        settings: Settings,
        mode: Mode,
        target: DemoTarget | KubeTarget,
    ) -> None:
        self.broker, self.db, self.settings, self.mode = broker, db, settings, mode
        self.target = target
        self.runs = DeploymentRuns(db, settings, mode, target)
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def _tenant(self, tenant_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(tenant_id, asyncio.Lock())
        self._users[tenant_id] = self._users.get(tenant_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[tenant_id] -= 1
            if not self._users[tenant_id]:
                del self._users[tenant_id], self._locks[tenant_id]

    async def on_manifest(self, body: dict[str, Any], msg: ReceivedMessage) -> None:
        event = ManifestRendered.model_validate(body)
        tenant_id, revision = event.tenant_id, event.revision
        deployment_id = auto_deployment_id(tenant_id, revision, event.content_hash)
        async with self._tenant(tenant_id):
            async with self.db.transaction(self.mode) as conn:
                found = await store.known_tenant(conn, tenant_id, for_update=True)
                tenant = found or store.new_tenant(tenant_id)
                if revision <= tenant.deleted_revision:
                    return
                await store.keep_manifest(
                    conn,
                    tenant_id,
                    revision,
                    event.content_hash,
                    event.objects,
                    event.auto_deploy,
                    utc_now(),
                )
                # A deployment is recorded with its tenant's row: a new tenant has none.
                row = await store.deployment(conn, deployment_id) if found else None
                seen = row is not None
                stale = revision <= tenant.last_revision and not seen
                auto = auto_deploys(event.auto_deploy, self.mode, self.settings)
                if stale or not auto:
                    if stale and auto:
                        log.info("stale manifest not deployed", extra={"tenant_id": tenant_id})
                    return
                # The deployment is recorded in the transaction that stores its manifest.
                opened = await self.runs.open(
                    conn,
                    Reporter(self.broker, self.mode, tenant_id, revision, deployment_id),
                    revision,
                    "deploy",
                    "auto",
                    msg,
                    event.objects,
                    (row, tenant),
                )
            if opened is not None:
                await self.runs.carry_out(opened, msg)

    async def on_command(self, body: dict[str, Any], msg: ReceivedMessage) -> None:
        verb = msg.subject.rsplit(".", 1)[-1]
        if verb == "deploy":
            command = DeployTenant.model_validate(body)
            deployment_id = command.deployment_id or (
                f"req-{command.tenant_id}-r{command.revision}-{command.occurred_at.timestamp():.0f}"
            )
            async with self._tenant(command.tenant_id):
                await self._deploy(
                    command.tenant_id,
                    deployment_id,
                    command.revision,
                    command.revision,
                    "deploy",
                    command.reason,
                    msg,
                )
        elif verb == "rollback":
            await self._rollback(RollbackTenant.model_validate(body), msg)
        else:
            log.warning("unknown deployment command ignored", extra={"verb": verb})

    async def _rollback(self, command: RollbackTenant, msg: ReceivedMessage) -> None:
        tenant_id = command.tenant_id
        deployment_id = command.deployment_id or (
            f"rollback-{tenant_id}-r{command.revision}-{command.occurred_at.timestamp():.0f}"
        )
        async with self._tenant(tenant_id):
            async with self.db.transaction(self.mode) as conn:
                tenant = await store.tenant(conn, tenant_id)
                done = [
                    (row.manifest_revision, row.state)
                    for row in await store.history(conn, tenant_id)
                    if row.deployment_id != deployment_id
                ]
            target = rollback_target(done, tenant.applied_revision, command.to_revision)
            await self._deploy(
                tenant_id,
                deployment_id,
                command.revision,
                target or 0,
                "rollback",
                "rollback",
                msg,
            )

    async def _deploy(
        self,
        tenant_id: str,
        deployment_id: str,
        revision: int,
        manifest_revision: int,
        kind: JobKind,
        reason: str,
        msg: ReceivedMessage | None,
    ) -> None:
        """Run one deployment to its end; a replay of a finished one only repeats its outcome."""
        reporter = Reporter(self.broker, self.mode, tenant_id, revision, deployment_id)
        async with self.db.transaction(self.mode) as conn:
            opened = await self.runs.open(conn, reporter, manifest_revision, kind, reason, msg)
        if opened is not None:
            await self.runs.carry_out(opened, msg)

    async def on_deleted(self, body: dict[str, Any], msg: ReceivedMessage) -> None:
        event = TenantDeleted.model_validate(body)
        tenant_id = event.tenant_id
        reporter = Reporter(
            self.broker,
            self.mode,
            tenant_id,
            event.revision,
            f"delete-{tenant_id}-r{event.revision}",
        )
        async with self._tenant(tenant_id):
            async with self.db.connection(self.mode) as conn:
                tenant = await store.tenant(conn, tenant_id)
                if event.revision < tenant.deleted_revision:
                    return
                inventory = list(tenant.inventory)
            removed: list[str] = []
            if isinstance(self.target, KubeTarget):
                async with keep_alive(msg, self.settings.ack_wait_seconds / 3):
                    removed = await self.target.remove(inventory)
            await self._forget(tenant_id, event.revision)
        detail = ", ".join(removed) if removed else "capacity released"
        await reporter.finished("deleted", f"removed: {detail}", [])

    async def _forget(self, tenant_id: str, revision: int) -> None:
        try:
            async with self.db.transaction(self.mode) as conn:
                tenant = await store.tenant(conn, tenant_id, for_update=True)
                if isinstance(self.target, DemoTarget):
                    await self.target.release(conn, tenant_id)
                tenant.deleted_revision = max(tenant.deleted_revision, revision)
                tenant.last_revision = max(tenant.last_revision, revision)
                tenant.inventory, tenant.applied_revision = [], 0
                tenant.updated_at = utc_now()
                await store.save_tenant(conn, tenant)
                await store.purge_tenant(conn, tenant_id)
        except BaseException:
            if isinstance(self.target, DemoTarget):
                self.target.forget_cache()
            raise


def _durable(runtime: ServiceRuntime, subject: str, stream: str, name: str) -> Any:
    """Different tenants deploy in parallel; one tenant's messages are handled in order."""
    return durable_subscriber(
        runtime, subject=subject, stream=stream, durable=name, concurrency=CONCURRENT_DEPLOYMENTS
    )


def register(runtime: ServiceRuntime, demo: DemoTarget, kube: KubeTarget) -> dict[Mode, Deployer]:
    broker, db, settings = runtime.broker, runtime.db, runtime.settings
    deployers = {}
    for mode in Mode:
        deployer = Deployer(broker, db, settings, mode, demo if mode is Mode.demo else kube)
        deployers[mode] = deployer
        evt, cmd = subjects.stream_name(mode, "evt"), subjects.stream_name(mode, "cmd")
        any_tenant = subjects.ANY
        _durable(
            runtime,
            subjects.event(mode, any_tenant, "manifest", "rendered"),
            evt,
            f"deployer-{mode}-manifest",
        )(deployer.on_manifest)
        _durable(
            runtime,
            subjects.event(mode, any_tenant, "tenant", "deleted"),
            evt,
            f"deployer-{mode}-tenant-deleted",
        )(deployer.on_deleted)
        _durable(
            runtime,
            subjects.command(mode, any_tenant, "deployment", "*"),
            cmd,
            f"deployer-{mode}-deployment",
        )(deployer.on_command)
        broker.subscriber(subjects.rpc(mode, "deployer", "status"), queue="deployer")(
            DeploymentQueries(deployer).status
        )
        broker.subscriber(subjects.rpc(mode, "deployer", "cluster"), queue="deployer")(
            DeploymentQueries(deployer).cluster
        )
    return deployers
