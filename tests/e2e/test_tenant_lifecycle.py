"""A tenant's life over HTTP and WebSocket, against the whole system."""

from __future__ import annotations

import asyncpg
import pytest
import websockets

from tests.support.clients import client, headers, next_event, tenant_body, tenant_id, ws_url
from tests.support.system import RunningSystem

SEED_LIST_FIELDS = {
    "tenant_id",
    "name",
    "preset",
    "status",
    "services_count",
    "cpu_limit",
    "memory_limit",
    "gpu_limit",
    "created_at",
}


async def test_demo_tenant_is_announced_listed_and_kept_out_of_prod(
    system: RunningSystem, database_urls: dict[str, str]
) -> None:
    tid = tenant_id("demo")
    url = ws_url(system.base_url, "/ws/events", demo="true", tenant_id=tid)
    async with websockets.connect(url) as ws, client(system.base_url) as http:
        created = await http.post(
            "/api/v1/tenants/",
            json=tenant_body(tid, callbot=50, chatbot=100, advisor=25),
            headers=headers(demo=True),
        )
        assert created.status_code == 201, created.text
        accepted = await next_event(ws, "tenant.accepted")
        assert accepted["tenant_id"] == tid and accepted["mode"] == "demo"

        listed = (await http.get("/api/v1/tenants/", headers=headers(demo=True))).json()
        entry = next(t for t in listed["tenants"] if t["tenant_id"] == tid)
        assert entry.keys() >= SEED_LIST_FIELDS
        assert (
            entry["preset"] == "small"
            and entry["services_count"] == 3
            and entry["status"] == "pending"
        )
        assert listed["demo_count"] == listed["total_count"] >= 1

        prod = (
            await http.get("/api/v1/tenants/", headers=headers(demo=False, key=system.admin_key))
        ).json()
        assert tid not in {t["tenant_id"] for t in prod["tenants"]}
        assert prod["demo_count"] == 0

    prod_db = await asyncpg.connect(database_urls["prod"])
    demo_db = await asyncpg.connect(database_urls["demo"])
    try:
        for schema, table in (("gateway", "tenants"), ("calculator", "tenant_revisions")):
            query = f"SELECT count(*) FROM {schema}.{table} WHERE tenant_id = $1"
            assert await prod_db.fetchval(query, tid) == 0
            assert await demo_db.fetchval(query, tid) == 1
    finally:
        await prod_db.close()
        await demo_db.close()


async def test_an_existing_id_gives_409_and_changes_nothing(system: RunningSystem) -> None:
    tid = tenant_id()
    async with client(system.base_url) as http:
        first = await http.post(
            "/api/v1/tenants/", json=tenant_body(tid, chatbot=10), headers=headers(True)
        )
        assert first.status_code == 201
        again = await http.post(
            "/api/v1/tenants/",
            json={**tenant_body(tid, chatbot=999), "name": "other"},
            headers=headers(True),
        )
        assert again.status_code == 409
        assert again.headers["content-type"].startswith("application/problem+json")
        assert again.json()["code"] == "TENANT_EXISTS"
        kept = (await http.get(f"/api/v1/tenants/{tid}", headers=headers(True))).json()
        assert kept["name"] == f"Tenant {tid}" and kept["service_requirements"]["chatbot"] == 10
        assert kept["revision"] == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"tenant_id": "Bad_ID", "name": "x", "service_requirements": {}},
            422,
            "VALIDATION_FAILED",
        ),
        ({"tenant_id": "-lead", "name": "x", "service_requirements": {}}, 422, "VALIDATION_FAILED"),
        (
            {"tenant_id": "a" * 64, "name": "x", "service_requirements": {}},
            422,
            "VALIDATION_FAILED",
        ),
        (
            {"tenant_id": "ok-id", "name": "x", "service_requirements": {"callbot": -1}},
            422,
            "VALIDATION_FAILED",
        ),
        (
            {"tenant_id": "ok-id", "name": "x", "service_requirements": {"callbot": 10**9}},
            422,
            "VALIDATION_FAILED",
        ),
        (
            {"tenant_id": "ok-id", "name": "x", "service_requirements": {"robots": 1}},
            422,
            "VALIDATION_FAILED",
        ),
        ({"tenant_id": "ok-id", "name": "x"}, 422, "VALIDATION_FAILED"),
    ],
)
async def test_bad_input_gets_a_problem_response(
    system: RunningSystem, body: dict, status: int, code: str
) -> None:
    async with client(system.base_url) as http:
        reply = await http.post("/api/v1/tenants/", json=body, headers=headers(True))
    assert reply.status_code == status
    assert reply.json()["code"] == code
    assert reply.headers["content-type"].startswith("application/problem+json")


