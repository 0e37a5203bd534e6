"""What the gateway answers when the broker does not take a tenant command: nothing sent is a
503 its caller may undo; a publish that failed under way is left to the reconciler."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from services.gateway import commands
from services.gateway.errors import Problem
from services.gateway.events import EventHub
from shared.contracts.tenants import DeleteTenant
from shared.modes import Mode

pytestmark = pytest.mark.unit


def gateway(connected: bool) -> Any:
    return SimpleNamespace(
        broker=SimpleNamespace(connection=SimpleNamespace(is_connected=connected)),
        hub=EventHub(),
        settings=SimpleNamespace(create_wait_seconds=0.05),
    )


async def send(gw: Any) -> Any:
    command = DeleteTenant(tenant_id="acme", revision=2)
    return await commands.send_tenant_command(gw, Mode.demo, "acme", 2, "delete", command)


async def test_without_a_connection_nothing_is_sent_and_the_answer_is_503(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[str] = []

    async def publish(*args: Any, **kwargs: Any) -> None:
        sent.append(kwargs["msg_id"])

    monkeypatch.setattr(commands, "publish_command", publish)
    with pytest.raises(Problem) as refused:
        await send(gateway(connected=False))
    assert refused.value.status == 503 and refused.value.code == "BROKER_UNAVAILABLE"
    assert sent == []


async def test_a_publish_that_failed_under_way_is_answered_as_pending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def publish(*args: Any, **kwargs: Any) -> None:
        # As nats-py does when the connection drops after the message was written or buffered.
        raise TimeoutError

    monkeypatch.setattr(commands, "publish_command", publish)
    gw = gateway(connected=True)
    assert await send(gw) is None
    assert not gw.hub.waiters
