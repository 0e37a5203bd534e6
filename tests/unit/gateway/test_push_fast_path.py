"""The push fast path answers in front of FastAPI's own layers and router: its errors, unexpected
ones too, must still come as the app's problem documents, with the request's id, and its
requests be counted under their routes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import REGISTRY

from services.gateway import pushes
from services.gateway.app import create_app
from shared.settings import Settings

PUSH = "/api/v1/tenants/t-1/monitoring"
HEADERS = {"X-Demo-Mode": "true", "Content-Type": "application/json", "X-Request-ID": "req-7"}
NOWHERE = "postgresql+asyncpg://nobody@127.0.0.1:9/none"  # never reached by these requests


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(auth_enabled=False, database_url=NOWHERE, demo_database_url=NOWHERE))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


async def test_a_body_that_is_not_json_is_a_400_problem_with_the_request_id(
    client: httpx.AsyncClient,
) -> None:
    reply = await client.post(PUSH, content=b"{not json", headers=HEADERS)
    assert reply.status_code == 400
    assert reply.json()["code"] == "INVALID_JSON"
    assert reply.headers["x-request-id"] == "req-7"


async def test_an_unexpected_error_is_the_apps_500_problem(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setattr(pushes, "parsed", broken)
    reply = await client.post(PUSH, content=b'{"metrics": {}}', headers=HEADERS)
    assert reply.status_code == 500
    assert reply.json()["code"] == "INTERNAL_ERROR"
    assert "a bug" not in reply.text
    assert reply.headers["x-request-id"] == "req-7"


def answered(route: str, status: str) -> float:
    labels = {"method": "POST", "route": route, "status": status}
    return REGISTRY.get_sample_value("ecp_http_requests_total", labels) or 0.0


@pytest.mark.parametrize(
    ("path", "route"),
    [
        (PUSH, "/api/v1/tenants/{tenant_id}/monitoring"),
        ("/api/v1/monitoring/batch", "/api/v1/monitoring/batch"),
    ],
)
async def test_pushes_are_counted_under_their_routes(
    client: httpx.AsyncClient, path: str, route: str
) -> None:
    before = answered(route, "400")
    await client.post(path, content=b"{not json", headers=HEADERS)
    assert answered(route, "400") == before + 1