async def test_bad_json_and_unknown_mode_are_refused(system: RunningSystem) -> None:
    async with client(system.base_url) as http:
        bad_json = await http.post(
            "/api/v1/tenants/",
            content=b"{not json",
            headers={**headers(True), "Content-Type": "application/json"},
        )
        assert bad_json.status_code == 400 and bad_json.json()["code"] == "INVALID_JSON"
        bad_mode = await http.get("/api/v1/tenants/", headers={"X-Demo-Mode": "yes"})
        assert bad_mode.status_code == 400 and bad_mode.json()["code"] == "INVALID_MODE"
        missing = await http.get("/api/v1/tenants/no-such-tenant", headers=headers(True))
        assert missing.status_code == 404 and missing.json()["code"] == "TENANT_NOT_FOUND"


async def test_prod_needs_a_key_and_the_right_role(system: RunningSystem) -> None:
    async with client(system.base_url) as http:
        anonymous = await http.get("/api/v1/tenants/", headers=headers(False))
        assert anonymous.status_code == 401 and anonymous.json()["code"] == "UNAUTHORIZED"
        wrong = await http.get("/api/v1/tenants/", headers=headers(False, key="ecp_nope_nope"))
        assert wrong.status_code == 401
        made = await http.post(
            "/api/v1/keys/",
            json={"name": "reader", "role": "viewer"},
            headers=headers(False, key=system.admin_key),
        )
        assert made.status_code == 201
        viewer = made.json()["api_key"]
        assert (
            await http.get("/api/v1/tenants/", headers=headers(False, key=viewer))
        ).status_code == 200
        write = await http.post(
            "/api/v1/tenants/", json=tenant_body(tenant_id()), headers=headers(False, key=viewer)
        )
        assert write.status_code == 403 and write.json()["code"] == "FORBIDDEN"
        listing = await http.get("/api/v1/keys/", headers=headers(False, key=system.admin_key))
        assert all("key_hash" not in k and "api_key" not in k for k in listing.json())


async def test_update_makes_a_new_revision_and_delete_frees_the_id(system: RunningSystem) -> None:
    tid = tenant_id()
    async with client(system.base_url) as http:
        assert (
            await http.post(
                "/api/v1/tenants/", json=tenant_body(tid, chatbot=10), headers=headers(True)
            )
        ).status_code == 201
        patched = await http.patch(
            f"/api/v1/tenants/{tid}",
            json={"service_requirements": {"chatbot": 600}},
            headers=headers(True),
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["revision"] == 2 and patched.json()["preset"] == "medium"
        deleted = await http.delete(f"/api/v1/tenants/{tid}", headers=headers(True))
        assert deleted.status_code in (200, 202)
        assert (await http.get(f"/api/v1/tenants/{tid}", headers=headers(True))).status_code == 404
        again = await http.post(
            "/api/v1/tenants/", json=tenant_body(tid, chatbot=5), headers=headers(True)
        )
        assert again.status_code == 201 and again.json()["revision"] == 4


async def test_request_id_and_debug_headers_are_honoured(system: RunningSystem) -> None:
    async with client(system.base_url) as http:
        reply = await http.get(
            "/api/v1/tenants/",
            headers={**headers(True), "X-Request-ID": "abc-123", "X-Debug": "true"},
        )
    assert reply.headers["X-Request-ID"] == "abc-123"
    assert "abc-123" in reply.headers["X-Debug-Info"]


async def test_health_readiness_and_metrics(system: RunningSystem) -> None:
    async with client(system.base_url) as http:
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["database_demo"] == "ok"
        assert ready.json()["checks"]["service_calculator"] == "ok"
        metrics = await http.get("/metrics")
        assert "ecp_http_requests_total" in metrics.text
        assert (await http.get("/docs")).status_code == 200


async def test_the_asyncapi_document_lists_every_subject(system: RunningSystem) -> None:
    async with client(system.base_url) as http:
        document = (await http.get("/docs/asyncapi.json")).json()
        page = await http.get("/docs/asyncapi")
    channels = " ".join(document["channels"])
    for subject in (
        "tenant.create",
        "tenant.sized",
        "manifest.rendered",
        "deployment.succeeded",
        "alert.firing",
        "metrics",
        "calculator.estimate",
    ):
        assert subject in channels
    assert page.status_code == 200 and "asyncapi" in page.text.lower()
