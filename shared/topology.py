"""Which subjects exist, what travels on them, who sends and who listens: the source of the
AsyncAPI document the gateway serves at `/docs/asyncapi`."""

# No `from __future__ import annotations`: FastStream reads the handlers' real annotations.

import json
from dataclasses import dataclass
from typing import Any

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel

from shared.contracts.alerts import AlertTransition
from shared.contracts.deployments import (
    DeploymentFinished,
    DeploymentProgress,
    DeployTenant,
    RollbackTenant,
)
from shared.contracts.manifests import ManifestQuery, ManifestRendered
from shared.contracts.metrics import MetricBatch
from shared.contracts.sizing import EstimateRequest, TenantSized
from shared.contracts.tenants import (
    CreateTenant,
    DeleteTenant,
    TenantAccepted,
    TenantDeleted,
    TenantRejected,
    UpdateTenant,
)


@dataclass(frozen=True)
class Channel:
    subject: str  # `{mode}` is demo or prod, `{tenant}` a tenant id
    contract: type[BaseModel]
    sender: str
    listeners: tuple[str, ...]
    description: str


CMD, EVT = "ecp.{mode}.cmd.{tenant}", "ecp.{mode}.evt.{tenant}"
CHANNELS = (
    Channel(
        f"{CMD}.tenant.create",
        CreateTenant,
        "gateway",
        ("calculator",),
        "Create a tenant at revision n.",
    ),
    Channel(
        f"{CMD}.tenant.update",
        UpdateTenant,
        "gateway",
        ("calculator",),
        "Change a tenant's spec: revision n+1.",
    ),
    Channel(f"{CMD}.tenant.delete", DeleteTenant, "gateway", ("calculator",), "Delete a tenant."),
    Channel(
        f"{CMD}.deployment.deploy",
        DeployTenant,
        "gateway",
        ("deployer",),
        "Deploy a manifest revision.",
    ),
    Channel(
        f"{CMD}.deployment.rollback",
        RollbackTenant,
        "gateway",
        ("deployer",),
        "Roll back to an earlier revision.",
    ),
    Channel(
        f"{EVT}.tenant.accepted",
        TenantAccepted,
        "calculator",
        ("gateway",),
        "A spec revision was stored.",
    ),
    Channel(
        f"{EVT}.tenant.sized",
        TenantSized,
        "calculator",
        ("gateway", "manifest", "alerts", "monitor"),
        "The sizing of a spec revision.",
    ),
    Channel(
        f"{EVT}.tenant.rejected",
        TenantRejected,
        "calculator",
        ("gateway",),
        "The catalogue cannot meet a spec.",
    ),
    Channel(
        f"{EVT}.tenant.deleted",
        TenantDeleted,
        "calculator",
        ("gateway", "manifest", "deployer", "alerts"),
        "A tenant was deleted.",
    ),
    Channel(
        f"{EVT}.manifest.rendered",
        ManifestRendered,
        "manifest",
        ("deployer",),
        "The rendered objects of a revision.",
    ),
    Channel(
        f"{EVT}.deployment.progress",
        DeploymentProgress,
        "deployer",
        ("gateway",),
        "One step of a deployment.",
    ),
    Channel(
        f"{EVT}.deployment.succeeded",
        DeploymentFinished,
        "deployer",
        ("gateway", "monitor"),
        "A deployment finished; the tenant runs.",
    ),
    Channel(
        f"{EVT}.deployment.failed",
        DeploymentFinished,
        "deployer",
        ("gateway", "monitor"),
        "A deployment failed, with the reason.",
    ),
    Channel(
        f"{EVT}.deployment.rolled-back",
        DeploymentFinished,
        "deployer",
        ("gateway",),
        "A rollback finished.",
    ),
    Channel(
        f"{EVT}.alert.firing",
        AlertTransition,
        "alerts",
        ("gateway",),
        "An alert rule started firing.",
    ),
    Channel(
        f"{EVT}.alert.resolved", AlertTransition, "alerts", ("gateway",), "A firing alert resolved."
    ),
    Channel(
        "ecp.{mode}.metrics.{tenant}",
        MetricBatch,
        "gateway",
        ("monitor", "alerts", "gateway"),
        "Metric samples of one tenant, one message per pushed batch.",
    ),
    Channel(
        "ecp.{mode}.rpc.calculator.estimate",
        EstimateRequest,
        "gateway",
        ("calculator",),
        "Request/reply: size a requirement without storing it.",
    ),
    Channel(
        "ecp.{mode}.rpc.manifest.get",
        ManifestQuery,
        "gateway",
        ("manifest",),
        "Request/reply: a tenant's manifest in YAML or JSON.",
    ),
)


def _documenting_handler(contract: type[BaseModel]) -> Any:
    async def handler(body: Any) -> None:
        """Documentation only: never subscribed."""

    handler.__annotations__ = {"body": contract, "return": None}
    return handler


def asyncapi_specification() -> Any:
    broker = NatsBroker(apply_types=True)
    for channel in CHANNELS:
        text = f"{channel.description} Sent by {channel.sender}; read by {', '.join(channel.listeners)}."
        broker.subscriber(
            channel.subject.replace("{", "").replace("}", ""),
            description=text,
            title=f"{channel.subject}:{'+'.join(channel.listeners)}",
        )(_documenting_handler(channel.contract))
    spec = AsyncAPI(
        broker,
        title="ECP-AI Orchestrator subjects",
        version="1.0.0",
        description="Every NATS subject of the system. `mode` is demo or prod.",
    )
    return spec.to_specification()


def asyncapi_document() -> dict[str, Any]:
    return dict(json.loads(asyncapi_specification().to_json()))


def asyncapi_page() -> str:
    from faststream.specification import get_asyncapi_html

    return get_asyncapi_html(asyncapi_specification(), try_it_out_path=None)
