"""Send a tenant command and wait, briefly, for the event that settles it."""

from __future__ import annotations

import asyncio
import logging

from pydantic import BaseModel

from services.gateway.deps import Gateway
from services.gateway.errors import Problem
from services.gateway.events import BusEvent
from shared.bus import publish_command
from shared.modes import Mode

log = logging.getLogger(__name__)
SETTLING_EVENTS = {"tenant.sized", "tenant.rejected"}


async def send_tenant_command(
    gateway: Gateway,
    mode: Mode,
    tenant_id: str,
    revision: int,
    verb: str,
    command: BaseModel,
    *,
    wait_for: set[str] | None = None,
) -> BusEvent | None:
    """Publish `tenant.<verb>`; return the settling event, or None if it did not come in time.

    Raises a 503 problem when the broker does not take the command (nothing was sent)."""
    outcome = gateway.hub.expect(mode, tenant_id, revision, wait_for or SETTLING_EVENTS)
    try:
        try:
            await publish_command(
                gateway.broker,
                mode,
                tenant_id,
                f"tenant.{verb}",
                command,
                msg_id=f"tenant.{verb}:{tenant_id}:{revision}",
            )
        except Exception as error:
            log.error("command not published", extra={"tenant_id": tenant_id, "error": repr(error)})
            raise Problem(
                503, "BROKER_UNAVAILABLE", "the message broker did not accept the command"
            ) from error
        try:
            return await asyncio.wait_for(outcome, gateway.settings.create_wait_seconds)
        except TimeoutError:
            return None
    finally:
        gateway.hub.forget(mode, tenant_id, revision)
