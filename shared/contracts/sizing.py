"""The calculator's answer: resources per service, GPUs per role, quota, cost and the trail behind them.

CPU is in millicores and memory in MiB throughout; the API and the manifests format them as
Kubernetes quantities (`500m`, `1Gi`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import TenantMessage
from shared.contracts.tenants import Preset, ServiceRequirements, SlaTarget

GpuRole = Literal["tts", "nlp", "aicm"]
WorkloadKind = Literal["app", "gpu", "batch"]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resources(Frozen):
    cpu_millicores: int = Field(ge=0)
    memory_mib: int = Field(ge=0)
    gpus: int = Field(default=0, ge=0)


class Autoscaling(Frozen):
    min_replicas: int = Field(ge=1)
    max_replicas: int = Field(ge=1)
    cpu_target_percent: int = Field(ge=1, le=100)


class GpuPlacement(Frozen):
    """Where a GPU pod may run: from the catalogue's GPU profile."""

    gpu_type: str
    node_selector: dict[str, str]
    tolerations: list[dict[str, str]]


class ServiceSizing(Frozen):
    """One workload of the tenant: an AI service (callbot, stt, ...) or a GPU back end (tts, nlp, aicm)."""

    service: str
    kind: WorkloadKind
    port: int
    image: str
    replicas: int = Field(ge=0)
    autoscaling: Autoscaling | None
    requests: Resources  # per pod
    limits: Resources  # per pod
    gpu: GpuPlacement | None = None
    schedule: str | None = None  # cron, for batch workloads
    load: dict[str, float] = Field(default_factory=dict)  # the units that drove this size


class GpuRoleSizing(Frozen):
    role: GpuRole
    gpu_type: str
    gpus: int = Field(ge=0)
    load: float = Field(ge=0)  # channels for tts, queries/s at peak for nlp and aicm
    load_unit: str
    capacity_per_gpu: float


class Quota(Frozen):
    cpu_limit: str  # "45000m"
    memory_limit: str  # "64Gi"
    gpu_limit: int
    storage_limit: str  # "1Ti"
    cpu_millicores: int
    memory_mib: int
    storage_gib: int


class InstanceChoice(Frozen):
    name: str
    count: int
    vcpus: int
    memory_gib: int
    gpus: int
    gpu_model: str | None
    monthly_price: float
    purpose: str


class CloudEstimate(Frozen):
    cloud: Literal["aws", "ncp"]
    currency: str
    instances: list[InstanceChoice]
    instances_total: float
    management_fee: float
    total: float
    total_usd: float


class CostEstimate(Frozen):
    currency: Literal["USD"] = "USD"
    hours_per_month: float
    gpu_hours: float
    gpu_monthly: float
    cpu_cores: float
    cpu_monthly: float
    total_monthly: float
    cloud: CloudEstimate | None = None


class ExplainStep(Frozen):
    """One traced figure: what it is, how it was computed, from which inputs."""

    figure: str
    formula: str
    inputs: dict[str, float | int | str]
    result: float | int | str


class SizingRequest(Frozen):
    service_requirements: ServiceRequirements
    preset: Preset | None = None
    gpu_type: str = "auto"
    cloud: Literal["aws", "ncp"] | None = None
    sla_target: SlaTarget = Field(default_factory=SlaTarget)


class AlertThresholds(Frozen):
    cpu_percent: float
    memory_percent: float
    gpu_percent: float
    disk_percent: float
    response_time_ms: float


class Sla(Frozen):
    availability_percent: float
    response_time_ms: float


class SizingResult(Frozen):
    preset: Preset
    preset_requested: Preset | None
    warnings: list[str]
    services: list[ServiceSizing]  # only services with a non-zero load
    gpus: list[GpuRoleSizing]  # one per role, zero GPUs where the role has no load
    gpu_type: str
    gpu_type_reason: str
    total_requests: Resources  # sum over pods at their minimum replica count
    total_limits: Resources  # sum over pods at their maximum replica count
    quota: Quota
    sla: Sla
    alert_thresholds: AlertThresholds
    cost: CostEstimate
    explain: list[ExplainStep]
    catalogue_version: str


class TenantSized(TenantMessage):
    sizing: SizingResult
    # What the manifest needs of the spec, so it reads nothing but this event: the tenant's
    # name and auto-deploy setting (None: the mode's default). A calculator older than these
    # fields sent neither (name None).
    name: str | None = None
    auto_deploy: bool | None = None


class EstimateRequest(BaseModel):
    """The rpc body for `calculator.estimate`."""

    model_config = ConfigDict(extra="forbid")

    request: SizingRequest


class EstimateReply(BaseModel):
    ok: bool
    sizing: SizingResult | None = None
    code: str | None = None
    reason: str | None = None
