"""Tenant commands and events, and the requirement models the API and the calculator share."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.contracts.base import TenantMessage

# A tenant id becomes a namespace name (`ecp-ai-<id>`, at most 63 characters) and a NATS token.
TENANT_ID_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
TENANT_ID_MAX_LENGTH = 56
MAX_UNITS_PER_SERVICE = 100_000

SERVICE_NAMES = ("callbot", "chatbot", "advisor", "stt", "tts", "ta", "qa")
Preset = Literal["micro", "small", "medium", "large"]
PRESETS: tuple[Preset, ...] = ("micro", "small", "medium", "large")
TenantStatus = Literal["pending", "deploying", "running", "failed", "deleting", "rejected"]


def check_tenant_id(value: str) -> str:
    if len(value) > TENANT_ID_MAX_LENGTH or not TENANT_ID_PATTERN.match(value):
        raise ValueError(
            "tenant_id must be a DNS-1123 label: lower-case letters, digits and '-', "
            f"starting and ending with a letter or digit, at most {TENANT_ID_MAX_LENGTH} characters"
        )
    return value


TenantId = Annotated[str, AfterValidator(check_tenant_id)]
Units = Annotated[int, Field(ge=0, le=MAX_UNITS_PER_SERVICE)]


class ServiceRequirements(BaseModel):
    """Concurrent units per AI service; absent means zero."""

    model_config = ConfigDict(extra="forbid")

    callbot: Units = 0
    chatbot: Units = 0
    advisor: Units = 0
    stt: Units = 0
    tts: Units = 0
    ta: Units = 0
    qa: Units = 0

    def nonzero(self) -> dict[str, int]:
        return {name: count for name, count in self.model_dump().items() if count}


class SlaTarget(BaseModel):
    """The seed's SLA block: free-form strings such as "99.9%" and "200ms"."""

    model_config = ConfigDict(extra="allow")

    availability: str | None = None
    response_time: str | None = None
    concurrent_users: int | None = Field(default=None, ge=0)


class TenantSpec(BaseModel):
    """What an operator asks for; the calculator sizes it."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: TenantId
    name: str = Field(min_length=1, max_length=200)
    preset: Preset | None = None
    service_requirements: ServiceRequirements
    sla_target: SlaTarget = Field(default_factory=SlaTarget)
    gpu_type: str = Field(default="auto", max_length=32)
    cloud: Literal["aws", "ncp"] | None = None
    auto_deploy: bool | None = None


class CreateTenant(TenantMessage):
    spec: TenantSpec


class UpdateTenant(TenantMessage):
    spec: TenantSpec


class DeleteTenant(TenantMessage):
    pass


class TenantAccepted(TenantMessage):
    spec: TenantSpec


class TenantRejected(TenantMessage):
    code: str
    reason: str


class TenantDeleted(TenantMessage):
    pass
