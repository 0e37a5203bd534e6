"""`ECPClient` and `AsyncECPClient` against the running system: every route, and the error codes."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any
from uuid import uuid4

import pytest

from ecp_client import AsyncECPClient, ECPClient, ECPError
from tests.support.system import RunningSystem


def tid() -> str:
    return f"t-{uuid4().hex[:8]}"


def spec(tenant_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "name": "SDK 테스트",
        "service_requirements": {"chatbot": 20, "callbot": 5},
        "sla_target": {"availability": "99.9%", "response_time": "200ms"},
        **extra,
    }


def eventually(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


@pytest.fixture(scope="module")
def demo(system: RunningSystem) -> ECPClient:
    return ECPClient(base_url=f"{system.base_url}/api/v1", is_demo=True)


@pytest.fixture(scope="module")
def prod(system: RunningSystem) -> ECPClient:
    return ECPClient(base_url=system.base_url, is_demo=False, api_key=system.admin_key)


def test_an_unknown_tenant_is_tenant_not_found(demo: ECPClient) -> None:
    with pytest.raises(ECPError) as caught:
        demo.get_tenant(tid())
    assert (caught.value.status, caught.value.code) == (404, "TENANT_NOT_FOUND")
    assert caught.value.request_id


def test_creating_an_existing_tenant_is_tenant_exists(demo: ECPClient) -> None:
    tenant_id = tid()
    demo.create_tenant(spec(tenant_id, auto_deploy=False))
    with pytest.raises(ECPError) as caught:
        demo.create_tenant(spec(tenant_id))
    assert (caught.value.status, caught.value.code) == (409, "TENANT_EXISTS")


def test_bad_input_is_validation_failed(demo: ECPClient) -> None:
    with pytest.raises(ECPError) as caught:
        demo.create_tenant(spec("Not_A_DNS_Label"))
    assert (caught.value.status, caught.value.code) == (422, "VALIDATION_FAILED")
    assert "tenant_id" in caught.value.detail and caught.value.problem["errors"]


def test_prod_without_a_key_is_refused_by_the_server(system: RunningSystem) -> None:
    anonymous = ECPClient(base_url=system.base_url, is_demo=False)
    with pytest.raises(ECPError) as caught:
        anonymous.list_tenants()
    assert (caught.value.status, caught.value.code) == (401, "UNAUTHORIZED")


def test_a_demo_tenant_through_its_whole_life(demo: ECPClient) -> None:
    tenant_id = tid()
    created = demo.create_tenant(spec(tenant_id, auto_deploy=False))
    assert created["tenant_id"] == tenant_id
    assert any(t["tenant_id"] == tenant_id for t in demo.list_tenants(limit=500)["tenants"])
    sizing = demo.calculate_resources(spec(tenant_id))
    assert sizing["preset"] and sizing["quota"]["cpu_limit"]

    manifest = demo.get_manifest(tenant_id)
    assert f"ecp-ai-{tenant_id}" in manifest and "kind: Namespace" in manifest
    as_json = demo.get_manifest(tenant_id, format="json")
    assert as_json["kind"] == "List" and as_json["items"]
    report = demo.validate_manifest(manifest)
    assert report["valid"] is True and report["errors"] == []
    assert {"total_cpu", "total_memory", "total_gpu", "estimated_cost"} <= set(
        report["resource_summary"]
    )

    changed = demo.update_tenant(tenant_id, {"service_requirements": {"chatbot": 40}})
    assert changed["revision"] == 2
    revisions = eventually(lambda: len(demo.manifest_revisions(tenant_id)["revisions"]) >= 2)
    assert revisions
    diff = demo.manifest_diff(tenant_id)
    assert diff

    seen: list[str] = []

    def listen() -> None:
        for event in demo.events(tenant_id, idle_timeout=30):
            seen.append(event["event"])
            if event["event"] == "deployment.succeeded":
                return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(0.5)  # the stream is open before the deployment starts
    accepted = demo.deploy(tenant_id)
    assert accepted["deployment_id"].startswith("dep-")
    listener.join(60)
    assert "deployment.started" in seen and seen[-1] == "deployment.succeeded", seen
    done = eventually(lambda: demo.get_deployment(tenant_id)["state"] == "succeeded")
    assert done, demo.get_deployment(tenant_id)
    assert any(tenant_id in node["tenants"] for node in demo.cluster()["nodes"])

    deleted = demo.delete_tenant(tenant_id)
    assert deleted["status"] in ("deleted", "deleting")


def test_metrics_are_pushed_queried_and_streamed_live(demo: ECPClient) -> None:
    tenant_id = tid()
    demo.create_tenant(spec(tenant_id, auto_deploy=False))
    pushed = demo.send_test_metrics(tenant_id)
    assert pushed["accepted"] == 5
    batch = demo.push_batch([{"name": "queue_depth", "value": 3.0}], tenant_id=tenant_id)
    assert batch["accepted"] == 1 and batch["tenants"][0]["tenant_id"] == tenant_id

    def stored() -> bool:
        answer = demo.query_metrics(tenant_id, metric_type="cpu", hours=1, source="push")
        return "cpu_usage" in str(answer)

    assert eventually(stored), demo.query_metrics(tenant_id)

    stop = threading.Event()

    def keep_pushing() -> None:
        while not stop.wait(0.3):
            demo.push_metrics(tenant_id, {"cpu_usage": 42.0, "memory_usage": 50.0})

    pusher = threading.Thread(target=keep_pushing, daemon=True)
    pusher.start()
    try:
        messages = list(demo.live_metrics(tenant_id, ["cpu"], limit=2, idle_timeout=15))
    finally:
        stop.set()
        pusher.join()
    assert len(messages) == 2 and messages[-1]["cpu"] == 42.0


def test_the_same_tenant_gets_the_same_test_metrics(demo: ECPClient) -> None:
    tenant_id = tid()
    demo.create_tenant(spec(tenant_id, auto_deploy=False))
    ids = [demo.send_test_metrics(tenant_id)["batch_id"] for _ in range(2)]
    assert ids[0] != ids[1]  # two pushes; the values come from the tenant, checked in unit tests


def test_alert_rules_silences_history_and_notifications(demo: ECPClient) -> None:
    tenant_id = tid()
    demo.create_tenant(spec(tenant_id, auto_deploy=False))
    rule = {
        "alert_name": "high_cpu_usage",
        "condition": "cpu_usage > 80",
        "duration": "5m",
        "actions": [{"type": "email", "recipients": ["admin@company.com"]}],
    }
    created = demo.create_alert(tenant_id, rule)
    assert created["alert_name"] == "high_cpu_usage"
    names = [r["alert_name"] for r in demo.list_alerts(tenant_id)["rules"]]
    assert "high_cpu_usage" in names
    assert demo.get_alert(tenant_id, "high_cpu_usage")["condition"] == "cpu_usage > 80"
    changed = demo.change_alert(tenant_id, "high_cpu_usage", {"duration": "1m"})
    assert changed["duration"] == "1m"
    assert "high_cpu_usage" in demo.export_alerts(tenant_id)
    assert demo.alert_history(tenant_id)["history"] == []
    assert demo.notifications(tenant_id)["notifications"] == []
    silence = demo.create_silence(
        tenant_id,
        {"matchers": [{"name": "alert_name", "value": "high_cpu_usage"}], "duration": "1h"},
    )
    silence_id = silence["silence_id"]
    listed = demo.list_silences(tenant_id)["silences"]
    assert [s["silence_id"] for s in listed] == [silence_id]
    demo.expire_silence(tenant_id, silence_id)
    with pytest.raises(ECPError) as caught:
        demo.create_alert(tenant_id, {**rule, "condition": "cpu_usage >>> 80"})
    assert caught.value.status == 422
    demo.delete_alert(tenant_id, "high_cpu_usage")


def test_keys_and_dead_letters_for_an_admin(prod: ECPClient, system: RunningSystem) -> None:
    key = prod.create_key(f"sdk-{uuid4().hex[:6]}", role="operator", mode="demo")
    assert key["api_key"].startswith("ecp_") and key["role"] == "operator"
    assert any(k["key_id"] == key["key_id"] for k in prod.list_keys())
    limited = ECPClient(system.base_url, is_demo=False, api_key=key["api_key"])
    with pytest.raises(ECPError) as caught:
        limited.list_tenants()
    assert caught.value.code == "FORBIDDEN"
    assert prod.revoke_key(key["key_id"])["revoked_at"]
    with pytest.raises(ECPError) as revoked:
        limited.list_tenants()
    assert revoked.value.code == "UNAUTHORIZED"
    assert isinstance(prod.list_dead_letters(), list)
    with pytest.raises(ECPError) as missing:
        prod.replay_dead_letter(10**9)
    assert missing.value.code == "DEAD_LETTER_NOT_FOUND"
    assert prod.health() == {"status": "ok"} and prod.readiness()["ready"] is True


async def test_the_async_client_does_the_same(system: RunningSystem) -> None:
    async with AsyncECPClient(base_url=system.base_url, is_demo=True) as client:
        tenant_id = tid()
        await client.create_tenant(spec(tenant_id, auto_deploy=False))
        assert (await client.get_tenant(tenant_id))["tenant_id"] == tenant_id
        manifest = await client.get_manifest(tenant_id)
        assert (await client.validate_manifest(manifest))["valid"] is True
        with pytest.raises(ECPError) as caught:
            await client.create_tenant(spec(tenant_id))
        assert caught.value.code == "TENANT_EXISTS"

        stream = client.live_metrics(tenant_id, limit=1, idle_timeout=15)
        first = stream.__anext__()
        receiver = asyncio.ensure_future(first)
        await asyncio.sleep(0.5)  # connected and subscribed
        while not receiver.done():
            await client.send_test_metrics(tenant_id)
            await asyncio.wait({receiver}, timeout=0.5)
        message = receiver.result()
        assert message["tenant_id"] == tenant_id and message["cpu"] is not None
        await stream.aclose()
