"""Sizing through the API: calculate-resources answers without storing; a requirement the
catalogue cannot meet is refused with its reason."""

from __future__ import annotations

from tests.support.clients import client, headers, tenant_body, tenant_id
from tests.support.system import RunningSystem

SCENARIO_1 = {"callbot": 100, "chatbot": 200, "advisor": 50, "stt": 100, "tts": 100}


async def test_calculate_resources_sizes_the_seed_scenario_without_creating_it(
    system: RunningSystem,
) -> None:
    tid = tenant_id("calc")
    body = {
        **tenant_body(tid, **SCENARIO_1),
        "sla_target": {"availability": "99.95%", "response_time": "150ms", "concurrent_users": 500},
    }
    async with client(system.base_url) as http:
        reply = await http.post(
            "/api/v1/tenants/calculate-resources",
            json=body,
            headers=headers(False, system.admin_key),
        )
        assert reply.status_code == 200, reply.text
        sizing = reply.json()
        assert sizing["preset"] == "medium" and sizing["gpu_type"] == "T4"
        assert {g["role"]: g["gpus"] for g in sizing["gpus"]} == {"tts": 4, "nlp": 1, "aicm": 1}
        assert sizing["quota"]["cpu_limit"].endswith("m") and sizing["cost"]["total_monthly"] > 0
        assert any(step["figure"] == "gpus.tts" for step in sizing["explain"])
        assert (
            await http.get(f"/api/v1/tenants/{tid}", headers=headers(False, system.admin_key))
        ).status_code == 404


async def test_an_unknown_gpu_type_is_refused_with_the_reason(system: RunningSystem) -> None:
    tid = tenant_id("gpu")
    async with client(system.base_url) as http:
        estimate = await http.post(
            "/api/v1/tenants/calculate-resources",
            json={**tenant_body(tid, tts=10), "gpu_type": "H100"},
            headers=headers(True),
        )
        assert estimate.status_code == 422 and estimate.json()["code"] == "UNKNOWN_GPU_TYPE"
        created = await http.post(
            "/api/v1/tenants/",
            json={**tenant_body(tid, tts=10), "gpu_type": "H100"},
            headers=headers(True),
        )
        assert created.status_code == 422 and created.json()["code"] == "UNKNOWN_GPU_TYPE"
        assert "H100" in created.json()["detail"]
        # Nothing half-written: the id is free and a good request creates the tenant.
        assert (await http.get(f"/api/v1/tenants/{tid}", headers=headers(True))).status_code == 404
        good = await http.post(
            "/api/v1/tenants/", json=tenant_body(tid, tts=10), headers=headers(True)
        )
        assert good.status_code == 201, good.text


async def test_a_requested_preset_below_the_load_is_raised_with_a_warning(
    system: RunningSystem,
) -> None:
    tid = tenant_id("preset")
    async with client(system.base_url) as http:
        reply = await http.post(
            "/api/v1/tenants/",
            json={**tenant_body(tid, **SCENARIO_1), "preset": "small"},
            headers=headers(True),
        )
    assert reply.status_code == 201
    tenant = reply.json()
    assert tenant["preset"] == "medium"
    assert tenant["resources"]["preset_requested"] == "small"
    assert any("small" in warning for warning in tenant["resources"]["warnings"])
