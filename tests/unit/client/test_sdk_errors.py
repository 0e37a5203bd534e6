"""Error answers and transport failures become one `ECPError` with the problem's code."""

from __future__ import annotations

import json

import httpx
import pytest

from ecp_client import AsyncECPClient, ECPClient, ECPConnectionError, ECPError
from ecp_client.errors import problem_of

pytestmark = pytest.mark.unit


def problem(status: int, code: str, detail: str) -> httpx.Response:
    body = {"type": "x", "title": code, "status": status, "detail": detail, "code": code}
    return httpx.Response(
        status,
        json=body,
        headers={"content-type": "application/problem+json", "x-request-id": "r1"},
    )


def test_a_problem_body_gives_status_code_detail_and_request_id() -> None:
    error = problem_of(404, json.dumps({"code": "TENANT_NOT_FOUND", "detail": "no"}), "r1")
    assert (error.status, error.code, error.detail, error.request_id) == (
        404,
        "TENANT_NOT_FOUND",
        "no",
        "r1",
    )


def test_an_answer_that_is_not_a_problem_still_has_a_code() -> None:
    error = problem_of(502, "<html>bad gateway</html>")
    assert error.code == "HTTP_502" and "bad gateway" in error.detail


def test_the_sync_client_raises_the_servers_code() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return problem(404, "TENANT_NOT_FOUND", "tenant 'x' does not exist")

    client = ECPClient("http://h:1/api/v1", is_demo=True, transport=httpx.MockTransport(answer))
    with pytest.raises(ECPError) as caught:
        client.get_tenant("x")
    assert caught.value.code == "TENANT_NOT_FOUND" and caught.value.status == 404
    assert caught.value.request_id == "r1"
    assert seen[0].headers["X-Demo-Mode"] == "true" and "authorization" not in seen[0].headers
    assert str(seen[0].url) == "http://h:1/api/v1/tenants/x"


async def test_the_async_client_raises_the_servers_code() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer k"
        return problem(409, "TENANT_EXISTS", "exists")

    client = AsyncECPClient(
        "http://h:1", is_demo=False, api_key="k", transport=httpx.MockTransport(answer)
    )
    with pytest.raises(ECPError) as caught:
        await client.create_tenant({"tenant_id": "x"})
    assert caught.value.code == "TENANT_EXISTS"
    await client.close()


def test_a_server_that_does_not_answer_is_a_connection_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = ECPClient("http://h:1", transport=httpx.MockTransport(refuse))
    with pytest.raises(ECPConnectionError) as caught:
        client.list_tenants()
    assert caught.value.status == 0 and caught.value.code == "CONNECTION_FAILED"


def test_a_manifest_still_rendering_is_waited_for() -> None:
    answers = [problem(404, "MANIFEST_NOT_READY", "later"), httpx.Response(200, text="kind: X\n")]

    client = ECPClient("http://h:1", transport=httpx.MockTransport(lambda _: answers.pop(0)))
    assert client.get_manifest("t") == "kind: X\n"


def test_a_missing_tenants_manifest_is_not_waited_for() -> None:
    answers = [problem(404, "TENANT_NOT_FOUND", "no")]
    client = ECPClient("http://h:1", transport=httpx.MockTransport(lambda _: answers.pop(0)))
    with pytest.raises(ECPError, match="TENANT_NOT_FOUND"):
        client.get_manifest("t")


def test_test_metrics_are_refused_in_prod_before_anything_is_sent() -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    client = ECPClient(
        "http://h:1", is_demo=False, api_key="k", transport=httpx.MockTransport(never)
    )
    with pytest.raises(ValueError, match="demo"):
        client.send_test_metrics("t")


def test_both_clients_offer_the_same_methods() -> None:
    def public(cls: type) -> set[str]:
        return {n for n in vars(cls) if not n.startswith("_")} - {"close"}

    assert public(ECPClient) == public(AsyncECPClient)


def test_a_busy_service_is_asked_again_only_for_calls_without_side_effects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("ecp_client.sync_client.time.sleep", lambda _: None)
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        if len(sent) % 2:
            return problem(504, "UPSTREAM_TIMEOUT", "slow")
        return httpx.Response(200, json={"valid": True})

    client = ECPClient("http://h:1", transport=httpx.MockTransport(answer))
    assert client.validate_manifest("kind: X", tenant_id="t") == {"valid": True}
    assert sent == ["POST", "POST"]
    sent.clear()
    with pytest.raises(ECPError, match="UPSTREAM_TIMEOUT"):
        client.create_tenant({"tenant_id": "t"})  # a create is never sent twice
    assert sent == ["POST"]
