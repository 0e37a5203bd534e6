"""The calculator against real NATS and PostgreSQL: idempotent commands, request/reply sizing."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import nats
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.calculator.app import build
from shared import subjects
from shared.bus import MSG_ID_HEADER
from shared.contracts.sizing import EstimateRequest, SizingRequest
from shared.contracts.tenants import CreateTenant, ServiceRequirements, TenantSpec
from shared.modes import Mode
from shared.settings import Settings


@pytest.fixture(scope="module")
async def calculator(settings: Settings) -> AsyncIterator[None]:
    runtime = build(settings)
    await runtime.start()
    yield
    await runtime.stop()


def create_command(tid: str, chatbot: int = 20) -> CreateTenant:
    spec = TenantSpec(
        tenant_id=tid, name=tid, service_requirements=ServiceRequirements(chatbot=chatbot)
    )
    return CreateTenant(tenant_id=tid, revision=1, spec=spec)


async def events_of(js: nats.js.JetStreamContext, tid: str) -> list[str]:
    sub = await js.subscribe(
        subjects.event(Mode.demo, tid, "tenant", "*"),
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    names = []
    try:
        while True:
            msg = await sub.next_msg(timeout=1.0)
            names.append(subjects.event_name_of(msg.subject))
    except nats.errors.TimeoutError:
        pass
    await sub.unsubscribe()
    return names


async def test_a_replayed_or_redelivered_create_changes_nothing(
    calculator: None, settings: Settings, database_urls: dict[str, str]
) -> None:
    tid = f"replay-{uuid.uuid4().hex[:8]}"
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    subject = subjects.command(Mode.demo, tid, "tenant", "create")
    body = create_command(tid).model_dump_json().encode()
    # The same command three times under different ids: a replay the server cannot dedupe.
    for attempt in range(3):
        await js.publish(
            subject,
            body,
            headers={MSG_ID_HEADER: f"replay:{tid}:{attempt}"},
            stream=subjects.stream_name(Mode.demo, "cmd"),
        )
    await asyncio.sleep(2.0)
    assert sorted(await events_of(js, tid)) == ["tenant.accepted", "tenant.sized"]
    db = await asyncpg.connect(database_urls["demo"])
    rows = await db.fetch(
        "SELECT revision, sizing FROM calculator.tenant_revisions WHERE tenant_id=$1", tid
    )
    await db.close()
    assert (
        len(rows) == 1
        and rows[0]["revision"] == 1
        and json.loads(rows[0]["sizing"])["preset"] == "micro"
    )
    await nc.close()


async def test_an_unknown_gpu_type_is_rejected_with_a_reason(
    calculator: None, settings: Settings
) -> None:
    tid = f"nogpu-{uuid.uuid4().hex[:8]}"
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    spec = TenantSpec(
        tenant_id=tid, name=tid, gpu_type="H100", service_requirements=ServiceRequirements(tts=10)
    )
    command = CreateTenant(tenant_id=tid, revision=1, spec=spec)
    await js.publish(
        subjects.command(Mode.demo, tid, "tenant", "create"),
        command.model_dump_json().encode(),
        headers={MSG_ID_HEADER: f"c:{tid}"},
        stream=subjects.stream_name(Mode.demo, "cmd"),
    )
    await asyncio.sleep(1.5)
    assert await events_of(js, tid) == ["tenant.rejected"]
    await nc.close()


async def test_estimate_answers_over_request_reply_without_storing(
    calculator: None, settings: Settings, database_urls: dict[str, str]
) -> None:
    nc = await nats.connect(settings.nats_url)
    request = EstimateRequest(
        request=SizingRequest(
            service_requirements=ServiceRequirements(
                callbot=100, chatbot=200, advisor=50, stt=100, tts=100
            )
        )
    )
    reply = await nc.request(
        subjects.rpc(Mode.prod, "calculator", "estimate"),
        request.model_dump_json().encode(),
        timeout=5,
    )
    answer = json.loads(reply.data)
    assert answer["ok"] and answer["sizing"]["preset"] == "medium"
    db = await asyncpg.connect(database_urls["prod"])
    assert await db.fetchval("SELECT count(*) FROM calculator.tenant_revisions") == 0
    await db.close()
    await nc.close()
