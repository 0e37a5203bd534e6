"""The push fast path answers in front of FastAPI's own layers: its errors, unexpected ones too,
must still come as the app's problem documents, with the request's id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

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
