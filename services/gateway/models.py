"""The HTTP API's models, in the seed guide's field names."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.gateway.store import TenantRow
from shared.contracts.tenants import Preset, ServiceRequirements, SlaTarget, TenantSpec


class TenantCreate(TenantSpec):
    """`POST /tenants/`: the seed's body; `preset` is calculated when absent."""


class TenantUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    preset: Preset | None = None
    service_requirements: ServiceRequirements | None = None
    sla_target: SlaTarget | None = None
    gpu_type: str | None = Field(default=None, max_length=32)
    cloud: Literal["aws", "ncp"] | None = None
    auto_deploy: bool | None = None


class TenantPublic(BaseModel):
    tenant_id: str
    name: str
    preset: str | None
    status: str
    services_count: int
    cpu_limit: str | None
    memory_limit: str | None
    gpu_limit: int | None
    storage_limit: str | None
    gpu_type: str | None
    is_demo: bool
    revision: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: TenantRow, is_demo: bool) -> TenantPublic:
        return cls(
            tenant_id=row.tenant_id,
            name=row.name,
            preset=row.preset,
            status=row.status,
            services_count=sum(1 for count in row.service_requirements.values() if count),
            cpu_limit=row.cpu_limit,
            memory_limit=row.memory_limit,
            gpu_limit=row.gpu_limit,
            storage_limit=row.storage_limit,
            gpu_type=row.gpu_type,
            is_demo=is_demo,
            revision=row.revision,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class TenantDetail(TenantPublic):
    service_requirements: dict[str, int]
    sla_target: dict[str, Any]
    sized_revision: int
    last_error: str | None
    resources: dict[str, Any] | None = Field(description="the calculator's sizing of the tenant")

    @classmethod
    def of(cls, row: TenantRow, is_demo: bool) -> TenantDetail:
        return cls(
            **TenantPublic.of(row, is_demo).model_dump(),
            service_requirements=row.service_requirements,
            sla_target=row.sla_target,
            sized_revision=row.sized_revision,
            last_error=row.last_error,
            resources=row.resources,
        )


class TenantList(BaseModel):
    tenants: list[TenantPublic]
    total_count: int
    demo_count: int
    active_count: int


class TenantAcceptedReply(BaseModel):
    """The answer when the outcome did not arrive in time: the command is queued, not lost."""

    tenant_id: str
    status: str
    revision: int
    detail: str
