"""One deployment's run: recorded as under way, carried out on its target, finished."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.deployer import store
from services.deployer.demo_target import DemoTarget
from services.deployer.job import Job, JobKind, Outcome
from services.deployer.kube_target import KubeTarget
from services.deployer.progress import Reporter, keep_alive
from shared.consumers import ReceivedMessage
from shared.contracts.base import utc_now
from shared.contracts.deployments import DeploymentState
from shared.db import Databases
from shared.modes import Mode
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Opened:
    """A deployment recorded as under way, to be carried out."""

    reporter: Reporter
    kind: JobKind
    reason: str
    manifest_revision: int
    objects: list[dict[str, Any]] | None
    inventory: list[dict[str, Any]]


class DeploymentRuns:
    """One mode's deployment runs on its target (the virtual cluster, or Kubernetes)."""

    def __init__(
        self, db: Databases, settings: Settings, mode: Mode, target: DemoTarget | KubeTarget
    ) -> None:
        self.db, self.settings, self.mode, self.target = db, settings, mode, target

    async def open(
        self,
        conn: asyncpg.Connection,
        reporter: Reporter,
        manifest_revision: int,
        kind: JobKind,
        reason: str,
        msg: ReceivedMessage | None,
        objects: list[dict[str, Any]] | None = None,
        rows: tuple[store.DeploymentRow | None, store.TenantRow] | None = None,
    ) -> Opened | None:
        """Record the deployment as under way in the caller's transaction, to be carried out once
        it commits; None when there is nothing to run.
        `objects` are the manifest's when the caller has them (else they are read); `rows` the
        deployment's and the tenant's (locked) when the caller read them in this transaction."""
        tenant_id, deployment_id, revision = (
            reporter.tenant_id,
            reporter.deployment_id,
            reporter.revision,
        )
        row, tenant = rows or (await store.deployment(conn, deployment_id), None)
        if row is not None and row.finished:
            await reporter.finished(_state(row.state), row.error or "", row.objects)
            return None
        if tenant is None:
            tenant = await store.tenant(conn, tenant_id, for_update=True)
        if row is None and revision <= tenant.deleted_revision:
            return None
        if objects is None:
            manifest = await store.manifest(conn, tenant_id, manifest_revision)
            objects = manifest.objects if manifest is not None else None
        if (
            objects is None
            and manifest_revision
            and kind == "deploy"
            and _early(msg, self.settings)
        ):
            # The rendered event may still be on its way: the command is tried again.
            raise ManifestNotRendered(f"no manifest of revision {manifest_revision} yet")
        tenant.current_deployment_id = deployment_id
        tenant.last_revision = max(tenant.last_revision, revision)
        tenant.updated_at = utc_now()
        if row is None:
            started = store.new_deployment(
                deployment_id, tenant_id, revision, manifest_revision, kind, reason
            )
            await store.add_deployment(conn, started, tenant)
        else:
            await store.save_tenant(conn, tenant)
        return Opened(reporter, kind, reason, manifest_revision, objects, list(tenant.inventory))

    async def carry_out(self, opened: Opened, msg: ReceivedMessage | None) -> None:
        reporter, kind, manifest_revision = opened.reporter, opened.kind, opened.manifest_revision
        await reporter.started(
            {"kind": kind, "reason": opened.reason, "manifest_revision": manifest_revision}
        )
        if opened.objects is None:
            why = (
                f"no rendered manifest of revision {manifest_revision} for tenant "
                f"{reporter.tenant_id!r}"
                if manifest_revision
                else "there is no earlier successful revision to roll back to"
            )
            outcome = Outcome(ok=False, reason=why, inventory=opened.inventory)
        else:
            job = Job(
                reporter.tenant_id,
                reporter.deployment_id,
                reporter.revision,
                manifest_revision,
                kind,
                opened.objects,
                opened.inventory,
                reporter,
            )
            async with keep_alive(msg, self.settings.ack_wait_seconds / 3):
                outcome = await self.target.run(job)
        await self._finish(reporter, kind, manifest_revision, outcome)

    async def _finish(
        self, reporter: Reporter, kind: JobKind, manifest_revision: int, outcome: Outcome
    ) -> None:
        state: DeploymentState = "failed"
        if outcome.ok:
            state = "rolled-back" if kind == "rollback" else "succeeded"
        async with self.db.connection(self.mode) as conn:
            # Both rows exist since `open` committed them.
            await store.finish_deployment(
                conn,
                reporter.deployment_id,
                state=state,
                error=outcome.reason or None,
                objects=outcome.objects,
                step=reporter.last_step,
                placement=outcome.placement,
                tenant_id=reporter.tenant_id,
                inventory=outcome.inventory,
                applied_revision=manifest_revision if outcome.ok else None,
                at=utc_now(),
            )
        log.info(
            "deployment finished",
            extra={"tenant_id": reporter.tenant_id, "state": state, "reason": outcome.reason},
        )
        await reporter.finished(state, outcome.reason, outcome.objects)


def _state(value: str) -> DeploymentState:
    assert value in ("succeeded", "failed", "rolled-back", "deleted")
    return value  # type: ignore[return-value]


class ManifestNotRendered(RuntimeError):
    pass


def _early(msg: ReceivedMessage | None, settings: Settings) -> bool:
    """Whether the message has tries left before its last one."""
    delivered = msg.raw_message.metadata.num_delivered if msg is not None else None
    return delivered is not None and delivered < settings.max_deliver - 1
