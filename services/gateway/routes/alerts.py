"""`/api/v1/tenants/{id}/alerts`: alert rules, silences, history, notification log, export.

Every route asks the alerts service over request/reply (`ecp.<mode>.rpc.alerts.<query>`): the
service checks the rule (condition, durations, webhook URL) and stores it in one transaction,
so the answer is synchronous and a bad condition is a 422 pointing at its column."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from services.gateway.deps import GatewayDep, ModeDep, Operator, Viewer, require_live_tenant
from services.gateway.errors import Problem
from services.gateway.rpc import ask
from shared.modes import Mode

router = APIRouter(prefix="/api/v1/tenants", tags=["alerts"])

SEED_EXAMPLE = {
    "alert_name": "high_cpu_usage",
    "condition": "cpu_usage > 80",
    "duration": "5m",
    "actions": [
        {"type": "webhook", "url": "https://your-webhook.com/alerts", "method": "POST"},
        {"type": "email", "recipients": ["admin@company.com"]},
    ],
}
RuleJson = Annotated[dict[str, Any], Body(openapi_examples={"seed": {"value": SEED_EXAMPLE}})]


class AlertsRequest(BaseModel):
    """The rpc body of every alerts query."""

    tenant_id: str
    op: str | None = None
    key: str | None = None
    body: Any = None
    format: str | None = None
    rule: str | None = None
    limit: int = 100


async def call(
    gateway: GatewayDep, mode: Mode, query: str, request: AlertsRequest
) -> tuple[int, Any]:
    await require_live_tenant(gateway, mode, request.tenant_id)
    reply = await ask(gateway, mode, "alerts", query, request)
    if not reply.get("ok"):
        extra = {k: v for k, v in reply.items() if k not in ("ok", "status", "code", "detail")}
        raise Problem(
            int(reply.get("status", 500)),
            str(reply.get("code", "INTERNAL_ERROR")),
            str(reply.get("detail", "")),
            **extra,
        )
    return int(reply.get("status", 200)), reply.get("data")


def answer(status: int, data: Any) -> JSONResponse:
    return JSONResponse(data, status_code=status)


@router.post("/{tenant_id}/alerts", status_code=201)
async def create_rule(
    tenant_id: str, body: RuleJson, gateway: GatewayDep, mode: ModeDep, _: Operator
) -> JSONResponse:
    """Register a rule: `{alert_name, condition, duration, actions[]}` as in the seed guide."""
    request = AlertsRequest(tenant_id=tenant_id, op="create", body=body)
    return answer(*await call(gateway, mode, "rules", request))


@router.get("/{tenant_id}/alerts")
async def list_rules(tenant_id: str, gateway: GatewayDep, mode: ModeDep, _: Viewer) -> JSONResponse:
    request = AlertsRequest(tenant_id=tenant_id, op="list")
    return answer(*await call(gateway, mode, "rules", request))


@router.get("/{tenant_id}/alerts/history")
async def history(
    tenant_id: str,
    gateway: GatewayDep,
    mode: ModeDep,
    _: Viewer,
    rule: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """Firing and resolved transitions, newest first."""
    request = AlertsRequest(tenant_id=tenant_id, rule=rule, limit=limit)
    return answer(*await call(gateway, mode, "history", request))


@router.get("/{tenant_id}/alerts/notifications")
async def notifications(
    tenant_id: str,
    gateway: GatewayDep,
    mode: ModeDep,
    _: Viewer,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """Every notification with each delivery attempt (secrets never shown)."""
    request = AlertsRequest(tenant_id=tenant_id, limit=limit)
    return answer(*await call(gateway, mode, "notifications", request))


@router.get("/{tenant_id}/alerts/export", response_class=PlainTextResponse)
async def export(
    tenant_id: str,
    gateway: GatewayDep,
    mode: ModeDep,
    _: Viewer,
    format: Literal["prometheus", "kubernetes"] = "prometheus",
) -> PlainTextResponse:
    """The rules as a Prometheus rule file or a PrometheusRule object (YAML)."""
    request = AlertsRequest(tenant_id=tenant_id, format=format)
    _status, data = await call(gateway, mode, "export", request)
    filename = f"{tenant_id}-{'prometheusrule' if format == 'kubernetes' else 'rules'}.yaml"
    return PlainTextResponse(
        data["content"],
        media_type="text/yaml",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.post("/{tenant_id}/alerts/silences", status_code=201)
async def create_silence(
    tenant_id: str,
    body: Annotated[dict[str, Any], Body()],
    gateway: GatewayDep,
    mode: ModeDep,
    _: Operator,
) -> JSONResponse:
    """`{matchers: [{name, value, op}], starts_at?, ends_at | duration, comment}`."""
    request = AlertsRequest(tenant_id=tenant_id, op="create", body=body)
    return answer(*await call(gateway, mode, "silences", request))


@router.get("/{tenant_id}/alerts/silences")
async def list_silences(
    tenant_id: str, gateway: GatewayDep, mode: ModeDep, _: Viewer
) -> JSONResponse:
    request = AlertsRequest(tenant_id=tenant_id, op="list")
    return answer(*await call(gateway, mode, "silences", request))


@router.delete("/{tenant_id}/alerts/silences/{silence_id}")
async def expire_silence(
    tenant_id: str, silence_id: str, gateway: GatewayDep, mode: ModeDep, _: Operator
) -> JSONResponse:
    """Expire a silence now (it stays listed, as `expired`)."""
    request = AlertsRequest(tenant_id=tenant_id, op="expire", key=silence_id)
    return answer(*await call(gateway, mode, "silences", request))


@router.get("/{tenant_id}/alerts/{rule}")
async def get_rule(
    tenant_id: str, rule: str, gateway: GatewayDep, mode: ModeDep, _: Viewer
) -> JSONResponse:
    """A rule by id or alert name, with its current state."""
    request = AlertsRequest(tenant_id=tenant_id, op="get", key=rule)
    return answer(*await call(gateway, mode, "rules", request))


@router.put("/{tenant_id}/alerts/{rule}")
async def replace_rule(
    tenant_id: str, rule: str, body: RuleJson, gateway: GatewayDep, mode: ModeDep, _: Operator
) -> JSONResponse:
    request = AlertsRequest(tenant_id=tenant_id, op="update", key=rule, body=body)
    return answer(*await call(gateway, mode, "rules", request))


@router.patch("/{tenant_id}/alerts/{rule}")
async def change_rule(
    tenant_id: str,
    rule: str,
    body: Annotated[dict[str, Any], Body()],
    gateway: GatewayDep,
    mode: ModeDep,
    _: Operator,
) -> JSONResponse:
    request = AlertsRequest(tenant_id=tenant_id, op="patch", key=rule, body=body)
    return answer(*await call(gateway, mode, "rules", request))


@router.delete("/{tenant_id}/alerts/{rule}")
async def delete_rule(
    tenant_id: str, rule: str, gateway: GatewayDep, mode: ModeDep, _: Operator
) -> JSONResponse:
    request = AlertsRequest(tenant_id=tenant_id, op="delete", key=rule)
    return answer(*await call(gateway, mode, "rules", request))
