"""Sends again the tenant commands the gateway stored but the calculator never answered.

The gateway commits a tenant's row before it publishes the command; if it stops in between, the
row would wait for ever. This loop finds rows whose revision is ahead of the calculator's last
answer and publishes their command again, under the same `Nats-Msg-Id`: the server drops it if
the first one did arrive, and the calculator answers a replay without changing anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col

from services.gateway.deps import Gateway
from services.gateway.store import TenantRow
from shared.bus import publish_command
from shared.contracts.tenants import CreateTenant, DeleteTenant, TenantSpec, UpdateTenant
from shared.modes import Mode

log = logging.getLogger(__name__)


def pending_command(row: TenantRow) -> tuple[str, BaseModel]:
    """The command that produced the row's current revision."""
    if row.status == "deleting":
        return "delete", DeleteTenant(tenant_id=row.tenant_id, revision=row.revision)
    spec = TenantSpec.model_validate(row.requested_spec or row.spec)
    if row.sized_revision == 0:
        return "create", CreateTenant(tenant_id=row.tenant_id, revision=row.revision, spec=spec)
    return "update", UpdateTenant(tenant_id=row.tenant_id, revision=row.revision, spec=spec)


class Reconciler:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.gateway.settings.reconcile_interval_seconds)
            for mode in Mode:
                try:
                    await self.resend(mode)
                except Exception:  # the next round tries again
                    log.exception("reconciling tenant commands failed", extra={"mode": str(mode)})

    async def resend(self, mode: Mode) -> int:
        cutoff = datetime.now(UTC) - timedelta(
            seconds=self.gateway.settings.reconcile_after_seconds
        )
        async with self.gateway.db.session(mode) as session:
            rows = (
                (
                    await session.execute(
                        select(TenantRow)
                        .where(
                            col(TenantRow.deleted_at).is_(None),
                            col(TenantRow.revision) > col(TenantRow.settled_revision),
                            col(TenantRow.updated_at) < cutoff,
                        )
                        .limit(100)
                    )
                )
                .scalars()
                .all()
            )
        for row in rows:
            verb, command = pending_command(row)
            log.warning(
                "tenant command sent again",
                extra={"tenant_id": row.tenant_id, "verb": verb, "revision": row.revision},
            )
            await publish_command(
                self.gateway.broker,
                mode,
                row.tenant_id,
                f"tenant.{verb}",
                command,
                msg_id=f"tenant.{verb}:{row.tenant_id}:{row.revision}",
            )
        return len(rows)
