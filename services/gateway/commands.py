"""Send a tenant command and wait, briefly, for the event that settles it."""

from __future__ import annotations

import asyncio
import logging

from faststream.exceptions import IncorrectState
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

    Raises a 503 problem when the broker is not connected: nothing was sent, and the caller may
    undo what it stored. A publish that fails once under way may still reach the stream (the
    client keeps what it could not write and sends it on reconnecting), so it is answered like
    a slow one, None: the stored row stands, and the reconciler sends the command again under
    the same `Nats-Msg-Id` until the calculator answers."""
    require_broker(gateway)
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
        except Exception as error:  # noqa: BLE001 - any failure here leaves the outcome unknown
            log.warning(
                "command not confirmed; the reconciler sends it again",
                extra={"tenant_id": tenant_id, "error": repr(error)},
            )
            return None
        try:
            return await asyncio.wait_for(outcome, gateway.settings.create_wait_seconds)
        except TimeoutError:
            return None
    finally:
        gateway.hub.forget(mode, tenant_id, revision)


def require_broker(gateway: Gateway) -> None:
    """A 503 problem, before anything is sent or stored, when the broker is not connected."""
    try:
        connected = gateway.broker.connection.is_connected
    except IncorrectState:  # not connected yet: the gateway is starting
        connected = False
    if not connected:
        raise Problem(503, "BROKER_UNAVAILABLE", "the message broker is not reachable; retry")
