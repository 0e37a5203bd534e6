"""The outbox delivers each notification once to real receivers: through failures, restarts
and competing workers; gives up after the bounded tries; refuses forbidden webhooks."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

from services.alerts.payloads import verify
from tests.integration.alerts.conftest import World
from tests.integration.alerts.receivers import SmtpServer, WebhookReceiver

pytestmark = pytest.mark.integration


async def fire(world: World, receiver: WebhookReceiver, **extra) -> None:
    action = {"type": "webhook", "url": receiver.url, "method": "PUT", "secret": "k"}
    await world.create_rule(alert_name="cpu", condition="cpu_usage > 80", actions=[action], **extra)
    await world.push(cpu_usage=90)


async def attempts(world: World) -> list[str]:
    [note] = await world.notifications()
    return [entry["outcome"] for entry in note["log"]]


async def test_receiver_failing_twice_gets_exactly_one_delivery(world: World) -> None:
    receiver = await WebhookReceiver(fail_first=2).start()
    try:
        await fire(world, receiver)
        for _ in range(5):
            await world.delivery.deliver_due(world.mode)
            world.clock.advance(10)  # past any back-off
        assert len(receiver.requests) == 3 and len(receiver.delivered) == 1
        assert receiver.delivered[0].method == "PUT"
        sent = receiver.delivered[0]
        assert verify(sent.body, "k", sent.headers["x-ecp-signature"])
        assert await attempts(world) == ["retry", "retry", "delivered"]
    finally:
        await receiver.stop()


async def test_retry_waits_for_its_back_off(world: World) -> None:
    receiver = await WebhookReceiver(fail_first=1).start()
    try:
        await fire(world, receiver)
        assert await world.delivery.deliver_due(world.mode) == 1
        assert await world.delivery.deliver_due(world.mode) == 0  # not due yet
        world.clock.advance(1.0)  # base 1 s, jitter 0.5–1.0
        assert await world.delivery.deliver_due(world.mode) == 1
        assert len(receiver.delivered) == 1
    finally:
        await receiver.stop()


async def test_delivery_restarted_between_attempts_still_delivers_once(world: World) -> None:
    receiver = await WebhookReceiver(fail_first=1).start()
    try:
        await fire(world, receiver)
        first = world.new_delivery(workers=2, poll_s=0.05)
        await first.start()
        await asyncio.sleep(0.5)
        await first.stop()
        assert len(receiver.requests) == 1 and receiver.delivered == []
        world.clock.advance(5)
        second = world.new_delivery(workers=2, poll_s=0.05)
        await second.start()
        await receiver.wait_for(1)
        await asyncio.sleep(0.3)
        await second.stop()
        assert len(receiver.delivered) == 1
        assert await attempts(world) == ["retry", "delivered"]
    finally:
        await receiver.stop()


async def test_competing_workers_deliver_each_notification_once(world: World) -> None:
    receiver = await WebhookReceiver().start()
    try:
        action = {"type": "webhook", "url": receiver.url}
        for index in range(12):
            await world.create_rule(
                alert_name=f"cpu{index}", condition="cpu_usage > 80", actions=[action]
            )
        await world.push(cpu_usage=90)
        loops = [world.new_delivery(workers=4, poll_s=0.05) for _ in range(2)]
        for loop in loops:
            await loop.start()
        await receiver.wait_for(12)
        await asyncio.sleep(0.5)
        for loop in loops:
            await loop.stop()
        names = sorted(r.headers["idempotency-key"] for r in receiver.requests)
        assert len(names) == 12 and len(set(names)) == 12
    finally:
        await receiver.stop()


async def test_an_idle_loop_looks_once_per_poll_not_once_per_worker(world: World) -> None:
    looks = 0

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        nonlocal looks
        looks += "notifications" in statement and "SKIP LOCKED" in statement

    engine = world.db.engines[world.mode].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    loop = world.new_delivery(workers=4, poll_s=0.1)
    try:
        await loop.start()
        await asyncio.sleep(0.55)
        await loop.stop()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # One worker polling: about six looks (at start, then every 0.1 s). Four would make 24.
    assert 1 <= looks <= 10


async def test_workers_asleep_help_once_a_poll_finds_work(world: World) -> None:
    receiver = await WebhookReceiver(answer_after_s=0.3).start()
    try:
        loop = world.new_delivery(workers=4, poll_s=0.05)
        await loop.start()
        await asyncio.sleep(0.2)  # every worker has found nothing and gone to sleep
        action = {"type": "webhook", "url": receiver.url}
        for index in range(4):
            await world.create_rule(
                alert_name=f"cpu{index}", condition="cpu_usage > 80", actions=[action]
            )
        await world.push(cpu_usage=90)  # four notifications due; nobody calls wake()
        await receiver.wait_for(4)
        await loop.stop()
        assert len(receiver.delivered) == 4
        assert receiver.most_in_flight >= 2
    finally:
        await receiver.stop()


async def test_notification_is_dead_lettered_after_the_bounded_tries(world: World) -> None:
    receiver = await WebhookReceiver(fail_first=100).start()
    try:
        await fire(world, receiver)
        for _ in range(10):
            await world.delivery.deliver_due(world.mode)
            world.clock.advance(60)
        assert len(receiver.requests) == world.settings.notification_max_tries
        [note] = await world.notifications()
        assert note["state"] == "dead" and note["last_error"] == "HTTP 503"
        assert (await attempts(world))[-1] == "dead"
    finally:
        await receiver.stop()


async def test_email_is_sent_over_smtp_with_a_readable_body(world: World) -> None:
    with SmtpServer() as smtp:
        world.delivery.settings = world.settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_starttls": False}
        )
        await world.create_rule(
            alert_name="high_cpu_usage",
            condition="cpu_usage > 80",
            actions=[{"type": "email", "recipients": ["admin@company.com"]}],
        )
        await world.push(cpu_usage=91)
        assert await world.delivery.deliver_due(world.mode) == 1
        world.clock.advance(5)
        await world.push(cpu_usage=10)
        assert await world.delivery.deliver_due(world.mode) == 1
        await asyncio.sleep(0.1)
        assert [m["Subject"] for m in smtp.messages] == [
            f"[FIRING] high_cpu_usage on tenant {world.tenant}",
            f"[RESOLVED] high_cpu_usage on tenant {world.tenant}",
        ]
        assert smtp.messages[0]["To"] == "admin@company.com"
        text = smtp.messages[0].get_payload(decode=True).decode()
        assert "Condition: cpu_usage > 80" in text and "Value:     91" in text


async def test_webhook_to_a_private_address_is_refused(world: World) -> None:
    reply = await world.rpc(
        "rules",
        {
            "op": "create",
            "tenant_id": world.tenant,
            "body": {
                "alert_name": "cpu",
                "condition": "cpu_usage > 80",
                "actions": [{"type": "webhook", "url": "http://10.1.2.3/hook"}],
            },
        },
    )
    assert reply["status"] == 422 and reply["code"] == "WEBHOOK_URL_FORBIDDEN"


async def test_bad_condition_is_refused_with_its_column(world: World) -> None:
    reply = await world.rpc(
        "rules",
        {
            "op": "create",
            "tenant_id": world.tenant,
            "body": {"alert_name": "cpu", "condition": "cpu_usage >> 80"},
        },
    )
    assert reply["status"] == 422 and reply["code"] == "INVALID_CONDITION"
    assert reply["column"] == 12


async def test_same_alert_name_twice_conflicts(world: World) -> None:
    await world.create_rule(alert_name="cpu", condition="cpu_usage > 80")
    reply = await world.rpc(
        "rules",
        {
            "op": "create",
            "tenant_id": world.tenant,
            "body": {"alert_name": "cpu", "condition": "cpu_usage > 1"},
        },
    )
    assert reply["status"] == 409 and reply["code"] == "ALERT_RULE_EXISTS"
