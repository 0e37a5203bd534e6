"""The manifest service against real NATS and PostgreSQL: tenant events in, manifests out."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import nats
import pytest
import yaml
from nats.aio.client import Client
from nats.aio.msg import Msg

from services.calculator.catalogue import default_catalogue_path, load_catalogue
from services.calculator.sizing import size
from services.manifest.app import build
from services.manifest.naming import HASH_ANNOTATION
from services.manifest.validation import validate_manifest
from shared import subjects
from shared.bus import MSG_ID_HEADER
from shared.contracts.sizing import SizingRequest, TenantSized
from shared.contracts.tenants import ServiceRequirements, TenantAccepted, TenantDeleted, TenantSpec
from shared.modes import Mode
from shared.settings import Settings

MODE = Mode.demo
APPLY_ORDER = [
    "Namespace",
    "ResourceQuota",
    "LimitRange",
    "ConfigMap",
    "NetworkPolicy",
    "Service",
    "Deployment",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "CronJob",
]
CATALOGUE = load_catalogue(default_catalogue_path())


@pytest.fixture(scope="module")
async def manifest_service(settings: Settings) -> AsyncIterator[None]:
    runtime = build(settings)
    await runtime.start()
    yield
    await runtime.stop()


@pytest.fixture
async def nc(settings: Settings) -> AsyncIterator[Client]:
    client = await nats.connect(settings.nats_url)
    yield client
    await client.close()


def spec(tid: str, **units: int) -> TenantSpec:
    return TenantSpec(
        tenant_id=tid, name=f"{tid} 콜센터", service_requirements=ServiceRequirements(**units)
    )


async def publish(nc: Client, tid: str, event: str, message: Any, msg_id: str) -> None:
    aggregate, name = event.split(".")
    await nc.jetstream().publish(
        subjects.event(MODE, tid, aggregate, name),
        message.model_dump_json().encode(),
        headers={MSG_ID_HEADER: msg_id},
        stream=subjects.stream_name(MODE, "evt"),
    )


async def publish_sized(
    nc: Client,
    tenant: TenantSpec,
    revision: int,
    msg_id: str | None = None,
    *,
    with_name: bool = True,
) -> None:
    """What the calculator emits for one revision: accepted, then sized (with the name, unless
    `with_name` is False: a calculator older than that field)."""
    tid = tenant.tenant_id
    sizing = size(SizingRequest(service_requirements=tenant.service_requirements), CATALOGUE)
    accepted = TenantAccepted(tenant_id=tid, revision=revision, spec=tenant)
    sized = TenantSized(
        tenant_id=tid,
        revision=revision,
        sizing=sizing,
        name=tenant.name if with_name else None,
        auto_deploy=tenant.auto_deploy if with_name else None,
    )
    suffix = msg_id or f"{tid}:{revision}"
    await publish(nc, tid, "tenant.accepted", accepted, f"tenant.accepted:{suffix}")
    await publish(nc, tid, "tenant.sized", sized, f"tenant.sized:{suffix}")


async def rendered_queue(nc: Client, tid: str) -> asyncio.Queue[Msg]:
    queue: asyncio.Queue[Msg] = asyncio.Queue()

    async def put(msg: Msg) -> None:
        await queue.put(msg)

    await nc.subscribe(subjects.event(MODE, tid, "manifest", "rendered"), cb=put)
    return queue


async def rpc(nc: Client, query: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = await nc.request(
        subjects.rpc(MODE, "manifest", query), json.dumps(body).encode(), timeout=10
    )
    answer: dict[str, Any] = json.loads(reply.data)
    return answer


async def next_rendered(queue: asyncio.Queue[Msg]) -> tuple[Msg, dict[str, Any]]:
    msg = await asyncio.wait_for(queue.get(), timeout=15)
    return msg, json.loads(msg.data)


async def test_a_sized_tenant_is_rendered_stored_and_announced_in_apply_order(
    manifest_service: None, nc: Client
) -> None:
    tid = f"m-{uuid.uuid4().hex[:8]}"
    queue = await rendered_queue(nc, tid)
    await publish_sized(nc, spec(tid, callbot=300, chatbot=200, stt=100, ta=50), 1)
    msg, event = await next_rendered(queue)
    assert msg.headers is not None and msg.headers[MSG_ID_HEADER] == f"manifest.rendered:{tid}:1"
    assert event["revision"] == 1 and event["tenant_id"] == tid
    kinds = [obj["kind"] for obj in event["objects"]]
    assert "ServiceMonitor" not in kinds and "PrometheusRule" not in kinds
    assert sorted(kinds, key=APPLY_ORDER.index) == kinds
    annotations = {obj["metadata"]["annotations"][HASH_ANNOTATION] for obj in event["objects"]}
    assert annotations == {event["content_hash"]}
    config = next(obj for obj in event["objects"] if obj["kind"] == "ConfigMap")
    assert config["data"]["TENANT_NAME"] == f"{tid} 콜센터"  # the name tenant.sized carries

    first = await rpc(nc, "get", {"tenant_id": tid})
    second = await rpc(nc, "get", {"tenant_id": tid})
    assert first["ok"] and first["content"] == second["content"]
    assert first["content_hash"] == event["content_hash"]
    documents = list(yaml.safe_load_all(first["content"]))
    assert documents == event["objects"]
    assert validate_manifest(first["content"]).valid


async def test_a_redelivered_or_older_revision_never_overwrites_a_newer_one(
    manifest_service: None, nc: Client, database_urls: dict[str, str]
) -> None:
    tid = f"m-{uuid.uuid4().hex[:8]}"
    queue = await rendered_queue(nc, tid)
    await publish_sized(nc, spec(tid, chatbot=20), 1)
    await publish_sized(nc, spec(tid, chatbot=20, callbot=100), 2)
    assert (await next_rendered(queue))[1]["revision"] == 1
    assert (await next_rendered(queue))[1]["revision"] == 2
    latest = await rpc(nc, "get", {"tenant_id": tid})
    revision_one = await rpc(nc, "get", {"tenant_id": tid, "revision": 1})

    # Revision 1 again under new message ids (a replay the server cannot deduplicate), and
    # revision 2 redelivered; then revision 3, whose announcement comes after theirs.
    await publish_sized(nc, spec(tid, chatbot=999), 1, msg_id=f"replay:{tid}:1")
    await publish_sized(nc, spec(tid, chatbot=20, callbot=100), 2, msg_id=f"replay:{tid}:2")
    await publish_sized(nc, spec(tid, chatbot=20, callbot=100, stt=10), 3)
    announced = [(await next_rendered(queue))[1]["revision"] for _ in range(2)]
    assert announced == [2, 3]  # revision 2 announced again (deduplicated); 1 never after 2

    assert (await rpc(nc, "get", {"tenant_id": tid, "revision": 1})) == revision_one
    assert (await rpc(nc, "get", {"tenant_id": tid, "revision": 2})) == latest
    assert (await rpc(nc, "get", {"tenant_id": tid}))["revision"] == 3
    db = await asyncpg.connect(database_urls["demo"])
    rows = await db.fetch(
        "SELECT revision FROM manifest.manifests WHERE tenant_id=$1 ORDER BY revision", tid
    )
    await db.close()
    assert [row["revision"] for row in rows] == [1, 2, 3]
    listed = await rpc(nc, "revisions", {"tenant_id": tid})
    assert [entry["revision"] for entry in listed["revisions"]] == [3, 2, 1]
    assert listed["revisions"][0]["object_counts"]["Deployment"] >= 1


async def test_a_deleted_tenant_has_no_manifest_and_a_late_sizing_does_not_revive_it(
    manifest_service: None, nc: Client
) -> None:
    tid = f"m-{uuid.uuid4().hex[:8]}"
    queue = await rendered_queue(nc, tid)
    await publish_sized(nc, spec(tid, chatbot=20), 1)
    await next_rendered(queue)
    deleted = TenantDeleted(tenant_id=tid, revision=3)
    await publish(nc, tid, "tenant.deleted", deleted, f"tenant.deleted:{tid}:3")
    await publish_sized(nc, spec(tid, chatbot=40), 2)  # sized before the delete, arriving late
    await publish_sized(nc, spec(tid, chatbot=60), 4)  # the tenant created again
    _, event = await next_rendered(queue)
    assert event["revision"] == 4
    listed = await rpc(nc, "revisions", {"tenant_id": tid})
    assert [entry["revision"] for entry in listed["revisions"]] == [4]
    missing = await rpc(nc, "get", {"tenant_id": tid, "revision": 1})
    assert missing["code"] == "REVISION_NOT_FOUND"

    await publish(nc, tid, "tenant.deleted", TenantDeleted(tenant_id=tid, revision=5), "d5" + tid)
    for _ in range(50):
        answer = await rpc(nc, "get", {"tenant_id": tid})
        if not answer["ok"]:
            break
        await asyncio.sleep(0.1)
    assert answer == {
        "ok": False,
        "code": "TENANT_NOT_FOUND",
        "detail": f"no manifest of tenant {tid!r} in this mode",
    }


async def test_rpc_validate_answers_a_broken_text_with_its_line(
    manifest_service: None, nc: Client
) -> None:
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [unclosed\n"
    answer = await rpc(nc, "validate", {"tenant_id": "nobody", "manifest_content": text})
    assert answer["ok"] and answer["valid"] is False
    assert answer["errors"][0]["line"] is not None
    assert "YAML syntax error" in answer["errors"][0]["message"]


async def test_rpc_diff_of_two_revisions_names_the_changed_objects(
    manifest_service: None, nc: Client
) -> None:
    tid = f"m-{uuid.uuid4().hex[:8]}"
    queue = await rendered_queue(nc, tid)
    await publish_sized(nc, spec(tid, chatbot=20), 1)
    await publish_sized(nc, spec(tid, chatbot=20, callbot=200), 2)
    for _ in range(2):
        await next_rendered(queue)
    answer = await rpc(nc, "diff", {"tenant_id": tid})
    assert (answer["from_revision"], answer["to_revision"]) == (1, 2)
    assert f"Deployment/ecp-ai-{tid}/callbot" in answer["summary"]["added_objects"]
    unknown = await rpc(nc, "diff", {"tenant_id": tid, "from_revision": 7})
    assert unknown["code"] == "REVISION_NOT_FOUND"


async def test_only_sized_and_deleted_are_delivered_and_an_old_sizing_gets_the_id_as_name(
    manifest_service: None, nc: Client
) -> None:
    """`tenant.accepted` never reaches the service; a `tenant.sized` from a calculator older than
    its name field, of a tenant whose name no older version stored, is rendered all the same."""
    tid = f"m-{uuid.uuid4().hex[:8]}"
    queue = await rendered_queue(nc, tid)
    js = nc.jetstream()
    stream, durable = subjects.stream_name(MODE, "evt"), f"manifest-{MODE}-tenant"
    before = (await js.consumer_info(stream, durable)).delivered.consumer_seq
    await publish_sized(nc, spec(tid, chatbot=20), 1, with_name=False)
    _, event = await next_rendered(queue)
    config = next(obj for obj in event["objects"] if obj["kind"] == "ConfigMap")
    assert config["data"]["TENANT_NAME"] == tid
    assert event["auto_deploy"] is None  # the mode's default
    info = await js.consumer_info(stream, durable)
    assert info.delivered.consumer_seq - before == 1  # the sizing alone
