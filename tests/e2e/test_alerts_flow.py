"""Alerts through the whole system: the seed's rule over HTTP, metrics pushed over HTTP,
`alert.firing` on /ws/events and the webhook received by a real HTTP server."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest
import websockets

from services.alerts.payloads import verify
from tests.integration.alerts.receivers import WebhookReceiver
from tests.support.system import RunningSystem

pytestmark = pytest.mark.e2e
DEMO = {"X-Demo-Mode": "true"}


async def test_seed_rule_fires_on_pushed_metrics_with_event_and_webhook(
    system: RunningSystem,
) -> None:
    base = system.base_url
    tenant = f"t-{uuid4().hex[:8]}"
    receiver = await WebhookReceiver().start()
    try:
        async with httpx.AsyncClient(base_url=base, headers=DEMO, timeout=15) as client:
            created = await client.post(
                "/api/v1/tenants/",
                json={
                    "tenant_id": tenant,
                    "name": "Alerts demo",
                    "service_requirements": {"callbot": 10},
                },
            )
            assert created.status_code in (201, 202), created.text
            missing = await client.post(f"/api/v1/tenants/nope-{tenant}/alerts", json={})
            assert missing.status_code == 404
            bad = await client.post(
                f"/api/v1/tenants/{tenant}/alerts",
                json={"alert_name": "x", "condition": "cpu_usage >> 80"},
            )
            assert bad.status_code == 422 and bad.json()["code"] == "INVALID_CONDITION"
            assert bad.json()["column"] == 12
            rule = {
                "alert_name": "high_cpu_usage",
                "condition": "cpu_usage > 80",
                "duration": "2s",
                "actions": [
                    {"type": "webhook", "url": receiver.url, "method": "POST", "secret": "hush"},
                    {"type": "email", "recipients": ["admin@company.com"]},
                ],
            }
            reply = await client.post(f"/api/v1/tenants/{tenant}/alerts", json=rule)
            assert reply.status_code == 201, reply.text
            assert reply.json()["actions"][0]["secret"] == "***"

            ws_url = base.replace("http", "ws") + f"/ws/events?demo=true&tenant_id={tenant}"
            async with websockets.connect(ws_url) as ws:
                for _ in range(6):
                    body = {
                        "timestamp": datetime.now(UTC).isoformat(),
                        "metrics": {"cpu_usage": 93.0},
                    }
                    pushed = await client.post(f"/api/v1/tenants/{tenant}/monitoring", json=body)
                    assert pushed.status_code < 300, pushed.text
                    await asyncio.sleep(0.7)
                firing = None
                while firing is None:
                    event = json.loads(await asyncio.wait_for(ws.recv(), 15))
                    if event["event"] == "alert.firing":
                        firing = event
            assert firing["data"]["alert_name"] == "high_cpu_usage"
            delivered = await receiver.wait_for(1, timeout=15)
            # The demo generator's own samples for this running tenant (below 80) may already
            # have resolved the alert: the firing one must still have been sent exactly once.
            statuses = [json.loads(r.body)["status"] for r in delivered]
            assert statuses in (["firing"], ["firing", "resolved"]), statuses
            assert verify(delivered[0].body, "hush", delivered[0].headers["x-ecp-signature"])

            history = (await client.get(f"/api/v1/tenants/{tenant}/alerts/history")).json()
            assert sorted(h["status"] for h in history["history"]) in (
                ["firing"],
                ["firing", "resolved"],
            )
            log = (await client.get(f"/api/v1/tenants/{tenant}/alerts/notifications")).json()
            states = sorted(n["state"] for n in log["notifications"])
            assert "delivered" in states and "hush" not in json.dumps(log)
            exported = await client.get(f"/api/v1/tenants/{tenant}/alerts/export?format=kubernetes")
            assert exported.status_code == 200 and "PrometheusRule" in exported.text
    finally:
        await receiver.stop()
