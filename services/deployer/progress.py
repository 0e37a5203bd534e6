"""The events one deployment emits, and the heartbeat that keeps a long handler's message."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from faststream.nats import NatsBroker

from shared.bus import acked, publish_event, publish_event_unacked
from shared.contracts.deployments import DeploymentFinished, DeploymentProgress, DeploymentState
from shared.modes import Mode

log = logging.getLogger(__name__)
FINISHED_EVENT = {
    "succeeded": "deployment.succeeded",
    "failed": "deployment.failed",
    "rolled-back": "deployment.rolled-back",
    "deleted": "deployment.deleted",
}
StepStatus = Literal["started", "ok", "waiting", "failed"]


@dataclass
class Reporter:
    """Publishes `deployment.started`, then `deployment.progress` steps, then the outcome.

    Steps go out without waiting for each ack (they keep their order); the outcome is published
    only once every step before it is acked."""

    broker: NatsBroker
    mode: Mode
    tenant_id: str
    revision: int
    deployment_id: str
    sequence: int = 0
    last_step: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    unacked: list[asyncio.Future[Any]] = field(default_factory=list)

    async def started(self, detail: dict[str, Any]) -> None:
        await self._send(
            "deployment.started",
            DeploymentProgress(
                tenant_id=self.tenant_id,
                revision=self.revision,
                deployment_id=self.deployment_id,
                step="started",
                status="started",
                detail=detail,
            ),
            msg_id=f"deployment.started:{self.deployment_id}",
        )

    async def step(
        self,
        step: str,
        status: StepStatus,
        message: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.sequence += 1
        self.last_step = step
        event = DeploymentProgress(
            tenant_id=self.tenant_id,
            revision=self.revision,
            deployment_id=self.deployment_id,
            step=step,
            status=status,
            message=message,
            detail=detail or {},
        )
        self.steps.append({"step": step, "status": status, "message": message})
        await self._send(
            "deployment.progress",
            event,
            msg_id=f"deployment.progress:{self.deployment_id}:{self.sequence}",
        )

    async def finished(
        self, state: DeploymentState, reason: str, objects: list[dict[str, Any]]
    ) -> None:
        await acked(self.unacked)
        self.unacked.clear()
        await self._publish(
            FINISHED_EVENT[state],
            DeploymentFinished(
                tenant_id=self.tenant_id,
                revision=self.revision,
                deployment_id=self.deployment_id,
                state=state,
                reason=reason,
                objects=objects,
            ),
            msg_id=f"{FINISHED_EVENT[state]}:{self.deployment_id}",
        )

    async def _send(self, name: str, event: Any, *, msg_id: str) -> None:
        self.unacked.append(
            await publish_event_unacked(
                self.broker, self.mode, self.tenant_id, name, event, msg_id=msg_id
            )
        )

    async def _publish(self, name: str, event: Any, *, msg_id: str) -> None:
        await publish_event(self.broker, self.mode, self.tenant_id, name, event, msg_id=msg_id)


@contextlib.asynccontextmanager
async def keep_alive(msg: Any, every_seconds: float) -> AsyncIterator[None]:
    """Tell JetStream the message is still being worked on, so it is not redelivered meanwhile."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await msg.in_progress()
            except Exception as error:  # noqa: BLE001 - a lost heartbeat must not fail the work
                log.warning("in_progress not sent", extra={"error": repr(error)})

    task = asyncio.create_task(beat()) if msg is not None else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
